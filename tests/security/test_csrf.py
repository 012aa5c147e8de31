"""Cross-site request forgery from same-site origins (issue 16, item 5).

A page on another port of the same host is same-SITE, so the SameSite=Strict session cookie
goes with its requests; only the `Origin` (or, without one, the `Referer`) tells them apart. The
table: unsafe API and web-form requests × where they come from. With the session cookie, only
this server's own origin may act; a bearer token (a program) is not a browser's ambient
credential and is unaffected. The live WebSocket's handshake follows the same rule. The real
browser attack is in `test_csrf_browser.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import pytest
from argon2 import PasswordHasher
from factories import camera, site
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.registry.geojson import cameras_to_geojson
from safecity.server.app import create_app
from safecity.server.security import SESSION_COOKIE
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.types import Capability, new_id

PASSWORD = "a long enough password"
REASON = "case 12/2026, missing person"
SELF = "http://testserver"
"""The origin TestClient's requests are addressed to (Host: testserver)."""
OTHER_PORT = "http://testserver:8767"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
USERS = {
    "investigator": Role.INVESTIGATOR,
    "operator": Role.OPERATOR,
    "admin": Role.ADMIN,
    "auditor": Role.AUDITOR,
}


@dataclass
class World:
    settings: Settings
    db: Database
    client: TestClient

    def token(self, username: str) -> str:
        """A fresh session token for `username` (a logout in one test must not end another's)."""
        return UserStore(self.db, hasher=FAST_HASHER).issue_token(username, timedelta(hours=1)).secret

    def audit(self) -> list[tuple[str, str]]:
        """(action, username) of every entry but refusals: what was done."""
        return [
            (str(e.action), e.username)
            for e in AuditLog(self.db).entries()
            if e.action != AuditAction.ACCESS_DENIED
        ]

    def refusals(self) -> list[Any]:
        return AuditLog(self.db).entries(AuditAction.ACCESS_DENIED)


@contextmanager
def open_world(root: Path, **api: Any) -> Iterator[World]:
    settings = Settings(data_dir=root, api=api)
    db = Database.open(settings.effective_database_url, settings.store)
    both = frozenset({Capability.PLATES, Capability.FACES, Capability.MOTION})
    CameraStore(db).save([site()], [camera("cam-1", capabilities=both), camera("cam-2")])
    users = UserStore(db, hasher=FAST_HASHER)
    for name, role in USERS.items():
        users.add(name, role, PASSWORD)
    try:
        with TestClient(create_app(settings, db)) as client:
            yield World(settings, db, client)
    finally:
        db.close()


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One server for the module: each request below is built so that it can be sent again."""
    with open_world(tmp_path_factory.mktemp("csrf") / "var") as w:
        yield w


@pytest.fixture
def world(shared_world: World) -> World:
    shared_world.client.cookies.clear()
    return shared_world


# ---------------------------------------------------------------- the requests an attacker forges


def _jpeg() -> bytes:
    ok, data = cv2.imencode(".jpg", reference_image("grace_hopper"))
    assert ok
    return bytes(data)


def _pending_authorisation(w: World) -> str:
    body = {
        "authority": "Higher Court Belgrade",
        "reference": f"Kpp {new_id()[:8]}",  # the module shares one database
        "purpose": "missing_person",
        "cameras": ["cam-1"],
        "valid_from": "2026-03-01T00:00:00+00:00",
        "valid_until": "2099-01-01T00:00:00+00:00",
        "urgent": True,
    }
    r = w.client.post("/api/v1/authorisations", json=body, headers=bearer(w.token("admin")))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Forged:
    """One unsafe request: who the victim is, and how to build the request (method, path, kwargs)."""

    name: str
    victim: str
    build: Callable[[World], tuple[str, str, dict[str, Any]]]
    ok: int


def _face_search(w: World) -> tuple[str, str, dict[str, Any]]:
    files = {"photo": ("face.jpg", _jpeg(), "image/jpeg")}
    return "POST", "/api/v1/search/faces", {"files": files, "data": {"reason": REASON}}


def _camera_import(w: World) -> tuple[str, str, dict[str, Any]]:
    fresh = f"cam-{new_id()[:8]}"
    geojson = json.dumps(cameras_to_geojson([camera(fresh, site_id="site-9")], [site("site-9")]))
    files = {"file": ("cams.geojson", geojson.encode(), "application/geo+json")}
    return "POST", "/api/v1/cameras/import", {"files": files}


def _approve(w: World) -> tuple[str, str, dict[str, Any]]:
    return "POST", f"/api/v1/authorisations/{_pending_authorisation(w)}/approve", {}


def _plate_search(w: World) -> tuple[str, str, dict[str, Any]]:
    return "POST", "/api/v1/search/plates", {"json": {"query": "BG123AB", "reason": REASON}}


def _logout(w: World) -> tuple[str, str, dict[str, Any]]:
    return "POST", "/api/v1/auth/logout", {}


def _web_plate_search(w: World) -> tuple[str, str, dict[str, Any]]:
    return "POST", "/search", {"data": {"plate": "BG123AB", "reason": REASON}}


def _web_audit_verify(w: World) -> tuple[str, str, dict[str, Any]]:
    return "POST", "/audit/verify", {}


FORGED = [
    Forged("api face search (multipart)", "investigator", _face_search, 200),
    Forged("api camera import", "admin", _camera_import, 200),
    Forged("api authorisation approve", "admin", _approve, 200),
    Forged("api plate search", "operator", _plate_search, 200),
    Forged("api logout", "operator", _logout, 204),
    Forged("web plate search form", "operator", _web_plate_search, 200),
    Forged("web audit verify form", "auditor", _web_audit_verify, 200),
]

# (name, credential: "cookie" | "bearer", headers)
ALLOWED = [
    ("same origin", "cookie", {"Origin": SELF}),
    ("same origin by Referer", "cookie", {"Referer": f"{SELF}/search"}),
    ("bearer token from a foreign origin", "bearer", {"Origin": OTHER_PORT}),
    ("bearer token without an Origin", "bearer", {}),
]
REFUSED = [
    ("another port of the same host", {"Origin": OTHER_PORT}),
    ("another host", {"Origin": "http://testserver.evil.example"}),
    ("another scheme", {"Origin": "https://testserver"}),
    ("an opaque origin (null)", {"Origin": "null"}),
    ("neither Origin nor Referer", {}),
    ("a Referer from another port", {"Referer": f"{OTHER_PORT}/attack.html"}),
    ("a foreign Origin with a same-origin Referer", {"Origin": OTHER_PORT, "Referer": f"{SELF}/"}),
]


def send(w: World, forged: Forged, credential: str, headers: dict[str, str]) -> Any:
    method, path, kwargs = forged.build(w)
    if credential == "cookie":
        w.client.cookies.set(SESSION_COOKIE, w.token(forged.victim))
        sent = dict(headers)
    else:
        sent = {**headers, **bearer(w.token(forged.victim))}
    return w.client.request(method, path, headers=sent, **kwargs)


@pytest.mark.parametrize("forged", FORGED, ids=lambda f: f.name)
@pytest.mark.parametrize(("case", "credential", "headers"), ALLOWED, ids=[a[0] for a in ALLOWED])
def test_a_request_from_this_server_or_with_a_bearer_token_goes_through(
    world: World, forged: Forged, case: str, credential: str, headers: dict[str, str]
) -> None:
    r = send(world, forged, credential, headers)
    assert r.status_code == forged.ok, r.text


@pytest.mark.parametrize("forged", FORGED, ids=lambda f: f.name)
@pytest.mark.parametrize(("case", "headers"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_cookie_request_from_elsewhere_is_refused_before_it_acts(
    world: World, forged: Forged, case: str, headers: dict[str, str]
) -> None:
    method, path, kwargs = forged.build(world)
    world.client.cookies.set(SESSION_COOKIE, world.token(forged.victim))
    done_before, cameras_before = world.audit(), [c.id for c in CameraStore(world.db).all()]
    r = world.client.request(method, path, headers=headers, **kwargs)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "origin" in r.json()["detail"].lower()
    assert world.audit() == done_before
    assert [c.id for c in CameraStore(world.db).all()] == cameras_before


def test_a_refusal_is_recorded_as_access_denied_for_the_victim(world: World) -> None:
    world.client.cookies.set(SESSION_COOKIE, world.token("operator"))
    r = world.client.post(
        "/api/v1/search/plates", json={"query": "BG1", "reason": REASON}, headers={"Origin": OTHER_PORT}
    )
    assert r.status_code == 403
    denied = world.refusals()[-1]
    assert denied.username == "operator" and denied.target == "POST /api/v1/search/plates"
    assert OTHER_PORT in denied.details["why"]


def test_the_session_still_works_after_a_refused_logout(world: World) -> None:
    world.client.cookies.set(SESSION_COOKIE, world.token("operator"))
    assert world.client.post("/api/v1/auth/logout", headers={"Origin": OTHER_PORT}).status_code == 403
    assert world.client.get("/api/v1/auth/me").status_code == 200


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_are_not_checked(world: World, method: str) -> None:
    world.client.cookies.set(SESSION_COOKIE, world.token("operator"))
    r = world.client.request(method, "/api/v1/auth/me", headers={"Origin": OTHER_PORT})
    assert r.status_code != 403


# ---------------------------------------------------------------- login CSRF


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": SELF}, 200),
        ({}, 200),  # a program logging in (curl, a script): no browser, no Origin
        ({"Origin": OTHER_PORT}, 403),
        ({"Origin": "null"}, 403),
        ({"Referer": f"{OTHER_PORT}/attack.html"}, 403),
    ],
)
def test_a_login_from_a_foreign_origin_is_refused(world: World, headers: dict[str, str], status: int) -> None:
    r = world.client.post(
        "/api/v1/auth/login", json={"username": "operator", "password": PASSWORD}, headers=headers
    )
    assert r.status_code == status
    assert ("set-cookie" in r.headers) == (status == 200)


# ---------------------------------------------------------------- reverse proxy


@pytest.mark.parametrize(("origin", "status"), [("https://city.example", 200), ("https://evil.example", 403)])
def test_an_allowed_origin_names_the_public_address_behind_a_proxy(
    tmp_path: Path, origin: str, status: int
) -> None:
    with open_world(tmp_path / "var", allowed_origins=["https://city.example"]) as w:
        w.client.cookies.set(SESSION_COOKIE, w.token("operator"))
        r = w.client.post(
            "/api/v1/search/plates", json={"query": "BG1", "reason": REASON}, headers={"Origin": origin}
        )
    assert r.status_code == status


@pytest.mark.parametrize("bad", ["city.example", "https://city.example/app", "ftp://city.example", "*"])
def test_an_allowed_origin_must_be_scheme_host_and_port(bad: str) -> None:
    with pytest.raises(ValueError, match="allowed_origins"):
        Settings(api={"allowed_origins": [bad]})


# ---------------------------------------------------------------- the live WebSocket


@pytest.mark.parametrize(
    "headers", [{"Origin": OTHER_PORT}, {"Origin": "null"}, {}], ids=["other port", "null", "no Origin"]
)
def test_a_cookie_handshake_from_elsewhere_is_closed_as_a_policy_violation(
    world: World, headers: dict[str, str]
) -> None:
    world.client.cookies.set(SESSION_COOKIE, world.token("operator"))
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        world.client.websocket_connect("/api/v1/live", headers=headers) as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 1008


def test_a_cookie_handshake_from_this_server_is_accepted(world: World) -> None:
    world.client.cookies.set(SESSION_COOKIE, world.token("operator"))
    with world.client.websocket_connect("/api/v1/live", headers={"Origin": SELF}) as ws:
        assert ws.receive_json()["type"] == "cameras"


def test_a_program_with_a_token_in_the_query_is_accepted(world: World) -> None:
    url = "/api/v1/live?token=" + world.token("operator")
    with world.client.websocket_connect(url, headers={"Origin": OTHER_PORT}) as ws:
        assert ws.receive_json()["type"] == "cameras"
