"""Threat model: many people on one installation at once, over real HTTP, on SQLite and PostgreSQL.

Before, on the embedded default, 100 plate searches two at a time forked the audit chain, and
200 logins twenty at a time gave HTTP 500s ("database is locked") and connection resets. Here a
real uvicorn server takes gated reads at 4 and at 20 concurrent and logins at 20 concurrent:
every answer is the expected one (no 5xx, no reset), every search has its audit entry, and the
chain verifies. The load figures themselves are `bench/bench_api_load.py`'s.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from api_world import PASSWORD
from factories import camera, site

from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.server.runner import ApiServer
from safecity.store.cameras import CameraStore
from safecity.store.database import Database

USERS = 10
REASON = "case 2026/17: a stolen van"


@dataclass(frozen=True)
class Served:
    url: str
    db: Database
    tokens: dict[str, str]


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'safecity.db'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    settings = Settings(data_dir=tmp_path, database_url=url)
    db = Database.connect(settings.effective_database_url, settings.store)
    db.upgrade()
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2")])
    users, tokens = UserStore(db), {}
    for i in range(USERS):
        name = f"inv-{i}"
        users.add(name, Role.INVESTIGATOR, PASSWORD)
        tokens[name] = users.issue_token(name, timedelta(hours=1)).secret
    users.add("op", Role.OPERATOR, PASSWORD)
    tokens["op"] = users.issue_token("op", timedelta(hours=1)).secret
    server = ApiServer(create_app(settings, db), "127.0.0.1", 0).start()
    try:
        yield Served(server.url, db, tokens)
    finally:
        server.close()
        db.close()


def hammer(n: int, concurrent: int, call: Callable[[httpx.Client, int], httpx.Response]) -> Counter[str]:
    """`n` calls, `concurrent` at a time, each thread with its own connection; answers by status."""
    local, clients = threading.local(), []

    def one(i: int) -> str:
        if not hasattr(local, "client"):
            # A program, not a browser: it sends its token and keeps no session cookie.
            local.client = httpx.Client(timeout=60, cookies=None)
            clients.append(local.client)
        try:
            return str(call(local.client, i).status_code)
        except httpx.TransportError as exc:  # a reset or a refused connection: never expected
            return type(exc).__name__
        finally:
            local.client.cookies.clear()

    try:
        with ThreadPoolExecutor(concurrent) as pool:
            return Counter(pool.map(one, range(n)))
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize("concurrent", [4, 20])
def test_gated_reads_at_once_lose_nothing_and_keep_the_chain(served: Served, concurrent: int) -> None:
    def call(client: httpx.Client, i: int) -> httpx.Response:
        token = served.tokens[f"inv-{i % USERS}"]
        headers = {"Authorization": f"Bearer {token}"}
        if i % 4 == 3:
            return client.get(f"{served.url}/api/v1/alerts", headers=headers)
        body = {"query": f"BG{i:03d}AB", "reason": REASON}
        return client.post(f"{served.url}/api/v1/search/plates", json=body, headers=headers)

    answers = hammer(200, concurrent, call)
    assert answers == Counter({"200": 200})
    log = AuditLog(served.db)
    assert len(log.entries(AuditAction.SEARCH_PLATE)) == 150
    result = log.verify()
    assert result.ok, result.problem


def test_logins_at_once_answer_each_as_it_should(served: Served) -> None:
    def call(client: httpx.Client, i: int) -> httpx.Response:
        wrong = i % 10 == 9  # one in ten is somebody guessing op's password
        body = {
            "username": "op" if wrong else f"inv-{i % USERS}",
            "password": "guess" * 3 if wrong else PASSWORD,
        }
        return client.post(f"{served.url}/api/v1/auth/login", json=body)

    answers = hammer(200, 20, call)
    assert answers["200"] == 180, answers
    assert answers["401"] + answers["429"] == 20 and answers["401"] >= 5
    assert sum(answers.values()) == 200
    log = AuditLog(served.db)
    results = Counter(str(e.details["result"]) for e in log.entries("login"))
    assert results["ok"] == 180 and results["failed"] + results["throttled"] == 20
    assert log.verify().ok


def test_logins_mixed_with_searches_and_alert_lists(served: Served) -> None:
    def call(client: httpx.Client, i: int) -> httpx.Response:
        headers = {"Authorization": f"Bearer {served.tokens[f'inv-{i % USERS}']}"}
        match i % 3:
            case 0:
                return client.post(
                    f"{served.url}/api/v1/auth/login",
                    json={"username": f"inv-{i % USERS}", "password": PASSWORD},
                )
            case 1:
                body = {"query": "BG*", "reason": REASON}
                return client.post(f"{served.url}/api/v1/search/plates", json=body, headers=headers)
            case _:
                return client.get(f"{served.url}/api/v1/alerts", headers=headers)

    assert hammer(150, 20, call) == Counter({"200": 150})
    assert AuditLog(served.db).verify().ok
