"""Accounts, roles, camera limits and API tokens over HTTP, for the admin (manage_users).

The same rules as `safecity user add|list|disable|role|token|tokens|revoke`
(`governance.users`); every change is recorded in the audit log with the admin as the actor.
A generated password and a token's secret are returned once: only their hashes are kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from safecity.governance.access import Caller
from safecity.governance.permissions import Permission, Role
from safecity.governance.users import (
    MAX_LABEL_LEN,
    MAX_TOKEN_TTL,
    MAX_USERNAME_LEN,
    OWN_ACCOUNT,
    Actor,
    ApiToken,
    LastAdmin,
    OwnAccount,
    User,
    UserError,
    UserStore,
    generate_password,
)
from safecity.server.api.routes.cameras import require
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut
from safecity.server.limits import check_list_length
from safecity.server.problems import Conflict, NotFound
from safecity.server.security import Context, CurrentCaller
from safecity.server.security import require as require_permission
from safecity.store.field_limits import ID_MAX

router = APIRouter(
    dependencies=[require_permission(Permission.MANAGE_USERS)], tags=["users"], responses=PROBLEM_RESPONSES
)
DEFAULT_TOKEN_DAYS = 30
CameraId = Annotated[str, Field(max_length=ID_MAX)]


class UserOut(DomainOut):
    username: str
    role: Role
    cameras: list[str] | None = Field(description="Cameras the user may see; null: every camera.")
    disabled: bool
    created_at: datetime


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=MAX_USERNAME_LEN)
    role: Role
    cameras: list[CameraId] | None = Field(
        None, description="Limit to these cameras (at most api.max_list_items); null: every camera."
    )


class NewUser(BaseModel):
    user: UserOut
    password: str = Field(description="Generated; shown this once (only its hash is kept).")


class UserChange(BaseModel):
    """What to change; a field left out stays as it is (`cameras: null` lifts the camera limit)."""

    role: Role | None = None
    disabled: bool | None = Field(None, description="true disables the account and revokes its tokens.")
    cameras: list[CameraId] | None = Field(None, description="At most api.max_list_items.")


class TokenIn(BaseModel):
    ttl_days: int = Field(DEFAULT_TOKEN_DAYS, ge=1, le=MAX_TOKEN_TTL.days)
    label: str = Field("", max_length=MAX_LABEL_LEN, description="What the token is for.")


class TokenOut(DomainOut):
    id: str
    username: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewToken(BaseModel):
    token: TokenOut
    secret: str = Field(description="Send as `Authorization: Bearer <secret>`; shown this once.")


def user_out(u: User) -> UserOut:
    return UserOut.of(u, cameras=None if u.camera_ids is None else sorted(u.camera_ids))


def token_out(t: ApiToken) -> TokenOut:
    return TokenOut.of(t)


def _admin(ctx: Context, caller: Caller, what: str) -> Actor:
    require(ctx, caller, Permission.MANAGE_USERS, what)
    return Actor.of(caller)


def _user(ctx: Context, username: str) -> User:
    found = ctx.users.find(username)
    if found is None:
        raise NotFound(f"no user {username!r}")
    return found


@router.get("/users", response_model=list[UserOut])
def list_users(ctx: Context, caller: CurrentCaller) -> list[UserOut]:
    """Every account with its role, camera limit and state (manage_users)."""
    _admin(ctx, caller, "list users")
    return [user_out(u) for u in ctx.users.users()]


@router.post("/users", response_model=NewUser, status_code=201, responses={409: PROBLEM_RESPONSES[400]})
def add_user(body: UserIn, ctx: Context, caller: CurrentCaller) -> NewUser:
    """Add an account with a generated password, returned this once (manage_users)."""
    actor = _admin(ctx, caller, "add a user")
    check_list_length(ctx.settings, body.cameras, "body", "cameras")
    if ctx.users.find(body.username) is not None:
        raise Conflict(f"user {body.username!r} already exists")
    password = generate_password()
    user = ctx.users.add(body.username, body.role, password, camera_ids=body.cameras, actor=actor)
    return NewUser(user=user_out(user), password=password)


@router.patch("/users/{username}", response_model=UserOut, responses={409: PROBLEM_RESPONSES[400]})
def change_user(username: str, body: UserChange, ctx: Context, caller: CurrentCaller) -> UserOut:
    """Change a role, the camera limit, or disable/enable an account (manage_users).

    An admin cannot disable or demote their own account, nor the last enabled admin (409, the
    rules of `UserStore`): nobody could manage accounts any more.
    """
    actor = _admin(ctx, caller, "change a user")
    check_list_length(ctx.settings, body.cameras, "body", "cameras")
    user = _user(ctx, username)
    store: UserStore = ctx.users
    if username == caller.username and (body.disabled or (body.role not in (None, user.role))):
        raise Conflict(OWN_ACCOUNT)
    try:
        if "cameras" in body.model_fields_set:
            user = store.set_cameras(username, body.cameras, actor=actor)
        if body.role is not None and body.role != user.role:
            user = store.set_role(username, body.role, actor=actor)
        if body.disabled is not None and body.disabled != user.disabled:
            user = (
                store.disable(username, actor=actor) if body.disabled else store.enable(username, actor=actor)
            )
    except (OwnAccount, LastAdmin) as exc:
        raise Conflict(str(exc)) from None
    return user_out(user)


@router.post(
    "/users/{username}/tokens",
    response_model=NewToken,
    status_code=201,
    responses={409: PROBLEM_RESPONSES[400]},
)
def issue_token(username: str, body: TokenIn, ctx: Context, caller: CurrentCaller) -> NewToken:
    """Issue an API token for yourself (403 for anyone else's account: use `POST /auth/tokens`).

    Separation of duties: an admin manages accounts but never holds another person's credentials,
    or they could search and confirm matches as that person. Listing and revoking stay admin work.
    """
    if username != caller.username:
        raise ctx.gate.deny(
            caller, "issue a token", "a token is issued only to the user it belongs to, by that user"
        )
    user = _user(ctx, username)
    if user.disabled:
        raise Conflict(f"user {username!r} is disabled")
    issued = ctx.users.issue_token(
        user, timedelta(days=body.ttl_days), label=body.label, actor=Actor.of(caller)
    )
    return NewToken(token=token_out(issued.token), secret=issued.secret)


class Unlocked(BaseModel):
    username: str
    failures_cleared: int


@router.post("/users/{username}/unlock", response_model=Unlocked)
def unlock_user(username: str, ctx: Context, caller: CurrentCaller) -> Unlocked:
    """Clear an account's failed logins so its login delays end now (manage_users; recorded)."""
    actor = _admin(ctx, caller, "unlock a user")
    _user(ctx, username)
    return Unlocked(username=username, failures_cleared=ctx.users.unlock(username, actor=actor))


@router.get("/users/{username}/tokens", response_model=list[TokenOut])
def list_tokens(username: str, ctx: Context, caller: CurrentCaller) -> list[TokenOut]:
    """A user's API tokens, never their secrets (manage_users)."""
    _admin(ctx, caller, "list tokens")
    _user(ctx, username)
    return [token_out(t) for t in ctx.users.tokens(username)]


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: str, ctx: Context, caller: CurrentCaller) -> TokenOut:
    """Revoke an API token (manage_users); it is refused from then on."""
    actor = _admin(ctx, caller, "revoke a token")
    try:
        token = ctx.users.revoke_token(token_id, actor=actor)
    except UserError as exc:
        raise NotFound(str(exc)) from None
    return token_out(token)
