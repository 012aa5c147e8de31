"""What every page of the web UI shares: the templates and their security headers, who the
caller is (session cookie), the navigation a role sees, the guard that sends a visitor to the login
or shows a refusal, same-origin checks for forms, and small formatting helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select

from safecity import __version__
from safecity.governance.access import Caller
from safecity.governance.permissions import WHAT_IT_ALLOWS, Permission
from safecity.governance.users import AuthError
from safecity.server import csrf
from safecity.server.context import ApiContext
from safecity.server.security import credential
from safecity.server.web.redirects import safe_next
from safecity.store.models import AlertRow
from safecity.types import Camera, Capability

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""No inline script or style, nothing from any other host (`'self'` covers the same-origin WebSocket;
`blob:` media is the live view's Media Source, and `blob:` images a non-H.264 camera's live JPEG
images, both built in the page from this server's stream)."""
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


def content_security_policy(tile_origin: str | None) -> str:
    """`CSP`, with the city's own tile server (`map.tile_url`'s origin) allowed as an image source."""
    if tile_origin is None:
        return CSP
    return CSP.replace("img-src 'self' data: blob:;", f"img-src 'self' data: blob: {tile_origin};")


def page_headers(request: Request) -> dict[str, str]:
    """`SECURITY_HEADERS` with the CSP the settings call for (`content_security_policy`)."""
    origin = context_of(request).settings.map.tile_origin
    if origin is None:
        return SECURITY_HEADERS
    return {**SECURITY_HEADERS, "Content-Security-Policy": content_security_policy(origin)}


STATIC_FILES = StaticFiles(directory=STATIC)
ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


ENV.filters["when"] = when
ANALYSES = {
    Capability.FACES: "faces (biometric identification)",
    Capability.PLATES: "licence plates",
    Capability.TRAFFIC: "traffic counts",
    Capability.MOTION: "motion",
}


def analyses(camera: Camera) -> str:
    return ", ".join(ANALYSES[c] for c in Capability if c in camera.capabilities) or "nothing"


ENV.globals["analyses"] = analyses
ENV.globals["version"] = __version__


def context_of(request: Request) -> ApiContext:
    ctx = request.app.state.context
    assert isinstance(ctx, ApiContext)
    return ctx


def web_caller(request: Request) -> Caller | None:
    """The logged-in caller, or None: no session, or one that expired or was revoked."""
    secret = credential(request)
    if secret is None:
        return None
    try:
        return Caller.of(context_of(request).users.authenticate_token(secret))
    except AuthError:
        return None


NAV: tuple[tuple[str, str, tuple[Permission, ...] | None], ...] = (
    ("Dashboard", "/", ()),
    ("Alerts", "/alerts", (Permission.VIEW_OBSERVATIONS,)),
    ("Map", "/map", ()),
    ("Plate search", "/search", (Permission.SEARCH_PLATE,)),
    ("Face search", "/search/faces", (Permission.SEARCH_FACE,)),
    ("Watchlists", "/watchlists", (Permission.MANAGE_WATCHLISTS, Permission.MANAGE_AUTHORISATIONS)),
    ("Authorisations", "/authorisations", (Permission.MANAGE_AUTHORISATIONS,)),
    ("Hotlist", "/hotlists", (Permission.VIEW_OBSERVATIONS,)),
    ("Cameras", "/admin/cameras", (Permission.MANAGE_CAMERAS,)),
    ("Users", "/admin/users", (Permission.MANAGE_USERS,)),
    ("Retention", "/admin/retention", (Permission.MANAGE_CAMERAS,)),
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


def new_alert_count(request: Request, caller: Caller | None) -> int | None:
    """Alerts nobody has handled yet (status new) on the caller's cameras, for the navigation's
    count; None for a caller who may not see alerts. A number, no personal data: not recorded."""
    if caller is None or not caller.can(Permission.VIEW_OBSERVATIONS):
        return None
    query = select(func.count()).select_from(AlertRow).where(AlertRow.status == "new")
    if caller.camera_ids is not None:
        query = query.where(AlertRow.camera_id.in_(sorted(caller.camera_ids)))
    with context_of(request).db.read_session() as session:
        return int(session.scalar(query) or 0)


def render(
    request: Request,
    template: str,
    caller: Caller | None,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    html = ENV.get_template(template).render(
        caller=caller,
        nav=nav_for(caller),
        nav_alerts=new_alert_count(request, caller),
        path=request.url.path,
        can=(lambda p: caller is not None and caller.can(Permission(p))),
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=page_headers(request))


def error_page(
    request: Request, caller: Caller | None, status: int, title: str, message: str
) -> HTMLResponse:
    return render(request, "error.html", caller, status=status, title=title, message=message)


HTML_ERRORS = {
    404: ("Not found", "There is no page at {path}. The navigation above lists the pages your role may use."),
    405: ("Not found", "There is no page at {path} for this kind of request."),
    500: (
        "Something went wrong",
        "The server could not show this page; nothing was changed. The server's log has the details "
        "for an administrator.",
    ),
}


def html_error(request: Request, status: int, detail: str) -> HTMLResponse:
    """An error on a page request, in words (the app's handler for browsers, outside the API)."""
    title, message = HTML_ERRORS.get(status, (HTTPStatus(status).phrase, detail))
    caller = web_caller(request) if status != 500 else None
    return error_page(request, caller, status, title, message.format(path=request.url.path))


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
        context_of(request).gate.deny(caller, action, f"the role {caller.role} lacks {names}")
        words = " or ".join(WHAT_IT_ALLOWS[p] for p in any_of)
        message = (
            f"Your role ({caller.role}) may not {words}. This refusal is recorded in the audit log; "
            "an administrator can change your role if your work needs it."
        )
        return error_page(request, caller, 403, "Not allowed", message)
    return caller


def guard_post(request: Request, *any_of: Permission, action: str = "send this form") -> Caller | Response:
    """`guard` for a form post, which must also come from these pages: a cross-site post is refused
    (403) before anything is read or changed."""
    caller = guard(request, *any_of, action=action)
    if isinstance(caller, Response) or same_origin(request):
        return caller
    return cross_site(request, caller)


def forbidden(request: Request, caller: Caller | None, exc: Exception) -> HTMLResponse:
    return error_page(request, caller, 403, "Not allowed", str(exc))


def same_origin(request: Request) -> bool:
    """Whether a form post comes from these pages (`api.csrf`'s rule, which its guard applies first)."""
    return csrf.refusal(request, context_of(request).settings.api.allowed_origins) is None


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
    try:
        # In UTC now: a valid time whose offset takes it past year 1 or 9999 is refused here.
        return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{name}: {value!r} is out of range") from None


def camera_states(ctx: ApiContext) -> dict[str, str]:
    return {h.camera_id: h.state for h in ctx.camera_health()} if ctx.camera_health else {}


def visible_cameras(caller: Caller, cameras: list[Camera]) -> list[Camera]:
    return [c for c in cameras if caller.camera_ids is None or c.id in caller.camera_ids]
