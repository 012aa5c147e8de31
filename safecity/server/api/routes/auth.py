"""Login, logout and "who am I": a password becomes a revocable session token (and cookie)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from pydantic import Field

from safecity.governance.access import Caller
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor
from safecity.server.api.routes.users import NewToken, TokenIn, token_out
from safecity.server.api.schemas import PROBLEM_RESPONSES, LoginRequest, LoginResponse, Me
from safecity.server.security import SESSION_COOKIE, Context, CurrentCaller, credential, session_ttl

router = APIRouter(prefix="/auth", tags=["auth"], responses=PROBLEM_RESPONSES)


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: uvicorn's --forwarded-allow-ips)."""
    return request.client.host if request.client is not None else ""


def me_of(caller: Caller) -> Me:
    return Me(
        username=caller.username,
        role=caller.role,
        cameras=None if caller.camera_ids is None else sorted(caller.camera_ids),
        permissions=sorted(p.value for p in Permission if caller.can(p)),
    )


@router.post("/login", response_model=LoginResponse, responses={429: PROBLEM_RESPONSES[401]})
def login(body: LoginRequest, request: Request, response: Response, ctx: Context) -> LoginResponse:
    """Check the password (throttled after repeated failures) and open a session."""
    user = ctx.users.login(body.username, body.password, address=client_address(request))
    issued = ctx.users.issue_token(user, session_ttl(ctx), label="browser session", actor=Actor.of(user))
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        max_age=int(session_ttl(ctx).total_seconds()),
        httponly=True,
        samesite="strict",
        secure=ctx.settings.api.secure_cookies,
        path="/",
    )
    return LoginResponse(token=issued.secret, expires_at=issued.token.expires_at, user=me_of(Caller.of(user)))


@router.post("/logout", status_code=204)
def logout(request: Request, caller: CurrentCaller, ctx: Context) -> Response:
    """Revoke the session (or token) this request carries."""
    secret = credential(request)
    if secret is not None:
        ctx.users.revoke_secret(secret, actor=Actor.of(caller))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
def me(caller: CurrentCaller) -> Me:
    """The logged-in user, their role, cameras and permissions (what the UI may show)."""
    return me_of(caller)


class OwnTokenIn(TokenIn):
    password: str = Field(
        min_length=1, max_length=1024, description="Your password again: a stolen session cannot mint tokens."
    )


@router.post("/tokens", response_model=NewToken, status_code=201)
def issue_own_token(body: OwnTokenIn, request: Request, caller: CurrentCaller, ctx: Context) -> NewToken:
    """Issue an API token for yourself (a program acting as you); its secret is returned this once.

    Only the user it belongs to can mint a token, with their password: an admin cannot mint one for
    someone else, so cannot search or confirm as them.
    """
    user = ctx.users.login(caller.username, body.password, address=client_address(request))
    issued = ctx.users.issue_token(
        user, timedelta(days=body.ttl_days), label=body.label, actor=Actor.of(user)
    )
    return NewToken(token=token_out(issued.token), secret=issued.secret)
