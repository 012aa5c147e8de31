"""Video: a camera's live view, its recorded spans, playback of a span, and an alert's clip.

Watching video is a read of personal data. Live view needs `view_live`, recorded video
`view_observations`, and both the camera within the caller's limits (refused and recorded
otherwise). Every view leaves a `view_video` entry: a live view one when it starts and one when it
ends (with from, to and bytes sent), a recorded clip one when it is made for the viewer (the
player's range requests and seeks reuse that clip for `recording.clip_cache_s` without a new
entry). Listing the recorded spans shows no images and is not recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from safecity.governance.access import AccessDenied, Caller
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.server.api.routes.observations import aware
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut
from safecity.server.context import ApiContext
from safecity.server.problems import BadRequest, NotFound, Unavailable
from safecity.server.security import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    Context,
    CurrentCaller,
    websocket_caller,
)
from safecity.store.cameras import CameraStore, CameraStoreError
from safecity.store.models import AlertRow
from safecity.store.recordings import Segment
from safecity.types import Camera
from safecity.video.clips import Clip, NoVideo, write_clip
from safecity.video.hub import NoStream, TooManyViewers
from safecity.video.live import Viewer

router = APIRouter(tags=["video"], responses=PROBLEM_RESPONSES)

MP4 = "video/mp4"
VIDEO_RESPONSE: dict[int | str, dict[str, object]] = {
    200: {"content": {MP4: {}}, "description": "The video (MP4)"}
}
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
CLOSE_NOT_FOUND = 4404
CLOSE_TRY_AGAIN_LATER = 1013


class RecordingSpan(DomainOut):
    id: str
    start: datetime
    end: datetime
    mode: str


class RecordedSpans(BaseModel):
    camera_id: str
    since: datetime
    until: datetime
    spans: list[RecordingSpan]


def _camera(ctx: ApiContext, camera_id: str) -> Camera:
    try:
        return CameraStore(ctx.db).get(camera_id)
    except (LookupError, CameraStoreError) as exc:  # the store's "no camera with id"
        raise NotFound(f"no camera with id {camera_id!r}") from exc


def _span(ctx: ApiContext, since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    start, end = aware("since", since), aware("until", until)
    if start is None or end is None:
        raise BadRequest("give both since and until (ISO 8601 with UTC offset)")
    if end <= start:
        raise BadRequest(f"until ({end.isoformat()}) must be after since ({start.isoformat()})")
    most = ctx.settings.recording.max_clip_s
    if (end - start).total_seconds() > most:
        raise BadRequest(f"at most {most:g} s of video at once (recording.max_clip_s)")
    return start, end


def _open_live(ctx: ApiContext, caller: Caller, camera_id: str) -> Viewer:
    """A viewer of the camera's live view, once the gate let the caller in (recorded)."""
    camera = _camera(ctx, camera_id)
    assert ctx.video is not None
    with ctx.gate.read(
        caller, AuditAction.VIEW_VIDEO, Permission.VIEW_LIVE, cameras=[camera_id], details={"video": "live"}
    ) as read:
        read.record([camera_id])
    try:
        return ctx.video.live(camera)
    except NoStream as exc:
        raise NotFound(str(exc)) from exc
    except TooManyViewers as exc:
        raise Unavailable(str(exc)) from exc


def _ended(ctx: ApiContext, caller: Caller, camera_id: str, started: datetime, sent: int) -> None:
    assert ctx.video is not None
    ctx.video.left(camera_id)
    ctx.gate.audit.record(
        AuditAction.VIEW_VIDEO,
        username=caller.username,
        role=caller.role,
        target=camera_id,
        details={
            "video": "live",
            "ended": True,
            "from": started.isoformat(),
            "to": ctx.gate.clock().isoformat(),
            "bytes": sent,
        },
    )


async def _live_chunks(
    ctx: ApiContext, caller: Caller, camera_id: str, viewer: Viewer
) -> AsyncIterator[bytes]:
    """The viewer's MP4 bytes until the camera stalls, the view is `live_max_s` old or the viewer
    leaves; then the view's end is recorded (also when the viewer's connection was cut)."""
    settings = ctx.settings.recording
    started = ctx.gate.clock()
    sent = 0
    try:
        async for chunk in viewer.achunks(settings.stall_timeout_s):
            sent += len(chunk)
            yield chunk
            if (ctx.gate.clock() - started).total_seconds() > settings.live_max_s:
                break
    finally:
        with anyio.CancelScope(shield=True):  # a cut connection cancels us: still record the end
            await run_in_threadpool(_ended, ctx, caller, camera_id, started, sent)


@router.get(
    "/cameras/{camera_id}/live.mp4",
    response_class=StreamingResponse,
    responses={**VIDEO_RESPONSE, 503: {"description": "The camera has too many viewers"}},
)
def live_video(camera_id: str, ctx: Context, caller: CurrentCaller) -> StreamingResponse:
    """The camera's live view as fragmented MP4 (`view_live`; recorded when it starts and when it
    ends), for players that read a stream over HTTP. Nothing is re-encoded: every viewer shares one
    remux. The web UI uses the WebSocket `/cameras/{camera_id}/live` instead: a browser opens only
    six HTTP connections to one server, fewer than a camera wall needs."""
    viewer = _open_live(ctx, caller, camera_id)
    return StreamingResponse(_live_chunks(ctx, caller, camera_id, viewer), media_type=MP4, headers=NO_STORE)


@router.websocket("/cameras/{camera_id}/live")
async def live_video_socket(websocket: WebSocket, camera_id: str) -> None:
    """The camera's live view over a WebSocket: binary messages of fragmented MP4, the same bytes
    as `live.mp4` (`view_live`; recorded when it starts and when it ends). A refusal closes the
    socket after accepting it, with the reason, so that the page can say why: 4401 (log in), 4403
    (not allowed; recorded), 4404 (no such camera or no stream), 1013 (too many viewers)."""
    ctx = websocket.app.state.context
    assert isinstance(ctx, ApiContext)
    caller = await run_in_threadpool(websocket_caller, ctx, websocket)
    await websocket.accept()
    if caller is None:
        await websocket.close(CLOSE_UNAUTHENTICATED, "log in first")
        return
    try:
        viewer = await run_in_threadpool(_open_live, ctx, caller, camera_id)
    except AccessDenied as exc:
        await websocket.close(CLOSE_FORBIDDEN, _reason(str(exc)))
        return
    except NotFound as exc:
        await websocket.close(CLOSE_NOT_FOUND, _reason(str(exc)))
        return
    except Unavailable as exc:
        await websocket.close(CLOSE_TRY_AGAIN_LATER, _reason(str(exc)))
        return
    left = False
    async with anyio.create_task_group() as tasks:

        async def until_the_viewer_leaves() -> None:
            # Sending alone notices a closed page only when a send fails (and the server's log
            # fills with failed sends meanwhile); reading notices it at once.
            nonlocal left
            with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
            left = True
            tasks.cancel_scope.cancel()

        tasks.start_soon(until_the_viewer_leaves)
        try:
            async for chunk in _live_chunks(ctx, caller, camera_id, viewer):
                await websocket.send_bytes(chunk)
        except (WebSocketDisconnect, OSError):  # uvicorn's ClientDisconnected is an OSError
            left = True
        tasks.cancel_scope.cancel()
    if not left:
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
            await websocket.close(CLOSE_TRY_AGAIN_LATER, "the camera's stream ended")


def _reason(text: str) -> str:
    """A close reason fits in 123 bytes of UTF-8."""
    data = text.encode()
    return text if len(data) <= 123 else data[:120].decode(errors="ignore") + "…"


@router.get("/cameras/{camera_id}/recordings", response_model=RecordedSpans)
def recorded_spans(
    camera_id: str,
    ctx: Context,
    caller: CurrentCaller,
    since: Annotated[
        datetime | None, Query(description="From (ISO 8601 with offset); default: a day ago.")
    ] = None,
    until: Annotated[datetime | None, Query(description="To (ISO 8601 with offset); default: now.")] = None,
) -> RecordedSpans:
    """The spans a camera recorded (`view_observations`, the camera within the caller's limits)."""
    _camera(ctx, camera_id)
    if not caller.can(Permission.VIEW_OBSERVATIONS, camera_id):
        raise ctx.gate.deny(caller, "list recordings", f"camera {camera_id} is outside its limits or role")
    end = aware("until", until) or ctx.gate.clock()
    start = aware("since", since) or end - timedelta(days=1)
    if end <= start:
        raise BadRequest(f"until ({end.isoformat()}) must be after since ({start.isoformat()})")
    segments = ctx.recordings.segments(camera_id, start, end)
    return RecordedSpans(
        camera_id=camera_id, since=start, until=end, spans=[RecordingSpan.of(s) for s in segments]
    )


@router.get("/cameras/{camera_id}/video.mp4", response_class=FileResponse, responses=VIDEO_RESPONSE)
def recorded_video(
    camera_id: str,
    ctx: Context,
    caller: CurrentCaller,
    since: Annotated[datetime | None, Query(description="From (ISO 8601 with offset).")] = None,
    until: Annotated[datetime | None, Query(description="To (ISO 8601 with offset).")] = None,
) -> FileResponse:
    """Recorded video of a span as one MP4 that plays and seeks across segments
    (`view_observations`; recorded once per viewer and span)."""
    _camera(ctx, camera_id)
    if not caller.can(Permission.VIEW_OBSERVATIONS, camera_id):  # before the span: refused is 403
        raise ctx.gate.deny(
            caller, AuditAction.VIEW_VIDEO, f"camera {camera_id} is outside its limits or role"
        )
    start, end = _span(ctx, since, until)
    clip = _clip(ctx, caller, camera_id, start, end, what="recorded")
    return _file(clip)


@router.get("/alerts/{alert_id}/clip.mp4", response_class=FileResponse, responses=VIDEO_RESPONSE)
def alert_clip(alert_id: str, ctx: Context, caller: CurrentCaller) -> FileResponse:
    """The recorded video around an alert, `recording.pre_s` before to `post_s` after it
    (`view_observations`; recorded once per viewer)."""
    if not caller.can(Permission.VIEW_OBSERVATIONS):
        raise ctx.gate.deny(caller, AuditAction.VIEW_VIDEO, f"the role {caller.role} lacks view_observations")
    with ctx.db.read_session() as session:
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise NotFound(f"no alert with id {alert_id!r}")
        camera_id, at = row.camera_id, row.ts
    if not caller.can(Permission.VIEW_OBSERVATIONS, camera_id):
        raise ctx.gate.deny(caller, AuditAction.VIEW_VIDEO, f"camera {camera_id} is outside its limits")
    start, end = ctx.settings.recording.alert_span(at)
    clip = _clip(ctx, caller, camera_id, start, end, what="alert", alert_id=alert_id)
    return _file(clip)


def _clip(
    ctx: ApiContext,
    caller: Caller,
    camera_id: str,
    start: datetime,
    end: datetime,
    *,
    what: str,
    alert_id: str = "",
) -> Clip:
    assert ctx.clips is not None
    key = (caller.username, camera_id, start.isoformat(), end.isoformat())
    cached = ctx.clips.get(*key)
    if cached is not None:
        return Clip(cached, start, end, 0)
    details = {"video": what, "from": start.isoformat(), "to": end.isoformat()}
    if alert_id:
        details["alert"] = alert_id
    with ctx.gate.read(
        caller, AuditAction.VIEW_VIDEO, Permission.VIEW_OBSERVATIONS, cameras=[camera_id], details=details
    ) as read:
        segments: list[Segment] = ctx.recordings.segments(camera_id, start, end)
        try:
            clip = ctx.clips.make(lambda out: write_clip(ctx.recordings, segments, start, end, out), *key)
        except NoVideo as exc:
            raise NotFound(f"camera {camera_id}: {exc}") from exc
        read.record(
            [s.id for s in segments], clip_start=clip.start.isoformat(), clip_end=clip.end.isoformat()
        )
    return clip


def _file(clip: Clip) -> FileResponse:
    # FileResponse answers Range requests: the player seeks without fetching the whole clip.
    return FileResponse(clip.path, media_type=MP4, headers=NO_STORE)
