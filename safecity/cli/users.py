"""`safecity user add | list | disable | role | token | unlock | tokens | revoke`: accounts, roles,
camera limits and API tokens from the command line.

This module owns the `user` sub-command; the rules live in `safecity.governance.users`. Whoever
runs the CLI has the database in hand, so changes are recorded in the audit log as made by
`cli:<OS user>` with role `host`. Passwords and token secrets are printed once and never again.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from safecity.cli.common import command_group, fail, host_actor, open_db, out, settings
from safecity.governance.permissions import Role
from safecity.governance.users import (
    Actor,
    AuthError,
    LoginPolicy,
    UserError,
    UserStore,
    generate_password,
)
from safecity.store.cameras import CameraStore
from safecity.store.database import Database

user_app = command_group("Users, roles, camera limits and API tokens.")

ROLES = ", ".join(r.value for r in Role)
DEFAULT_TOKEN_DAYS = 30


def _store(*, reading: bool = False) -> tuple[Database, UserStore]:
    s = settings()
    db = open_db(s, reading=reading)
    return db, UserStore(db, policy=LoginPolicy.of(s.governance))


def _cameras(db: Database, cameras: list[str] | None, sites: list[str] | None) -> list[str] | None:
    """The camera limit: the cameras named plus those of the sites named (None: no limit)."""
    if not cameras and not sites:
        return None
    chosen = set(cameras or [])
    if sites:
        registered = CameraStore(db).all()
        for site_id in sites:
            at_site = {c.id for c in registered if c.site_id == site_id}
            if not at_site:
                fail(f"site {site_id!r} has no registered cameras")
            chosen |= at_site
    return sorted(chosen)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", "-r", help=f"One of: {ROLES}.")],
    camera: Annotated[
        list[str] | None, typer.Option("--camera", help="Limit to this camera (repeatable).")
    ] = None,
    site: Annotated[
        list[str] | None,
        typer.Option("--site", help="Limit to the cameras registered at this site now (repeatable)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a user; without --password-stdin a password is generated and printed once."""
    db, store = _store()
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else generate_password()
    try:
        user = store.add(username, role, password, camera_ids=_cameras(db, camera, site), actor=host_actor())
    except UserError as exc:
        fail(str(exc))
    scope = "all cameras" if user.camera_ids is None else ", ".join(sorted(user.camera_ids))
    out.print(f"added {user.username} ({user.role}; {scope})")
    if not password_stdin:
        # Printed once: only the argon2 hash is kept, so it cannot be shown again.
        print(f"password: {password}")


@user_app.command("list")
def user_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List users with their role, camera limit and state."""
    _, store = _store(reading=True)
    users = store.users()
    if as_json:
        for u in users:
            record = {
                "username": u.username,
                "role": u.role.value,
                "camera_ids": None if u.camera_ids is None else sorted(u.camera_ids),
                "disabled": u.disabled,
                "created_at": u.created_at.isoformat(),
            }
            print(json.dumps(record))
        return
    table = Table(title=f"{len(users)} user(s)")
    for col in ("username", "role", "cameras", "disabled", "created"):
        table.add_column(col)
    for u in users:
        cams = "all" if u.camera_ids is None else ", ".join(sorted(u.camera_ids)) or "none"
        table.add_row(u.username, u.role.value, cams, "yes" if u.disabled else "", f"{u.created_at:%Y-%m-%d}")
    out.print(table)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable a user and revoke all their API tokens."""
    _, store = _store()
    try:
        store.disable(username, actor=host_actor())
    except UserError as exc:
        fail(str(exc))
    out.print(f"disabled {username}; their tokens are revoked")


@user_app.command("role")
def user_role(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Argument(help=f"One of: {ROLES}.")],
) -> None:
    """Change a user's role."""
    _, store = _store()
    try:
        user = store.set_role(username, role, actor=host_actor())
    except UserError as exc:
        fail(str(exc))
    out.print(f"{user.username} is now {user.role}")


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument(help="Login name: your own.")],
    days: Annotated[int, typer.Option("--days", help="Lifetime in days.")] = DEFAULT_TOKEN_DAYS,
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the user's password from standard input.")
    ] = False,
) -> None:
    """Issue an API token for yourself, with your password; its secret is printed once.

    A token is minted only by the user it belongs to: an administrator cannot mint one for somebody
    else (they could then search and confirm matches as that person). The login is throttled and
    recorded like any other.
    """
    _, store = _store()
    if store.find(username) is None:
        fail(f"no user {username!r}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password of {username}: ")
    else:
        fail("a token is minted with its owner's password: type it, or pass --password-stdin")
    try:
        user = store.login(username, password, address="console")
        issued = store.issue_token(user, timedelta(days=days), label=label, actor=Actor.of(user))
    except (UserError, AuthError) as exc:
        fail(str(exc))
    out.print(f"token {issued.token.id} for {username}, expires {issued.token.expires_at:%Y-%m-%d %H:%M} UTC")
    # Printed once: only its SHA-256 is kept.
    print(f"secret: {issued.secret}")


@user_app.command("unlock")
def user_unlock(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Clear an account's failed logins, so its login delays end at once (recorded)."""
    _, store = _store()
    cleared = store.unlock(username, actor=host_actor())
    out.print(f"cleared {cleared} failed login(s) of {username}")


@user_app.command("tokens")
def user_tokens(
    username: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
) -> None:
    """List API tokens (never their secrets)."""
    _, store = _store(reading=True)
    tokens = store.tokens(username)
    table = Table(title=f"{len(tokens)} token(s)")
    for col in ("id", "user", "label", "expires", "revoked", "last used"):
        table.add_column(col, no_wrap=col == "id")
    for t in tokens:
        table.add_row(
            t.id,
            t.username,
            t.label,
            f"{t.expires_at:%Y-%m-%d %H:%M}",
            "" if t.revoked_at is None else f"{t.revoked_at:%Y-%m-%d %H:%M}",
            "" if t.last_used_at is None else f"{t.last_used_at:%Y-%m-%d %H:%M}",
        )
    out.print(table)


@user_app.command("revoke")
def user_revoke(token_id: Annotated[str, typer.Argument(help="Token id (see `user tokens`).")]) -> None:
    """Revoke an API token."""
    _, store = _store()
    try:
        token = store.revoke_token(token_id, actor=host_actor())
    except UserError as exc:
        fail(str(exc))
    out.print(f"revoked token {token.id} of {token.username}")
