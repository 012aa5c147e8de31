"""The pages of the web UI, one handler each, all on one router (left out of the OpenAPI schema).

Who may see what is decided by the same permission table and access gate as the API: a page that
shows personal data opens `ctx.gate.read(...)` and renders inside it, so its audit entry is
written before the page is sent; a role that lacks the permission gets a 403 page (and the
refusal is recorded), a visitor who is not logged in is sent to `/login`. Searches need a
stated reason; the results name the audit entry that records them.

Forms post back to these pages (same origin only: `api/csrf.py` refuses a post with the session
cookie that names no origin or another one, another port of this host included). Logging in
and out is the API's (`/api/v1/auth/...`), called by `static/app.js`; the dashboard's live list
is the API's WebSocket (`/api/v1/live`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from safecity import __version__
from safecity.analytics.image_header import ImageLimits
from safecity.governance.access import AccessDenied, Caller, ReasonRequired
from safecity.governance.audit import AuditAction, AuditLog, Verification
from safecity.governance.confirmation import (
    AlertStatus,
    ConfirmationError,
    Decision,
    MatchConfirmations,
    acknowledge,
)
from safecity.governance.permissions import Permission
from safecity.governance.register import GEOJSON_NAME, AuditHead
from safecity.governance.users import AuthError
from safecity.registry.map import MAP_HEIGHT, MAP_WIDTH, project
from safecity.search.plates import search_plates_gated
from safecity.server import csrf
from safecity.server.context import ApiContext
from safecity.server.problems import PayloadTooLarge, UnsupportedMedia
from safecity.server.security import credential
from safecity.server.uploads import image_suffix, read_upload
from safecity.server.web import charts
from safecity.server.web.redirects import safe_next
from safecity.store.alerts import stored_alert
from safecity.store.authorisations import AuthorisationStore
from safecity.store.cameras import CameraStore, CameraStoreError
from safecity.store.face_watchlists import FaceWatchlistStore
from safecity.store.hotlists import HotlistStore
from safecity.store.models import AlertRow, FaceSightingRow, PlateReadRow, utcnow
from safecity.store.observation_pages import (
    alert_page,
    face_match_alert_of,
    face_sighting_page,
    plate_read_page,
)
from safecity.store.plate_search import PlateQuery, SearchMode
from safecity.types import AlertKind, Camera, Capability

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""No inline script or style, nothing from any other host (`'self'` covers the same-origin WebSocket)."""
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
LIST_LIMIT = 20
"""Rows per listing on a page (recent reads, sightings, alerts)."""
AUDIT_SHOWN = 200
"""Audit entries shown at most, newest first."""

router = APIRouter(include_in_schema=False)
_static = StaticFiles(directory=STATIC)
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_env.filters["when"] = _when
_ANALYSES = {
    Capability.FACES: "faces (biometric identification)",
    Capability.PLATES: "licence plates",
    Capability.TRAFFIC: "traffic counts",
    Capability.MOTION: "motion",
}


def analyses(camera: Camera) -> str:
    return ", ".join(_ANALYSES[c] for c in Capability if c in camera.capabilities) or "nothing"


_env.globals["analyses"] = analyses
_env.globals["version"] = __version__


# ---------------------------------------------------------------- plumbing


def _ctx(request: Request) -> ApiContext:
    ctx = request.app.state.context
    assert isinstance(ctx, ApiContext)
    return ctx


def web_caller(request: Request) -> Caller | None:
    """The logged-in caller, or None: no session, or one that expired or was revoked."""
    secret = credential(request)
    if secret is None:
        return None
    try:
        return Caller.of(_ctx(request).users.authenticate_token(secret))
    except AuthError:
        return None


NAV: tuple[tuple[str, str, tuple[Permission, ...] | None], ...] = (
    ("Dashboard", "/", ()),
    ("Map", "/map", ()),
    ("Plate search", "/search", (Permission.SEARCH_PLATE,)),
    ("Face search", "/search/faces", (Permission.SEARCH_FACE,)),
    ("Watchlists", "/watchlists", (Permission.MANAGE_WATCHLISTS, Permission.MANAGE_AUTHORISATIONS)),
    ("Hotlist", "/hotlists", (Permission.VIEW_OBSERVATIONS,)),
    ("Audit log", "/audit", (Permission.VIEW_AUDIT,)),
    ("Public register", "/register", None),
)
"""(label, path, permissions any of which shows the link: () any logged-in user, None everyone)."""


def nav_for(caller: Caller | None) -> list[tuple[str, str]]:
    out = []
    for label, href, perms in NAV:
        if perms is None or (caller is not None and (not perms or any(caller.can(p) for p in perms))):
            out.append((label, href))
    return out


def render(
    request: Request,
    template: str,
    caller: Caller | None,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    html = _env.get_template(template).render(
        caller=caller,
        nav=nav_for(caller),
        path=request.url.path,
        can=(lambda p: caller is not None and caller.can(Permission(p))),
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def error_page(
    request: Request, caller: Caller | None, status: int, title: str, message: str
) -> HTMLResponse:
    return render(request, "error.html", caller, status=status, title=title, message=message)


def to_login(request: Request) -> RedirectResponse:
    target = safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    location = f"/login?next={quote(target, safe='/')}"
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


def guard(request: Request, *any_of: Permission, action: str = "open this page") -> Caller | Response:
    """The caller if logged in and holding one of `any_of` (none named: any logged-in user);
    otherwise the response to send: a redirect to the login page, or a 403 page (recorded)."""
    caller = web_caller(request)
    if caller is None:
        return to_login(request)
    if any_of and not any(caller.can(p) for p in any_of):
        names = " or ".join(str(p) for p in any_of)
        denied = _ctx(request).gate.deny(caller, action, f"the role {caller.role} lacks {names}")
        return forbidden(request, caller, denied)
    return caller


def forbidden(request: Request, caller: Caller | None, exc: Exception) -> HTMLResponse:
    return error_page(request, caller, 403, "Not allowed", str(exc))


def same_origin(request: Request) -> bool:
    """Whether a form post comes from these pages (`api.csrf`'s rule, which its guard applies first)."""
    return csrf.refusal(request, _ctx(request).settings.api.allowed_origins) is None


def cross_site(request: Request, caller: Caller | None) -> HTMLResponse:
    return error_page(request, caller, 403, "Refused", "this form was posted from another site")


def parse_time(name: str, value: str) -> datetime | None:
    """A time from a form (`datetime-local`, read as UTC, or ISO 8601 with an offset); ValueError names it."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a date and time (YYYY-MM-DDTHH:MM)") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def camera_states(ctx: ApiContext) -> dict[str, str]:
    return {h.camera_id: h.state for h in ctx.camera_health()} if ctx.camera_health else {}


def _visible_cameras(caller: Caller, cameras: list[Camera]) -> list[Camera]:
    return [c for c in cameras if caller.camera_ids is None or c.id in caller.camera_ids]


# ---------------------------------------------------------------- static files and login


@router.get("/static/{name}")
async def static(name: str, request: Request) -> Response:
    """The stylesheet, the script and the icon (StaticFiles over `safecity/server/web/static`)."""
    response = await _static.get_response(name, request.scope)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/login")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", web_caller(request), next=safe_next(next))


# ---------------------------------------------------------------- dashboard and map


@router.get("/")
def dashboard(request: Request) -> Response:
    caller = guard(request)
    if isinstance(caller, Response):
        return caller
    ctx = _ctx(request)
    now = utcnow()
    cameras = _visible_cameras(caller, CameraStore(ctx.db).all())
    limit = None if caller.camera_ids is None else sorted(caller.camera_ids)
    with ctx.db.session() as session:
        chart = charts.hourly_chart(charts.hourly_counts(session, now, limit), now)
        traffic_end = charts.latest_traffic(session, now, limit)
        traffic = charts.hourly_chart(charts.traffic_counts(session, traffic_end, limit), traffic_end)
    recent = []
    if caller.can(Permission.VIEW_OBSERVATIONS):
        with ctx.gate.read(
            caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details={"what": "dashboard"}
        ) as read:
            recent = alert_page(read.session, camera_ids=read.cameras, limit=LIST_LIMIT)
            read.record([a.alert.id for a in recent])
    states = camera_states(ctx)
    return render(
        request,
        "dashboard.html",
        caller,
        chart=chart,
        traffic=traffic,
        traffic_end=traffic_end,
        recent=recent,
        cameras=[(c, states.get(c.id, "unknown") if c.enabled else "disabled") for c in cameras],
    )


@router.get("/map")
def camera_map(request: Request) -> Response:
    caller = guard(request)
    if isinstance(caller, Response):
        return caller
    ctx = _ctx(request)
    points = project(CameraStore(ctx.db).all(), camera_states(ctx))
    return render(
        request,
        "map.html",
        caller,
        points=points,
        width=MAP_WIDTH,
        height=MAP_HEIGHT,
    )


@router.get("/cameras/{camera_id}")
def camera_page(camera_id: str, request: Request) -> Response:
    caller = guard(request)
    if isinstance(caller, Response):
        return caller
    ctx = _ctx(request)
    try:
        camera = CameraStore(ctx.db).get(camera_id)
    except CameraStoreError:
        return error_page(request, caller, 404, "Not found", f"no camera with id {camera_id!r}")
    site = next((s for s in CameraStore(ctx.db).sites() if s.id == camera.site_id), None)
    plates: list[PlateReadRow] = []
    faces: list[tuple[FaceSightingRow, bool, bool]] = []
    alerts = []
    shown = caller.can(Permission.VIEW_OBSERVATIONS)
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
                read.record(
                    [r.id for r in plates] + [f[0].id for f in faces] + [a.alert.id for a in alerts],
                    camera_id=camera.id,
                )
        except AccessDenied as exc:
            return forbidden(request, caller, exc)
    return render(
        request,
        "camera.html",
        caller,
        camera=camera,
        site=site,
        state=camera_states(ctx).get(camera.id, "unknown") if camera.enabled else "disabled",
        shown=shown,
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
    ctx = _ctx(request)
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


# ---------------------------------------------------------------- searches


def _search_page(request: Request, caller: Caller, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = _ctx(request)
    cameras = _visible_cameras(caller, CameraStore(ctx.db).all())
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
    caller = guard(request, Permission.SEARCH_PLATE, action=AuditAction.SEARCH_PLATE)
    if isinstance(caller, Response):
        return caller
    if not same_origin(request):
        return cross_site(request, caller)
    ctx = _ctx(request)
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
    return _search_page(
        request,
        caller,
        form=form,
        hits=list(result.hits),
        audit_seq=result.audit_seq,
        searched=query.plate,
        mode=query.mode,
    )


def _face_page(request: Request, caller: Caller, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = _ctx(request)
    cameras = _visible_cameras(caller, CameraStore(ctx.db).all())
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
    from safecity.search.faces import FaceSearchError, search_uploaded_face

    caller = guard(request, Permission.SEARCH_FACE, action=AuditAction.SEARCH_FACE)
    if isinstance(caller, Response):
        return caller
    if not same_origin(request):
        return cross_site(request, caller)
    ctx = _ctx(request)
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
        result = search_uploaded_face(
            data,
            suffix,
            reason,
            analyser=ctx.analyser(),
            index=ctx.face_index(),
            gate=ctx.gate,
            caller=caller,
            k=s.faces.search_default_k,
            camera_ids=chosen,
            since=start,
            until=end,
            limits=limits,
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
        hits=[(h, h.distance <= s.faces.match_threshold) for h in result.hits],
    )


# ---------------------------------------------------------------- lists and alerts


@router.get("/watchlists")
def watchlists(request: Request) -> Response:
    caller = guard(request, Permission.MANAGE_WATCHLISTS, Permission.MANAGE_AUTHORISATIONS)
    if isinstance(caller, Response):
        return caller
    ctx = _ctx(request)
    lists = []
    if caller.can(Permission.MANAGE_WATCHLISTS):
        store = FaceWatchlistStore(ctx.db, ctx.media)
        lists = [(wl, len(store.persons(wl.id))) for wl in store.list_watchlists()]
    now = ctx.gate.clock()  # past its expiry an authorisation reads expired, swept or not
    auths = [a.as_of(now) for a in AuthorisationStore(ctx.db).list()]
    return render(
        request,
        "watchlists.html",
        caller,
        watchlists=lists,
        authorisations=auths,
        by_id={a.id: a for a in auths},
        now=now,
    )


@router.get("/hotlists")
def hotlists(request: Request) -> Response:
    caller = guard(request, Permission.VIEW_OBSERVATIONS)
    if isinstance(caller, Response):
        return caller
    ctx = _ctx(request)
    store = HotlistStore(ctx.db, ctx.settings.hotlists)
    now = utcnow()
    with ctx.gate.read(caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as read:
        entries = store.all()
        read.record([e.id for e in entries], what="hotlist", via="web")

    def status(e: Any) -> str:
        if not e.active:
            return "removed"
        return "expired" if e.expires_at is not None and e.expires_at <= now else "in force"

    return render(request, "hotlists.html", caller, entries=[(e, status(e)) for e in entries])


def _confirmations(ctx: ApiContext) -> MatchConfirmations:
    return MatchConfirmations(ctx.gate, required=ctx.settings.governance.confirmations_required)


def _alert_page(
    request: Request, caller: Caller, alert_id: str, status: int = 200, **values: Any
) -> Response:
    ctx = _ctx(request)
    try:
        with ctx.gate.read(
            caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details={"what": "alert"}
        ) as read:
            row = read.session.get(AlertRow, alert_id)
            if row is None:
                raise LookupError(f"no alert with id {alert_id!r}")
            if not read.visible(row.camera_id):
                raise ctx.gate.deny(caller, AuditAction.VIEW_SIGHTING, f"camera {row.camera_id} is outside")
            alert = stored_alert(row)
            state = _confirmations(ctx).state(read.session, alert_id)
            read.record([alert_id], kind=row.kind)
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    except LookupError as exc:
        return error_page(request, caller, 404, "Not found", str(exc))
    face = alert.alert.kind is AlertKind.FACE_WATCHLIST
    decided = any(d.username == caller.username for d in state.decisions)
    final = state.status in (AlertStatus.CONFIRMED, AlertStatus.REJECTED, AlertStatus.ACKNOWLEDGED)
    evidence = {k: v for k, v in alert.evidence.items() if not k.endswith("_ref")}
    return render(
        request,
        "alert.html",
        caller,
        status=status,
        alert=alert,
        state=state,
        face=face,
        evidence=evidence,
        may_decide=caller.can(Permission.CONFIRM_MATCH) and face and not final and not decided,
        may_acknowledge=caller.can(Permission.CONFIRM_MATCH) and not face and alert.status == "new",
        snapshot_kind="faces" if face else "plates",
        show_snapshot=bool(alert.alert.observation_id) and (not face or caller.can(Permission.CONFIRM_MATCH)),
        **values,
    )


@router.get("/alerts/{alert_id}")
def alert_view(alert_id: str, request: Request) -> Response:
    caller = guard(request, Permission.VIEW_OBSERVATIONS)
    if isinstance(caller, Response):
        return caller
    return _alert_page(request, caller, alert_id)


@router.post("/alerts/{alert_id}/decision")
def alert_decision(
    alert_id: str,
    request: Request,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    caller = guard(request, Permission.CONFIRM_MATCH, action=AuditAction.CONFIRM_MATCH)
    if isinstance(caller, Response):
        return caller
    if not same_origin(request):
        return cross_site(request, caller)
    ctx = _ctx(request)
    try:
        if decision == "acknowledge":
            acknowledge(ctx.gate, caller, alert_id, note)
        else:
            _confirmations(ctx).decide(caller, alert_id, Decision(decision), note)
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    except ValueError as exc:  # ConfirmationError, or a decision that is none of the three
        message = str(exc) if isinstance(exc, ConfirmationError) else f"unknown decision {decision!r}"
        return _alert_page(request, caller, alert_id, status=409, error=message)
    return RedirectResponse(f"/alerts/{quote(alert_id)}", status_code=303, headers=SECURITY_HEADERS)


# ---------------------------------------------------------------- audit and register


def _audit_page(request: Request, caller: Caller, verification: Verification | None = None) -> Response:
    ctx = _ctx(request)
    q = request.query_params
    form = {k: q.get(k, "") for k in ("action", "user", "since", "until")}
    try:
        since, until = parse_time("since", form["since"]), parse_time("until", form["until"])
    except ValueError as exc:
        return render(
            request, "audit.html", caller, status=400, form=form, entries=[], error=str(exc),
            actions=[a.value for a in AuditAction], verification=verification,
        )  # fmt: skip
    try:
        with ctx.gate.read(
            caller,
            AuditAction.VIEW_AUDIT,
            Permission.VIEW_AUDIT,
            details={"filters": {k: v for k, v in form.items() if v}},
        ) as read:
            entries = AuditLog(ctx.db).entries(
                form["action"] or None,
                username=form["user"] or None,
                since=since,
                until=until,
                session=read.session,
            )
            total = len(entries)
            shown = entries[::-1][:AUDIT_SHOWN]
            read.record([str(e.seq) for e in shown])
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    return render(
        request,
        "audit.html",
        caller,
        form=form,
        entries=shown,
        total=total,
        actions=[a.value for a in AuditAction],
        verification=verification,
        own_seq=read.entry.seq if read.entry else None,
    )


@router.get("/audit")
def audit(request: Request) -> Response:
    caller = guard(request, Permission.VIEW_AUDIT, action=AuditAction.VIEW_AUDIT)
    if isinstance(caller, Response):
        return caller
    return _audit_page(request, caller)


@router.post("/audit/verify")
def audit_verify(request: Request) -> Response:
    """Recompute the whole hash chain and show the result above the log."""
    caller = guard(request, Permission.VIEW_AUDIT, action=AuditAction.VIEW_AUDIT)
    if isinstance(caller, Response):
        return caller
    if not same_origin(request):
        return cross_site(request, caller)
    return _audit_page(request, caller, AuditLog(_ctx(request).db).verify())


@router.get("/register")
def register(request: Request) -> Response:
    """The public transparency register: no login; the same facts as `register.html`/`.geojson`."""
    ctx = _ctx(request)
    store = CameraStore(ctx.db)
    cameras = store.all()
    sites = {s.id: s for s in store.sites()}
    return render(
        request,
        "register.html",
        web_caller(request),
        cameras=cameras,
        sites=sites,
        points=project(cameras),
        width=MAP_WIDTH,
        height=MAP_HEIGHT,
        geojson=f"/api/v1/{GEOJSON_NAME}",
        audit=AuditHead.of(ctx.db),
        counts=[
            (
                c.value,
                sum(c in cam.capabilities for cam in cameras),
                sum(c in cam.capabilities and cam.enabled for cam in cameras),
            )
            for c in Capability
        ],
        generated=utcnow(),
    )
