"""Threat model: a password guesser, and somebody who wants to lock the admin out.

Before, five wrong passwords for a name locked that account for 15 minutes for everyone: anyone
on the network could lock out every admin. Now failures slow down the guesser (per account and
address, with doubling delays), an address that tries many accounts, and an account tried from
many addresses (with a short cap), and never the owner at another address; an admin can clear
an account's failures. Every attempt and the unlock are in the audit chain.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from api_world import PASSWORD, bearer
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from safecity.governance.audit import AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import LoginFailed, LoginPolicy, LoginThrottled, UserStore
from safecity.store.database import Database

T0 = datetime(2026, 12, 7, 9, tzinfo=UTC)
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
POLICY = LoginPolicy(
    free_failures=3,
    free_failures_per_address=10,
    free_failures_per_user=8,
    delay_initial=timedelta(seconds=2),
    delay_cap=timedelta(minutes=15),
    delay_cap_per_user=timedelta(minutes=1),
    window=timedelta(hours=1),
)
GUESSER, OWNER = "198.51.100.7", "203.0.113.20"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db: Database, clock: Clock) -> UserStore:
    users = UserStore(db, policy=POLICY, hasher=FAST, clock=clock)
    users.add("admin", Role.ADMIN, PASSWORD)
    return users


def guess(store: UserStore, times: int, username: str = "admin", address: str = GUESSER) -> None:
    for _ in range(times):
        with pytest.raises(LoginFailed):
            store.login(username, "not the password", address=address)


def test_the_owner_logs_in_from_elsewhere_while_a_guesser_is_slowed(store: UserStore) -> None:
    guess(store, 3)
    with pytest.raises(LoginThrottled):
        store.login("admin", PASSWORD, address=GUESSER)
    assert store.login("admin", PASSWORD, address=OWNER).username == "admin"


def test_each_failure_past_the_free_ones_doubles_the_delay(store: UserStore, clock: Clock) -> None:
    guess(store, 3)
    delays = []
    for _ in range(4):
        with pytest.raises(LoginThrottled) as refused:
            store.login("admin", "not the password", address=GUESSER)
        delays.append(refused.value.until - clock.now)
        clock.now = refused.value.until
        guess(store, 1)
    assert delays == [timedelta(seconds=s) for s in (2, 4, 8, 16)]


def test_the_delay_is_capped(store: UserStore, clock: Clock) -> None:
    guess(store, 3)
    for _ in range(10):  # 2 s doubled 9 times passes the 15-minute cap within the hour's window
        with pytest.raises(LoginThrottled) as refused:
            store.login("admin", PASSWORD, address=GUESSER)
        clock.now = refused.value.until
        guess(store, 1)
    with pytest.raises(LoginThrottled) as refused:
        store.login("admin", PASSWORD, address=GUESSER)
    assert refused.value.until - clock.now == POLICY.delay_cap


def test_many_addresses_cannot_lock_the_owner_out_for_long(store: UserStore, clock: Clock) -> None:
    for i in range(40):  # a botnet: each address guesses once, as soon as it may
        try:
            guess(store, 1, address=f"192.0.2.{i}")
        except LoginThrottled as refused:
            assert refused.until - clock.now <= POLICY.delay_cap_per_user
            clock.now = refused.until
            guess(store, 1, address=f"192.0.2.{i}")
    with pytest.raises(LoginThrottled) as refused:
        store.login("admin", PASSWORD, address=OWNER)
    assert refused.value.until - clock.now <= POLICY.delay_cap_per_user
    clock.now = refused.value.until
    assert store.login("admin", PASSWORD, address=OWNER).username == "admin"


def test_one_address_trying_many_accounts_is_slowed(store: UserStore) -> None:
    for i in range(10):
        guess(store, 1, username=f"user{i}")
    with pytest.raises(LoginThrottled):
        store.login("somebody-else", "not the password", address=GUESSER)


def test_a_success_clears_only_its_own_address(store: UserStore) -> None:
    guess(store, 2, address=OWNER)
    guess(store, 3, address=GUESSER)
    store.login("admin", PASSWORD, address=OWNER)
    with pytest.raises(LoginThrottled):
        store.login("admin", PASSWORD, address=GUESSER)


def test_unlock_ends_the_delays_and_is_recorded(db: Database, store: UserStore) -> None:
    guess(store, 3)
    with pytest.raises(LoginThrottled):
        store.login("admin", PASSWORD, address=GUESSER)
    assert store.unlock("admin") == 3  # a throttled attempt is recorded, not counted as a failure
    assert store.login("admin", PASSWORD, address=GUESSER).username == "admin"
    entries = AuditLog(db).entries("user_change")
    assert entries[-1].details["change"] == "unlock" and entries[-1].target == "admin"
    assert AuditLog(db).verify().ok


def test_every_attempt_is_recorded_with_its_address(db: Database, store: UserStore) -> None:
    guess(store, 3)
    with pytest.raises(LoginThrottled):
        store.login("admin", PASSWORD, address=GUESSER)
    store.login("admin", PASSWORD, address=OWNER)
    logins = [(e.details["result"], e.details["address"]) for e in AuditLog(db).entries("login")]
    assert logins == [("failed", GUESSER)] * 3 + [("throttled", GUESSER), ("ok", OWNER)]


# -- over HTTP


def test_api_says_429_and_the_admin_unlocks(client: TestClient, tokens: dict[str, str]) -> None:
    def attempt(password: str) -> int:
        body = {"username": "operator-user", "password": password}
        return client.post("/api/v1/auth/login", json=body).status_code

    codes = [attempt("not the password") for _ in range(7)]
    assert codes[:5] == [401] * 5 and codes[-1] == 429
    assert attempt(PASSWORD) == 429
    r = client.post("/api/v1/users/operator-user/unlock", headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.json()["failures_cleared"] >= 5
    assert attempt(PASSWORD) == 200


def test_only_an_admin_unlocks(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post("/api/v1/users/operator-user/unlock", headers=bearer(tokens["operator"]))
    assert r.status_code == 403
