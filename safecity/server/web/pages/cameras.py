"""The dashboard (live alerts, camera states, reads and alerts per hour), a camera's page, and
the snapshots the pages show."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from safecity.governance.access import AccessDenied
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.server.web import charts
from safecity.server.web import wall as wall_of
from safecity.server.web.common import (
    LIST_LIMIT,
    camera_states,
    context_of,
    error_page,
    forbidden,
    guard,
    render,
    visible_cameras,
    web_caller,
)
from safecity.server.web.pages.alert_list import KIND_WORDS
from safecity.server.web.timeline import build as build_timeline
from safecity.store.cameras import CameraStore, CameraStoreError
from safecity.store.models import FaceSightingRow, PlateReadRow, utcnow
from safecity.store.observation_pages import (
    alert_page,
    face_match_alert_of,
    face_sighting_page,
    plate_read_page,
)
from safecity.store.traffic import motion_spans
from safecity.types import RecordingMode

router = APIRouter(include_in_schema=False)
TIMELINE_HOURS = ("1", "6", "24")
"""The spans a camera page's timeline can show (`?hours=`): a day, and closer looks at the latest."""


@router.get("/")
def dashboard(request: Request, wall: str = wall_of.DEFAULT_LAYOUT, first: str = "0") -> Response:
    caller = guard(request)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    now = utcnow()
    every = CameraStore(ctx.db).all()
    cameras = visible_cameras(caller, every)
    states = camera_states(ctx)
    try:
        live_wall = wall_of.build(wall_of.watchable(caller, every), states, wall, wall_of.parse_first(first))
    except ValueError as exc:
        return error_page(request, caller, 400, "Bad request", str(exc))
    limit = None if caller.camera_ids is None else sorted(caller.camera_ids)
    with ctx.db.session() as session:
        reads_end = charts.latest_reads(session, now, limit)
        chart = charts.hourly_chart(charts.hourly_counts(session, reads_end, limit), reads_end)
        traffic_end = charts.latest_traffic(session, now, limit)
        traffic = charts.hourly_chart(charts.traffic_counts(session, traffic_end, limit), traffic_end)
    recent = []
    if caller.can(Permission.VIEW_OBSERVATIONS):
        with ctx.gate.read(
            caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details={"what": "dashboard"}
        ) as read:
            recent = alert_page(read.session, camera_ids=read.cameras, limit=LIST_LIMIT)
            read.record([a.alert.id for a in recent])
    return render(
        request,
        "dashboard.html",
        caller,
        chart=chart,
        traffic=traffic,
        traffic_end=traffic_end,
        reads_end=reads_end if reads_end != now else None,
        recent=recent,
        cameras=[(c, states.get(c.id, "unknown") if c.enabled else "disabled") for c in cameras],
        wall=live_wall if caller.can(Permission.VIEW_LIVE) else None,
        kind_words=KIND_WORDS,
        layouts=list(wall_of.LAYOUTS),
    )


@router.get("/cameras/{camera_id}")
def camera_page(camera_id: str, request: Request, hours: str = "24") -> Response:
    caller = guard(request)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    if hours not in TIMELINE_HOURS:
        message = f"the timeline shows the last {', '.join(TIMELINE_HOURS)} hours, not {hours[:20]!r}"
        return error_page(request, caller, 400, "Bad request", message)
    span = timedelta(hours=int(hours))
    try:
        camera = CameraStore(ctx.db).get(camera_id)
    except CameraStoreError:
        return error_page(request, caller, 404, "Not found", f"no camera with id {camera_id!r}")
    site = next((s for s in CameraStore(ctx.db).sites() if s.id == camera.site_id), None)
    plates: list[PlateReadRow] = []
    faces: list[tuple[FaceSightingRow, bool, bool]] = []
    alerts = []
    shown = caller.can(Permission.VIEW_OBSERVATIONS)
    timeline = None
    if shown:
        try:
            with ctx.gate.read(
                caller,
                AuditAction.VIEW_SIGHTING,
                Permission.VIEW_OBSERVATIONS,
                cameras=[camera.id],
                details={"what": "camera page"},
            ) as read:
                plates = plate_read_page(read.session, camera_ids=read.cameras, limit=LIST_LIMIT)
                for s in face_sighting_page(read.session, camera_ids=read.cameras, limit=LIST_LIMIT):
                    matched = face_match_alert_of(read.session, s.row.id) is not None
                    # A matched face is stored unblurred: shown only to those who may confirm matches.
                    faces.append((s.row, matched, not matched or caller.can(Permission.CONFIRM_MATCH)))
                alerts = alert_page(read.session, camera_ids=read.cameras, limit=LIST_LIMIT)
                now = ctx.gate.clock()
                moved = motion_spans(read.session, camera.id, now - span, now)
                read.record(
                    [r.id for r in plates] + [f[0].id for f in faces] + [a.alert.id for a in alerts],
                    camera_id=camera.id,
                )
        except AccessDenied as exc:
            return forbidden(request, caller, exc)
        events = [("plate", r.ts) for r in plates] + [("face", f[0].ts) for f in faces]
        events += [("alert", a.alert.timestamp) for a in alerts]
        segments = ctx.recordings.segments(camera.id, now - span, now)
        if segments or camera.recording is not RecordingMode.NONE:
            timeline = build_timeline(
                segments,
                events,
                now,
                motion=moved,
                hours=int(hours),
                clip_s=min(300.0, ctx.settings.recording.max_clip_s),
            )
    return render(
        request,
        "camera.html",
        caller,
        camera=camera,
        site=site,
        state=camera_states(ctx).get(camera.id, "unknown") if camera.enabled else "disabled",
        shown=shown,
        live=bool(camera.stream_url) and camera.enabled and caller.can(Permission.VIEW_LIVE, camera.id),
        timeline=timeline,
        timeline_hours=TIMELINE_HOURS,
        plates=plates,
        faces=faces,
        alerts=alerts,
    )


@router.get("/snapshots/{kind}/{observation_id}")
def snapshot(kind: str, observation_id: str, request: Request) -> Response:
    """A plate read's or face sighting's stored snapshot, through the gate (`view_observations`; recorded)."""
    caller = web_caller(request)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if caller is None:
        return Response("log in first", status_code=401, headers=headers)
    if kind not in ("plates", "faces"):
        return Response("no such kind", status_code=404, headers=headers)
    ctx = context_of(request)
    try:
        with ctx.gate.read(
            caller,
            AuditAction.VIEW_SIGHTING,
            Permission.VIEW_OBSERVATIONS,
            details={"what": f"{kind} snapshot"},
        ) as read:
            row: PlateReadRow | FaceSightingRow | None = (
                read.session.get(PlateReadRow, observation_id)
                if kind == "plates"
                else read.session.get(FaceSightingRow, observation_id)
            )
            if row is None:
                raise LookupError(f"no {kind} observation {observation_id}")
            if not read.visible(row.camera_id):
                raise ctx.gate.deny(caller, AuditAction.VIEW_SIGHTING, f"camera {row.camera_id} is outside")
            if kind == "faces" and not caller.can(Permission.CONFIRM_MATCH):
                alert_id = face_match_alert_of(read.session, row.id)
                if alert_id is not None:
                    raise ctx.gate.deny(
                        caller,
                        AuditAction.VIEW_SIGHTING,
                        f"sighting {row.id} matched a watchlist (alert {alert_id}); its unblurred face "
                        f"is shown only to roles with {Permission.CONFIRM_MATCH}",
                    )
            path = ctx.media.path(row.snapshot) if row.snapshot else None
            if path is None or not path.is_file():
                raise LookupError(f"{kind} observation {observation_id} has no snapshot")
            data = path.read_bytes()
            read.record([row.id], what="snapshot", kind=kind, camera_id=row.camera_id)
    except AccessDenied as exc:
        return Response(str(exc), status_code=403, headers=headers)
    except (LookupError, ValueError) as exc:
        return Response(str(exc), status_code=404, headers=headers)
    return Response(data, media_type="image/jpeg", headers=headers)
