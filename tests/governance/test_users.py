"""Users, passwords, login throttling, the first admin and API tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from factories import T0, camera, site
from sqlalchemy import inspect, select

from safecity.governance.audit import AuditLog
from safecity.governance.permissions import Permission, Role
from safecity.governance.users import (
    Actor,
    LoginFailed,
    LoginPolicy,
    LoginThrottled,
    TokenRefused,
    User,
    UserAuditAction,
    UserError,
    UserStore,
    ensure_first_admin,
    token_digest,
)
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import ApiTokenRow, UserRow

PASSWORD = "correct horse battery"
# Cheap argon2 parameters: the tests check behaviour, not the cost of an attack.
FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


POLICY = LoginPolicy(
    free_failures=3,
    delay_initial=timedelta(seconds=30),
    delay_cap=timedelta(minutes=10),
    delay_cap_per_user=timedelta(minutes=1),
    window=timedelta(minutes=10),
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db: Database, clock: Clock) -> UserStore:
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2")])
    return UserStore(db, policy=POLICY, hasher=FAST, clock=clock)


@pytest.fixture
def alice(store: UserStore) -> User:
    return store.add("alice", Role.INVESTIGATOR, PASSWORD)


def stored_hash(db: Database, username: str) -> str:
    with db.session() as s:
        return s.scalars(select(UserRow.password_hash).where(UserRow.username == username)).one()


# -- passwords --------------------------------------------------------------------------------------


def test_password_is_stored_as_argon2id_hash(db: Database, alice: User) -> None:
    stored = stored_hash(db, "alice")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_right_password_logs_in(store: UserStore, alice: User) -> None:
    assert store.login("alice", PASSWORD) == alice


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong password!"), ("mallory", PASSWORD)])
def test_wrong_credentials_are_refused_alike(
    store: UserStore, alice: User, username: str, password: str
) -> None:
    with pytest.raises(LoginFailed, match=r"^wrong username or password$"):
        store.login(username, password)


def test_disabled_user_cannot_log_in(store: UserStore, alice: User) -> None:
    store.disable("alice")
    with pytest.raises(LoginFailed, match="disabled"):
        store.login("alice", PASSWORD)


def test_weak_hash_is_upgraded_at_login(db: Database, store: UserStore, alice: User) -> None:
    strong = UserStore(db, hasher=PasswordHasher(time_cost=2, memory_cost=128, parallelism=1))
    strong.login("alice", PASSWORD)
    assert not strong.hasher.check_needs_rehash(stored_hash(db, "alice"))


@pytest.mark.parametrize(
    ("username", "role", "password", "problem"),
    [
        ("", "viewer", PASSWORD, "invalid username"),
        ("bob smith", "viewer", PASSWORD, "invalid username"),
        ("bob", "root", PASSWORD, "unknown role"),
        ("bob", "viewer", "short", "too short"),
        ("alice", "viewer", PASSWORD, "already exists"),
    ],
)
def test_bad_accounts_are_refused(
    store: UserStore, alice: User, username: str, role: str, password: str, problem: str
) -> None:
    with pytest.raises(UserError, match=problem):
        store.add(username, role, password)


# -- throttling -------------------------------------------------------------------------------------


def fail(store: UserStore, username: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(LoginFailed):
            store.login(username, "wrong password!")


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_throttle_refuses_even_the_right_password_after_n_failures(
    store: UserStore, alice: User, username: str
) -> None:
    fail(store, username, 3)
    with pytest.raises(LoginThrottled):
        store.login(username, PASSWORD)


def test_throttle_lifts_when_the_window_passes(store: UserStore, alice: User, clock: Clock) -> None:
    fail(store, "alice", 3)
    clock.advance(timedelta(minutes=10, seconds=1))
    assert store.login("alice", PASSWORD).username == "alice"


def test_throttle_says_until_when(store: UserStore, alice: User, clock: Clock) -> None:
    fail(store, "alice", 3)
    with pytest.raises(LoginThrottled) as refused:
        store.login("alice", PASSWORD)
    assert refused.value.until == T0 + timedelta(seconds=30)


def test_failures_outside_the_window_do_not_count(store: UserStore, alice: User, clock: Clock) -> None:
    fail(store, "alice", 2)
    clock.advance(timedelta(minutes=11))
    fail(store, "alice", 2)
    assert store.login("alice", PASSWORD).username == "alice"


def test_success_clears_the_failures(store: UserStore, alice: User) -> None:
    fail(store, "alice", 2)
    store.login("alice", PASSWORD)
    fail(store, "alice", 2)
    assert store.login("alice", PASSWORD).username == "alice"


def test_failures_are_shared_between_processes(
    db: Database, store: UserStore, alice: User, clock: Clock
) -> None:
    """Another store on the same database (another process) sees the same count."""
    fail(store, "alice", 3)
    other = UserStore(db, policy=POLICY, hasher=FAST, clock=clock)
    with pytest.raises(LoginThrottled):
        other.login("alice", PASSWORD)


def test_throttle_is_per_username(store: UserStore, alice: User) -> None:
    fail(store, "mallory", 3)
    assert store.login("alice", PASSWORD).username == "alice"


# -- first admin ------------------------------------------------------------------------------------


def test_first_admin_gets_a_generated_password(db: Database, store: UserStore) -> None:
    password = ensure_first_admin(db, store=store)
    assert password is not None and len(password) >= 20
    assert store.login("admin", password).role is Role.ADMIN


def test_first_admin_is_created_once(db: Database, store: UserStore) -> None:
    ensure_first_admin(db, store=store)
    assert ensure_first_admin(db, store=store) is None
    assert [u.username for u in store.users()] == ["admin"]


def test_no_admin_is_created_where_users_exist(db: Database, store: UserStore, alice: User) -> None:
    assert ensure_first_admin(db, store=store) is None


def test_first_admin_passwords_differ(tmp_path_factory: pytest.TempPathFactory) -> None:
    passwords = set()
    for i in range(2):
        db = Database.open(f"sqlite:///{tmp_path_factory.mktemp(f'a{i}') / 'db.sqlite'}")
        passwords.add(ensure_first_admin(db, store=UserStore(db, hasher=FAST)))
        db.close()
    assert len(passwords) == 2


# -- tokens -----------------------------------------------------------------------------------------


def test_token_authenticates_its_user(store: UserStore, alice: User) -> None:
    issued = store.issue_token(alice, timedelta(days=1))
    assert store.authenticate_token(issued.secret) == alice


def test_only_the_tokens_hash_is_stored(db: Database, store: UserStore, alice: User) -> None:
    issued = store.issue_token(alice, timedelta(days=1))
    with db.session() as s:
        row = s.get(ApiTokenRow, issued.token.id)
        assert row is not None
        assert row.token_sha256 == token_digest(issued.secret)
        assert issued.secret not in (row.token_sha256, row.label, row.id)


def test_token_records_last_use(store: UserStore, alice: User, clock: Clock) -> None:
    issued = store.issue_token(alice, timedelta(days=1))
    clock.advance(timedelta(hours=1))
    store.authenticate_token(issued.secret)
    assert store.tokens("alice")[0].last_used_at == T0 + timedelta(hours=1)


def expire(store: UserStore, clock: Clock, token_id: str) -> None:
    clock.advance(timedelta(days=1, seconds=1))


def revoke(store: UserStore, clock: Clock, token_id: str) -> None:
    store.revoke_token(token_id)


def revoke_all(store: UserStore, clock: Clock, token_id: str) -> None:
    store.revoke_all("alice")


def disable(store: UserStore, clock: Clock, token_id: str) -> None:
    store.disable("alice")


REFUSALS: dict[str, tuple[Callable[[UserStore, Clock, str], None], str]] = {
    "expired": (expire, "expired"),
    "revoked": (revoke, "revoked"),
    "revoke_all": (revoke_all, "revoked"),
    "disabled": (disable, "revoked"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_token_is_refused(store: UserStore, alice: User, clock: Clock, case: str) -> None:
    issued = store.issue_token(alice, timedelta(days=1))
    change, reason = REFUSALS[case]
    change(store, clock, issued.token.id)
    with pytest.raises(TokenRefused, match=reason):
        store.authenticate_token(issued.secret)


def test_token_of_a_disabled_user_is_refused_even_if_not_revoked(
    db: Database, store: UserStore, alice: User
) -> None:
    issued = store.issue_token(alice, timedelta(days=1))
    with db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.username == "alice")).one()
        row.disabled = True
    with pytest.raises(TokenRefused, match="disabled"):
        store.authenticate_token(issued.secret)


def test_unknown_token_is_refused(store: UserStore, alice: User) -> None:
    with pytest.raises(TokenRefused, match="unknown"):
        store.authenticate_token("sct_not-a-token")


def test_revoke_all_leaves_other_users_tokens(store: UserStore, alice: User) -> None:
    bob = store.add("bob", Role.OPERATOR, PASSWORD)
    issued = store.issue_token(bob, timedelta(days=1))
    store.issue_token(alice, timedelta(days=1))
    assert store.revoke_all(alice) == 1
    assert store.authenticate_token(issued.secret) == bob


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1), timedelta(days=400)])
def test_token_lifetime_is_bounded(store: UserStore, alice: User, ttl: timedelta) -> None:
    with pytest.raises(UserError, match="lifetime"):
        store.issue_token(alice, ttl)


# -- roles and cameras ------------------------------------------------------------------------------


def test_role_change_takes_effect(store: UserStore, alice: User) -> None:
    store.set_role("alice", Role.AUDITOR)
    assert not store.get("alice").can(Permission.SEARCH_FACE)


def test_camera_limit_is_stored(store: UserStore) -> None:
    bob = store.add("bob", Role.OPERATOR, PASSWORD, camera_ids=["cam-1"])
    assert (bob.can(Permission.SEARCH_PLATE, "cam-1"), bob.can(Permission.SEARCH_PLATE, "cam-2")) == (
        True,
        False,
    )
    assert store.get("bob").camera_ids == frozenset({"cam-1"})


def test_no_camera_limit_means_every_camera(store: UserStore, alice: User) -> None:
    assert store.get("alice").camera_ids is None and alice.can(Permission.SEARCH_PLATE, "cam-2")


def test_unknown_camera_is_refused(store: UserStore) -> None:
    with pytest.raises(UserError, match="unknown camera"):
        store.add("bob", Role.OPERATOR, PASSWORD, camera_ids=["cam-9"])


def test_set_cameras_lifts_the_limit(store: UserStore) -> None:
    store.add("bob", Role.OPERATOR, PASSWORD, camera_ids=["cam-1"])
    assert store.set_cameras("bob", None).camera_ids is None


# -- audit ------------------------------------------------------------------------------------------

CHANGES: dict[str, Callable[[UserStore], object]] = {
    "add": lambda s: s.add("bob", Role.VIEWER, PASSWORD),
    "role": lambda s: s.set_role("alice", Role.OPERATOR),
    "disable": lambda s: s.disable("alice"),
    "password": lambda s: s.set_password("alice", "another long password"),
    "cameras": lambda s: s.set_cameras("alice", ["cam-1"]),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_user_change_is_audited(db: Database, store: UserStore, alice: User, change: str) -> None:
    CHANGES[change](store)
    entry = AuditLog(db).entries(UserAuditAction.USER_CHANGE)[-1]
    assert entry.details["change"] == change and entry.username == "system"


def test_change_records_the_actor(db: Database, store: UserStore, alice: User) -> None:
    store.set_role("alice", Role.VIEWER, actor=Actor("root", "admin"))
    entry = AuditLog(db).entries(UserAuditAction.USER_CHANGE)[-1]
    assert (entry.username, entry.role, entry.target) == ("root", "admin", "alice")


@pytest.mark.parametrize("change", ["issue", "revoke"])
def test_token_change_is_audited(db: Database, store: UserStore, alice: User, change: str) -> None:
    issued = store.issue_token(alice, timedelta(days=1))
    if change == "revoke":
        store.revoke_token(issued.token.id)
    entry = AuditLog(db).entries(UserAuditAction.TOKEN_CHANGE)[-1]
    assert entry.details["change"] == change and entry.details["token_id"] == issued.token.id
    assert issued.secret not in str(entry.details)


def test_login_results_are_audited(db: Database, store: UserStore, alice: User) -> None:
    fail(store, "alice", 3)
    with pytest.raises(LoginThrottled):
        store.login("alice", PASSWORD)
    results = [e.details["result"] for e in AuditLog(db).entries(UserAuditAction.LOGIN)]
    assert results == ["failed", "failed", "failed", "throttled"]
    assert AuditLog(db).verify().ok


def test_audit_never_holds_the_password(db: Database, store: UserStore, alice: User) -> None:
    fail(store, "alice", 1)
    store.login("alice", PASSWORD)
    assert not [e for e in AuditLog(db).entries() if PASSWORD in str(e) or "wrong password!" in str(e)]


# -- migration 0004 ---------------------------------------------------------------------------------


def test_downgrade_to_0003_removes_the_user_schema(db: Database) -> None:
    db.downgrade("0003")
    assert not {"api_tokens", "login_failures"} & set(inspect(db.engine).get_table_names())
    assert "camera_ids" not in {c["name"] for c in inspect(db.engine).get_columns("users")}


def test_users_survive_the_round_trip_with_every_camera(db: Database, store: UserStore, alice: User) -> None:
    """0004 adds `camera_ids` in place: existing users keep their rows and get no camera limit."""
    db.downgrade("0003")
    db.upgrade()
    assert store.login("alice", PASSWORD) == alice
