"""Who is calling: a bearer token or the browser's session cookie, resolved to a `Caller`.

Both carry an API token (`governance.users`): programs send `Authorization: Bearer <token>`
(`safecity user token`), browsers log in with a password and get the same kind of token, with
`api.session_ttl_h` to live, in an HttpOnly, SameSite=Strict cookie. SameSite does not keep out
other ports of the same host: `server/csrf.py` checks the origin of what the cookie may do. Logging
out revokes the token, and so does disabling the user. Login throttling and the audit entries
of logins are the user store's; this module only moves credentials between HTTP and it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket

from safecity.governance.access import Caller
from safecity.governance.permissions import Permission
from safecity.governance.users import AuthError, TokenRefused
from safecity.server.context import ApiContext

SESSION_COOKIE = "safecity_session"
CLOSE_UNAUTHENTICATED = 4401
"""A WebSocket closed for want of a login (the 401 of a handshake)."""
CLOSE_FORBIDDEN = 4403
"""A WebSocket closed because the caller may not see what it asked for (the 403 of a handshake)."""


def context(request: Request) -> ApiContext:
    ctx = request.app.state.context
    assert isinstance(ctx, ApiContext)
    return ctx


Context = Annotated[ApiContext, Depends(context)]


def credential(request: Request) -> str | None:
    """The token a request carries: the bearer header first, else the session cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = request.cookies.get(SESSION_COOKIE, "").strip()
    return cookie or None


def optional_caller(request: Request, ctx: Context) -> Caller | None:
    """The caller, or None for an anonymous request; a token that is sent but refused is an error."""
    secret = credential(request)
    if secret is None:
        return None
    return Caller.of(ctx.users.authenticate_token(secret))


def caller(request: Request, ctx: Context) -> Caller:
    """The caller of an endpoint that needs a login (401 without one)."""
    found = optional_caller(request, ctx)
    if found is None:
        raise TokenRefused("log in, or send an API token (Authorization: Bearer …)")
    return found


def websocket_caller(ctx: ApiContext, websocket: WebSocket) -> Caller | None:
    """The caller of a WebSocket (its `token` query parameter, else the session cookie), or None.

    Browsers cannot set headers on a WebSocket handshake, hence the query parameter; a cookie
    handshake from another origin is refused before this (`server.csrf`)."""
    secret = websocket.query_params.get("token") or websocket.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    try:
        return Caller.of(ctx.users.authenticate_token(secret))
    except AuthError:
        return None


CurrentCaller = Annotated[Caller, Depends(caller)]
OptionalCaller = Annotated[Caller | None, Depends(optional_caller)]


def session_ttl(ctx: ApiContext) -> timedelta:
    return timedelta(hours=ctx.settings.api.session_ttl_h)


def require(permission: Permission) -> Any:
    """A route dependency: refuse (403, recorded) a caller without `permission` before the handler,
    and before the request body is validated, so a refused caller learns nothing about the body."""

    def check(request: Request, ctx: Context) -> Caller:
        who = caller(request, ctx)
        if not who.can(permission):
            raise ctx.gate.deny(
                who, f"{request.method} {request.url.path}", f"the role {who.role} lacks {permission}"
            )
        return who

    return Depends(check)
