"""Administrator screens for users: add, role, camera limits, disable, revoke tokens.

Every change goes through `governance.users.UserStore`, as `safecity user …` and the API do, so it
is checked and audited (`user_change`, `token_change`) the same way, with the store's rules: an
admin may not disable or change the role of their own account, nor of the last enabled admin. A
generated password is shown once, on the page that follows the add.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from safecity.governance.access import Caller
from safecity.governance.permissions import Permission, Role
from safecity.governance.users import Actor, LastAdmin, OwnAccount, User, UserError, generate_password
from safecity.server.web.common import SECURITY_HEADERS, context_of, error_page, guard, guard_post, render
from safecity.store.cameras import CameraStore

router = APIRouter(include_in_schema=False)


def _page(request: Request, caller: Caller, status: int = 200, **values: Any) -> Response:
    ctx = context_of(request)
    users = ctx.users.users()
    live = {u.username: 0 for u in users}
    for t in ctx.users.tokens():
        if t.revoked_at is None and t.username in live:
            live[t.username] += 1
    values.setdefault("form", {})
    return render(
        request,
        "admin_users.html",
        caller,
        status=status,
        users=users,
        tokens=live,
        roles=[r.value for r in Role],
        cameras=[c.id for c in CameraStore(ctx.db).all()],
        **values,
    )


@router.get("/admin/users")
def users_page(request: Request, done: str = "") -> Response:
    caller = guard(request, Permission.MANAGE_USERS, action="manage users")
    if isinstance(caller, Response):
        return caller
    return _page(request, caller, done=done[:200])


@router.post("/admin/users")
async def add_user(
    request: Request,
    username: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    caller = guard_post(request, Permission.MANAGE_USERS, action="add a user")
    if isinstance(caller, Response):
        return caller
    form = await request.form()
    cameras = [str(c) for c in form.getlist("cameras")] or None
    ctx = context_of(request)
    username = username.strip()
    generated = not password
    secret = password or generate_password()
    try:
        if ctx.users.find(username) is not None:
            raise UserError(f"user {username!r} already exists")
        user = ctx.users.add(username, role, secret, camera_ids=cameras, actor=Actor.of(caller))
    except ValueError as exc:
        values = {"username": username, "role": role, "cameras": cameras or []}
        return _page(request, caller, 422, form=values, error=str(exc))
    # The generated password is shown this once (only its hash is kept): no redirect that could lose it.
    return _page(
        request, caller, 201, done=f"User {user.username} added", new_password=secret if generated else None
    )


def _change(request: Request, username: str, action: str) -> tuple[Caller, User] | Response:
    """The administrator posting a change to `username`, and that user; else the page to send
    (login, refusal, cross-site, or a 404 for a user that does not exist)."""
    caller = guard_post(request, Permission.MANAGE_USERS, action=action)
    if isinstance(caller, Response):
        return caller
    found = context_of(request).users.find(username)
    if found is None:
        return error_page(request, caller, 404, "Not found", f"There is no user {username!r}.")
    return caller, found


def _done(username: str, what: str) -> Response:
    location = f"/admin/users?{urlencode({'done': f'User {username}: {what}'})}#done"
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


@router.post("/admin/users/{username}/role")
async def set_role(username: str, request: Request, role: Annotated[str, Form()] = "") -> Response:
    change = _change(request, username, "change a user")
    if isinstance(change, Response):
        return change
    caller, user = change
    if role == user.role.value:
        return _done(username, f"role {role} (unchanged)")
    try:
        context_of(request).users.set_role(username, role, actor=Actor.of(caller))
    except (OwnAccount, LastAdmin) as exc:
        return _page(request, caller, 409, error=str(exc))
    except ValueError as exc:
        return _page(request, caller, 422, error=str(exc))
    return _done(username, f"role {role}")


@router.post("/admin/users/{username}/cameras")
async def set_cameras(username: str, request: Request, limit: Annotated[str, Form()] = "") -> Response:
    change = _change(request, username, "change a user")
    if isinstance(change, Response):
        return change
    caller, _user = change
    form = await request.form()
    cameras = sorted(str(c) for c in form.getlist("cameras")) if limit == "yes" else None
    try:
        context_of(request).users.set_cameras(username, cameras, actor=Actor.of(caller))
    except ValueError as exc:
        return _page(request, caller, 422, error=str(exc))
    return _done(username, "every camera" if cameras is None else f"cameras {', '.join(cameras) or 'none'}")


@router.post("/admin/users/{username}/disabled")
async def set_disabled(username: str, request: Request, disabled: Annotated[str, Form()] = "") -> Response:
    change = _change(request, username, "change a user")
    if isinstance(change, Response):
        return change
    caller, _user = change
    users = context_of(request).users
    if disabled == "yes":
        try:
            users.disable(username, actor=Actor.of(caller))
        except (OwnAccount, LastAdmin) as exc:
            return _page(request, caller, 409, error=str(exc))
        return _done(username, "disabled and signed out")
    users.enable(username, actor=Actor.of(caller))
    return _done(username, "enabled")


@router.post("/admin/users/{username}/revoke")
async def revoke_all(username: str, request: Request) -> Response:
    change = _change(request, username, "revoke tokens")
    if isinstance(change, Response):
        return change
    caller, _user = change
    count = context_of(request).users.revoke_all(username, actor=Actor.of(caller))
    return _done(username, f"{count} token(s) and session(s) revoked")
