"""Plate search and face search by photo: a reason each, through the access gate (`safecity.search`),
recorded before results are shown; results shown as people read them: face cards (the face, the
camera, the time, the score in words, links to the camera's recording and clip) and large plate
crops that enlarge, each with its alert and an evidence export where one was raised."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from safecity.analytics.image_header import ImageLimits
from safecity.governance.access import AccessDenied, Caller, ReasonRequired
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.search.plates import search_plates_gated
from safecity.server.context import ApiContext
from safecity.server.problems import PayloadTooLarge, UnsupportedMedia
from safecity.server.uploads import image_suffix, read_upload
from safecity.server.web.common import (
    context_of,
    forbidden,
    guard,
    guard_post,
    parse_time,
    render,
    visible_cameras,
)
from safecity.server.web.pages.alerts import face_verdict
from safecity.server.web.pages.cameras import TIMELINE_HOURS
from safecity.store.cameras import CameraStore
from safecity.store.models import AlertRow, utcnow
from safecity.store.plate_search import PlateQuery, PlateSearchHit, SearchMode
from safecity.types import FaceSearchHit

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class FaceCard:
    """One face search result as the page shows it."""

    sighting_id: str
    camera_id: str
    camera_name: str
    at: datetime
    distance: float
    match: bool
    words: str
    """The score as a share of strangers, in words."""
    has_image: bool
    camera_href: str
    clip_href: str
    """Recorded video around the sighting, where the camera recorded it ("" if none)."""
    alert_id: str


@dataclass(frozen=True, slots=True)
class PlateRow:
    hit: PlateSearchHit
    camera_name: str
    alert_id: str


def _camera_href(camera_id: str, at: datetime) -> str:
    """The camera's page with the shortest timeline that still shows `at`."""
    age_h = (utcnow() - at).total_seconds() / 3600
    hours = next((h for h in TIMELINE_HOURS if age_h <= int(h)), "")
    return f"/cameras/{camera_id}" + (f"?hours={hours}" if hours else "")


def _clip_href(ctx: ApiContext, caller: Caller, camera_id: str, at: datetime) -> str:
    if not caller.can(Permission.VIEW_OBSERVATIONS, camera_id):
        return ""
    since, until = ctx.settings.recording.alert_span(at)
    if not ctx.recordings.segments(camera_id, since, until, limit=1):
        return ""
    query = urlencode({"since": since.isoformat(), "until": until.isoformat()})
    return f"/api/v1/cameras/{camera_id}/video.mp4?{query}"


def _alerts_of(ctx: ApiContext, observation_ids: Sequence[str]) -> dict[str, str]:
    """The alert raised on each observation, if any (ids only: the caller's search already read them)."""
    if not observation_ids:
        return {}
    with ctx.db.read_session() as session:
        rows = session.execute(
            select(AlertRow.observation_id, AlertRow.id).where(
                AlertRow.observation_id.in_(list(observation_ids))
            )
        )
        return {str(o): str(a) for o, a in rows}


def face_cards(ctx: ApiContext, caller: Caller, hits: Sequence[FaceSearchHit]) -> list[FaceCard]:
    names = {c.id: c.name for c in CameraStore(ctx.db).all()}
    threshold = ctx.settings.faces.match_threshold
    alerts = _alerts_of(ctx, [h.sighting_id for h in hits])
    cards = []
    for h in hits:
        evidence = {"distance": h.distance, "method": "distance", "threshold": threshold}
        words, _ = face_verdict(ctx.settings, evidence)
        cards.append(
            FaceCard(
                h.sighting_id,
                h.camera_id,
                names.get(h.camera_id, h.camera_id),
                h.timestamp,
                h.distance,
                h.distance <= threshold,
                words,
                bool(h.snapshot),
                _camera_href(h.camera_id, h.timestamp),
                _clip_href(ctx, caller, h.camera_id, h.timestamp),
                alerts.get(h.sighting_id, ""),
            )
        )
    return cards


def _search_page(request: Request, caller: Caller, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = context_of(request)
    cameras = visible_cameras(caller, CameraStore(ctx.db).all())
    form: Mapping[str, Any] = values.pop("form", {})
    return render(
        request,
        "search.html",
        caller,
        status=status,
        cameras=cameras,
        modes=[m.value for m in SearchMode],
        form=form,
        min_reason=ctx.gate.min_reason_len,
        **values,
    )


@router.get("/search")
def plate_search_form(request: Request) -> Response:
    caller = guard(request, Permission.SEARCH_PLATE, action=AuditAction.SEARCH_PLATE)
    if isinstance(caller, Response):
        return caller
    return _search_page(request, caller)


@router.post("/search")
def plate_search(
    request: Request,
    plate: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = "",
    cameras: Annotated[list[str] | None, Form()] = None,
    since: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    caller = guard_post(request, Permission.SEARCH_PLATE, action=AuditAction.SEARCH_PLATE)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    chosen = [c for c in (cameras or []) if c]
    form = {"plate": plate, "mode": mode, "cameras": chosen, "since": since, "until": until, "reason": reason}
    most = ctx.settings.api.max_list_items
    if len(chosen) > most:  # as the API refuses it: a huge list would be a huge audit entry
        return _search_page(
            request,
            caller,
            422,
            form={**form, "cameras": []},
            error=f"At most {most} cameras may be chosen (api.max_list_items), not {len(chosen)}. "
            "Nothing was searched.",
        )
    if not reason.strip():
        return _search_page(
            request,
            caller,
            422,
            form=form,
            error="A reason is required for every search (case number, purpose): it is recorded in the "
            "audit log. Nothing was searched.",
        )
    known = {c.id for c in CameraStore(ctx.db).all()}
    try:
        unknown = [c for c in chosen if c not in known]
        if unknown:
            raise ValueError(
                f"unknown cameras: {', '.join(unknown[:5])}" + (" ..." if len(unknown) > 5 else "")
            )
        query = PlateQuery.parse(
            plate,
            SearchMode(mode) if mode else None,
            camera_ids=chosen,
            since=parse_time("since", since),
            until=parse_time("until", until),
            limit=ctx.settings.search.default_limit,
        )
    except ValueError as exc:
        return _search_page(request, caller, 400, form=form, error=str(exc))
    try:
        result = search_plates_gated(
            ctx.gate, caller, query, reason, {"query": plate, "mode": mode or None, "via": "web"}
        )
    except ReasonRequired as exc:
        return _search_page(request, caller, 422, form=form, error=str(exc))
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    names = {c.id: c.name for c in CameraStore(ctx.db).all()}
    alerts = _alerts_of(ctx, [h.id for h in result.hits])
    return _search_page(
        request,
        caller,
        form=form,
        hits=[PlateRow(h, names.get(h.camera_id, h.camera_id), alerts.get(h.id, "")) for h in result.hits],
        audit_seq=result.audit_seq,
        searched=query.plate,
        mode=query.mode,
    )


def _face_page(request: Request, caller: Caller, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = context_of(request)
    cameras = visible_cameras(caller, CameraStore(ctx.db).all())
    return render(
        request,
        "faces.html",
        caller,
        status=status,
        cameras=cameras,
        min_reason=ctx.gate.min_reason_len,
        threshold=ctx.settings.faces.match_threshold,
        form=values.pop("form", {}),
        **values,
    )


@router.get("/search/faces")
def face_search_form(request: Request) -> Response:
    caller = guard(request, Permission.SEARCH_FACE, action=AuditAction.SEARCH_FACE)
    if isinstance(caller, Response):
        return caller
    return _face_page(request, caller)


@router.post("/search/faces")
def face_search(
    request: Request,
    photo: Annotated[UploadFile | None, File()] = None,
    reason: Annotated[str, Form()] = "",
    cameras: Annotated[list[str] | None, Form()] = None,
    since: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
) -> Response:
    from safecity.analytics.faces.analyser import FacePhotoError
    from safecity.search.faces import FaceQuery, FaceSearch, FaceSearchError

    caller = guard_post(request, Permission.SEARCH_FACE, action=AuditAction.SEARCH_FACE)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    chosen = [c for c in (cameras or []) if c]
    form = {"reason": reason, "cameras": chosen, "since": since, "until": until}
    if len(reason.strip()) < ctx.gate.min_reason_len:
        return _face_page(
            request,
            caller,
            422,
            form=form,
            error=f"A reason of at least {ctx.gate.min_reason_len} characters is required for a face "
            "search (case number, purpose): it is recorded in the audit log. Nothing was searched.",
        )
    s = ctx.settings
    try:
        start, end = parse_time("since", since), parse_time("until", until)
        if photo is None or not photo.filename:
            raise ValueError("choose a photo of the person sought (one face, JPEG or PNG)")
        data = read_upload(photo.file, s.api.max_upload_bytes)
        limits = ImageLimits.of(s.api)
        suffix = image_suffix(photo.content_type, data, limits)
    except ValueError as exc:
        # The API's statuses: an oversize upload or an image bomb is a 413, a file that is no image a 415.
        status = {PayloadTooLarge: 413, UnsupportedMedia: 415}.get(type(exc), 400)
        return _face_page(request, caller, status, form=form, error=str(exc))
    try:
        result = FaceSearch(ctx.analyser(), ctx.face_index(), ctx.gate, limits).upload(
            data, suffix, caller, FaceQuery(reason, s.faces.search_default_k, chosen, start, end)
        )
    except (FacePhotoError, FaceSearchError, ReasonRequired) as exc:
        return _face_page(request, caller, 422, form=form, error=str(exc))
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    return _face_page(
        request,
        caller,
        form=form,
        result=result,
        cards=face_cards(ctx, caller, result.hits),
    )
