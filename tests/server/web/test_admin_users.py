"""The user admin screen (`/admin/users`): add (with a generated password shown once or an initial
one), role, camera limits, disable/enable, revoke every token, each audited as `safecity user …`
and the API audit it (the same `UserStore` calls); an admin's own account protected; refusals for
other roles and cross-site posts; two admins adding at once without losing anything."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from factories import camera, site
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safecity.cli.app import app as cli_app
from safecity.config import Settings
from safecity.governance.audit import AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import Actor, AuthError, LastAdmin, UserAuditAction, UserStore
from safecity.server.app import create_app
from safecity.server.security import SESSION_COOKIE
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import AuditEntryRow

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ORIGIN = "http://testserver"
PASSWORD = "a long enough password"
USERS = {"admin-1": Role.ADMIN, "admin-2": Role.ADMIN, "operator-1": Role.OPERATOR}


@dataclass(frozen=True)
class World:
    settings: Settings
    db: Database
    users: UserStore
    tokens: dict[str, str]

    def client(self, username: str, origin: str = ORIGIN) -> TestClient:
        client = TestClient(create_app(self.settings, self.db), headers={"Origin": origin})
        client.cookies.set(SESSION_COOKIE, self.tokens[username])
        return client

    def last(self, action: UserAuditAction) -> AuditEntryRow:
        with self.db.session() as session:
            rows = session.query(AuditEntryRow).filter(AuditEntryRow.action == action.value)
            return list(rows.order_by(AuditEntryRow.seq))[-1]


def _world(settings: Settings) -> Iterator[World]:
    db = Database.open(settings.effective_database_url, settings.store)
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2")])
    users, tokens = UserStore(db, hasher=FAST_HASHER), {}
    for name, role in USERS.items():
        users.add(name, role, PASSWORD)
        tokens[name] = users.issue_token(name, timedelta(hours=1)).secret
    try:
        yield World(settings, db, users, tokens)
    finally:
        db.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from _world(Settings(data_dir=tmp_path / "var"))


def test_the_list_shows_role_limits_state_and_tokens(world: World) -> None:
    page = world.client("admin-1").get("/admin/users")
    assert page.status_code == 200
    assert all(f'data-user="{name}"' in page.text for name in USERS)
    assert "1 live" in page.text


def test_adding_with_a_generated_password_shows_it_once(world: World) -> None:
    data = {"username": "clerk-1", "role": "viewer", "cameras": ["cam-2"]}
    r = world.client("admin-1").post("/admin/users", data=data)
    assert r.status_code == 201
    shown = r.text.split('class="adm-secret">')[1].split("<")[0]
    user = world.users.login("clerk-1", shown)
    assert user.role is Role.VIEWER and user.camera_ids == frozenset({"cam-2"})
    entry = world.last(UserAuditAction.USER_CHANGE)
    assert (entry.username, entry.target, entry.details["change"]) == ("admin-1", "clerk-1", "add")
    assert shown not in world.client("admin-1").get("/admin/users").text


def test_adding_with_an_initial_password(world: World) -> None:
    data = {"username": "clerk-2", "role": "operator", "password": "another long password"}
    r = world.client("admin-1").post("/admin/users", data=data)
    assert r.status_code == 201 and 'id="new-password"' not in r.text
    assert world.users.login("clerk-2", "another long password").camera_ids is None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"username": "operator-1", "role": "viewer"}, "already exists"),
        ({"username": "clerk-3", "role": "king"}, "king"),
        ({"username": "clerk-3", "role": "viewer", "password": "short"}, "too short"),
        ({"username": "clerk-3", "role": "viewer", "cameras": ["cam-404"]}, "unknown camera"),
    ],
)
def test_a_bad_add_is_refused_in_words_with_the_values_kept(
    world: World, data: dict[str, object], words: str
) -> None:
    r = world.client("admin-1").post("/admin/users", data=data)
    assert r.status_code == 422 and words in r.text
    assert f'value="{data["username"]}"' in r.text
    assert {u.username for u in world.users.users()} == set(USERS)


def test_changing_a_role_is_audited_as_the_cli(world: World) -> None:
    r = world.client("admin-1").post("/admin/users/operator-1/role", data={"role": "investigator"})
    assert r.status_code == 200 and world.users.get("operator-1").role is Role.INVESTIGATOR
    entry = world.last(UserAuditAction.USER_CHANGE)
    assert entry.details == {"change": "role", "old": "operator", "new": "investigator"}


@pytest.mark.parametrize(
    ("data", "limit"),
    [({"limit": "yes", "cameras": ["cam-1"]}, frozenset({"cam-1"})), ({"limit": "no"}, None)],
)
def test_camera_limits(world: World, data: dict[str, object], limit: frozenset[str] | None) -> None:
    r = world.client("admin-1").post("/admin/users/operator-1/cameras", data=data)
    assert r.status_code == 200 and world.users.get("operator-1").camera_ids == limit
    assert world.last(UserAuditAction.USER_CHANGE).details["change"] == "cameras"


def test_disabling_signs_out_and_refuses_the_login(world: World) -> None:
    r = world.client("admin-1").post("/admin/users/operator-1/disabled", data={"disabled": "yes"})
    assert r.status_code == 200 and "disabled" in r.text
    with pytest.raises(AuthError):
        world.users.login("operator-1", PASSWORD)
    assert world.client("operator-1").get("/admin/users", follow_redirects=False).status_code == 303
    assert world.last(UserAuditAction.USER_CHANGE).details == {"change": "disable", "tokens_revoked": 1}
    world.client("admin-1").post("/admin/users/operator-1/disabled", data={"disabled": "no"})
    assert world.users.login("operator-1", PASSWORD).disabled is False


def test_revoking_every_token(world: World) -> None:
    r = world.client("admin-1").post("/admin/users/operator-1/revoke")
    assert r.status_code == 200 and "1 token(s)" in r.text
    assert world.last(UserAuditAction.TOKEN_CHANGE).details == {"change": "revoke_all", "revoked": 1}


@pytest.mark.parametrize(("path", "data"), [("disabled", {"disabled": "yes"}), ("role", {"role": "viewer"})])
def test_an_admin_cannot_disable_or_demote_themself(world: World, path: str, data: dict[str, str]) -> None:
    r = world.client("admin-1").post(f"/admin/users/admin-1/{path}", data=data)
    assert r.status_code == 409 and "your own account" in r.text
    me = world.users.get("admin-1")
    assert me.role is Role.ADMIN and not me.disabled


def test_an_unknown_user_is_a_404_page(world: World) -> None:
    r = world.client("admin-1").post("/admin/users/nobody/role", data={"role": "viewer"})
    assert r.status_code == 404 and "nobody" in r.text


def test_a_cross_site_post_is_refused(world: World) -> None:
    r = world.client("admin-1", origin="https://evil.example").post(
        "/admin/users/operator-1/disabled", data={"disabled": "yes"}
    )
    assert r.status_code == 403 and not world.users.get("operator-1").disabled


@pytest.mark.parametrize(
    ("method", "path"), [("get", "/admin/users"), ("post", "/admin/users/admin-1/disabled")]
)
def test_another_role_is_refused_and_recorded(world: World, method: str, path: str) -> None:
    r = getattr(world.client("operator-1"), method)(path)
    assert r.status_code == 403 and "manage_users" not in r.text
    with world.db.session() as session:
        denied = session.query(AuditEntryRow).filter(AuditEntryRow.action == "access_denied").all()
    assert [d.username for d in denied] == ["operator-1"]
    assert not world.users.get("admin-1").disabled


def _two_admins_at_once(world: World) -> None:
    errors: list[BaseException] = []

    def work(admin: str) -> None:
        try:
            client = world.client(admin)
            for i in range(5):
                r = client.post(
                    "/admin/users", data={"username": f"{admin}-u{i}", "role": "viewer", "password": PASSWORD}
                )
                assert r.status_code == 201, r.text[:300]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a,)) for a in ("admin-1", "admin-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    names = {u.username for u in world.users.users()}
    assert {f"{a}-u{i}" for a in ("admin-1", "admin-2") for i in range(5)} <= names
    assert AuditLog(world.db).verify().first_bad is None


def test_two_admins_at_once_lose_nothing_on_sqlite(world: World) -> None:
    _two_admins_at_once(world)


def test_two_admins_at_once_lose_nothing_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    migrated = Database.connect(postgres_url)
    migrated.upgrade()
    migrated.close()
    for w in _world(Settings(data_dir=tmp_path / "var", database_url=postgres_url)):
        _two_admins_at_once(w)


@pytest.mark.parametrize(
    "change",
    [lambda s, a: s.disable("admin-2", actor=a), lambda s, a: s.set_role("admin-2", Role.VIEWER, actor=a)],
    ids=["disable", "demote"],
)
def test_the_last_enabled_admin_stays_whoever_asks(world: World, change: Any) -> None:
    """The rule is the store's: the page, the API and `safecity user` (actor `cli:…`) all meet it."""
    host = Actor("cli:root", "host")
    world.users.disable("admin-1", actor=host)
    with pytest.raises(LastAdmin, match="last enabled admin"):
        change(world.users, host)
    assert world.users.get("admin-2").role is Role.ADMIN and not world.users.get("admin-2").disabled


def test_the_cli_meets_the_same_rule(world: World, cli_data_dir: Path) -> None:
    world.users.disable("admin-1", actor=Actor("cli:root", "host"))
    result = CliRunner().invoke(cli_app, ["user", "disable", "admin-2"])
    assert result.exit_code != 0 and "last enabled admin" in result.output
    assert not world.users.get("admin-2").disabled
