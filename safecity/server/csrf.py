"""The cross-site request forgery guard: a browser's session cookie acts only for this server's pages.

SameSite=Strict keeps the session cookie from other *sites*, but a page on another port of the
same host is the same site, so the cookie goes with its requests. What tells them apart is the
*origin* (scheme, host and port) that browsers put in the `Origin` header. The guard is ASGI
middleware in front of the API and the web UI:

- an unsafe request (POST, PUT, PATCH, DELETE) carrying the session cookie must name this
  server's origin in `Origin` or, when a browser sent none, in `Referer`; naming neither, or
  another origin (`null` included), is refused with 403 (recorded as `access_denied` for the
  cookie's owner);
- any unsafe request that names a foreign origin is refused, with or without a cookie, so that
  another page cannot log a browser in as someone else (login CSRF);
- a request with `Authorization: Bearer` is a program's: a page elsewhere cannot add that header
  (it is not a simple request, and this server answers no CORS preflight), so it is not checked;
- the live WebSocket's handshake with the cookie must name this server's origin, else it is
  closed with 1008 (policy violation); a program's `?token=` is not checked.

This server's origin is the request's scheme and `Host`; behind a reverse proxy that rewrites
them, `api.allowed_origins` names the public address(es).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from safecity.governance.access import Caller
from safecity.governance.users import AuthError
from safecity.server.context import ApiContext
from safecity.server.problems import problem
from safecity.server.security import SESSION_COOKIE

log = logging.getLogger(__name__)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CLOSE_POLICY_VIOLATION = 1008
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
_SHOWN = 120
"""Characters of a claimed origin or a path quoted in a refusal (they come from the request)."""


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, lower-cased, default port left out; None if none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = _SCHEMES.get(parts.scheme.lower())
    host = parts.hostname
    if scheme is None or not host or parts.username is not None or parts.password is not None:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def own_origin(conn: HTTPConnection) -> str | None:
    """This server's origin as the request addresses it (scheme and `Host`)."""
    host = conn.headers.get("host")
    scheme = _SCHEMES.get(str(conn.scope.get("scheme", "http")))
    if not host or scheme is None:
        return None
    return origin_of(f"{scheme}://{host}")


def trusted_origins(conn: HTTPConnection, allowed: Iterable[str]) -> set[str]:
    found = {o for o in (origin_of(a) for a in allowed) if o is not None}
    own = own_origin(conn)
    if own is not None:
        found.add(own)
    return found


def has_bearer(conn: HTTPConnection) -> bool:
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(value.strip())


def has_session_cookie(conn: HTTPConnection) -> bool:
    return bool(conn.cookies.get(SESSION_COOKIE, "").strip())


def _cut(value: str) -> str:
    return value if len(value) <= _SHOWN else value[:_SHOWN] + "…"


def _quoted(value: str) -> str:
    return repr(_cut(value))


def refusal(conn: HTTPConnection, allowed: Iterable[str]) -> str | None:
    """Why an unsafe request is refused as cross-site, or None if it may go on."""
    if has_bearer(conn):
        return None
    origin = conn.headers.get("origin")
    if origin is not None:
        claimed, shown = origin_of(origin), f"Origin {_quoted(origin)}"
    else:
        referer = conn.headers.get("referer")
        if referer is None:
            if has_session_cookie(conn):
                return (
                    "cross-origin check failed: a request with the session cookie must say where it "
                    "comes from (Origin or Referer header), and this one names neither"
                )
            return None  # a program without cookie or token: nothing of a browser's to forge
        claimed = origin_of(referer)
        shown = f"Referer origin {_quoted(claimed or 'unreadable')}"
    trusted = trusted_origins(conn, allowed)
    if claimed is not None and claimed in trusted:
        return None
    expected = " or ".join(sorted(trusted)) or "this server's"
    return f"cross-origin request refused: {shown} is not this server's origin ({expected})"


def websocket_refusal(conn: HTTPConnection, allowed: Iterable[str]) -> str | None:
    """Why a WebSocket handshake is refused as cross-site, or None: only a cookie handshake is checked."""
    if conn.query_params.get("token") or not has_session_cookie(conn):
        return None  # a program's token, or no credential at all (the route refuses that itself)
    origin = conn.headers.get("origin")
    if origin is not None and origin_of(origin) in trusted_origins(conn, allowed):
        return None
    return "cross-origin WebSocket refused: the Origin is not this server's"


class CsrfGuard:
    """ASGI middleware applying `refusal` to unsafe HTTP requests and `websocket_refusal` to handshakes."""

    def __init__(self, app: ASGIApp, context: ApiContext) -> None:
        self.app = app
        self.context = context
        self.allowed = tuple(context.settings.api.allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            conn = HTTPConnection(scope)
            why = refusal(conn, self.allowed)
            if why is not None:
                await run_in_threadpool(self._record, conn, why)
                await problem(403, why, title="Cross-origin request refused")(scope, receive, send)
                return
        elif scope["type"] == "websocket":
            conn = HTTPConnection(scope)
            why = websocket_refusal(conn, self.allowed)
            if why is not None:
                log.warning("%s (%s)", why, _quoted(conn.headers.get("origin", "no Origin")))
                await WebSocket(scope, receive, send).close(code=CLOSE_POLICY_VIOLATION, reason=why)
                return
        await self.app(scope, receive, send)

    def _record(self, conn: HTTPConnection, why: str) -> None:
        """An audit entry for the cookie's owner (a forged request acted in their name); a log line else."""
        action = f"{conn.scope['method']} {_cut(conn.url.path)}"
        secret = conn.cookies.get(SESSION_COOKIE, "").strip()
        if secret:
            try:
                caller = Caller.of(self.context.users.authenticate_token(secret))
            except AuthError:
                pass
            else:
                try:
                    self.context.gate.deny(caller, action, why)
                    return
                except Exception:  # the refusal stands even when it cannot be recorded
                    log.exception("could not record a cross-origin refusal")
        log.warning("%s: %s", action, why)


def install(app: FastAPI, context: ApiContext) -> None:
    """Put the guard in front of every route of `app`: the API and the web UI alike."""
    app.add_middleware(CsrfGuard, context=context)
