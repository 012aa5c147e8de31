"""Hostile sizes at the boundary (issue 16, items 9 and 12): every text a user sends that is stored
in a bounded column, and every list in a request body, is refused before it reaches the database,
on SQLite and PostgreSQL alike: 422 naming the field (API) or exit 2 naming the field and the
limit (CLI), never a 5xx or a traceback, and nothing is stored. The camera listing is paged.

One world per backend per module (refused requests change nothing, which each test checks), so
the PostgreSQL database is created and migrated once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from factories import camera, site
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from safecity.cli.app import app as cli_app
from safecity.config import Settings
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.field_limits import AUDIT_ENTRY, CAMERA, HOTLIST_ENTRY, SITE
from safecity.store.models import (
    AuditEntryRow,
    AuthorisationRow,
    CameraRow,
    HotlistEntryRow,
    SiteRow,
    UserRow,
    WatchlistRow,
)
from safecity.store.scratch import scratch_database

API = "/api/v1"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
LONG = 1_000_000
"""A text far over any limit: a megabyte, as an attacker would send (the issue saw 9.9 MB)."""
MANY = 100_000
"""Camera ids in a hostile list (the issue's 1.1 MB plate-search body)."""


@dataclass(frozen=True)
class World:
    db: Database
    url: str
    root: Path
    client: TestClient
    tokens: dict[str, str]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp(f"limits-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{root / 'safecity.db'}"
        else:
            admin_url: str = request.getfixturevalue("postgres_admin_url")
            url = stack.enter_context(scratch_database(admin_url, "safecity_limits"))
        db = Database.connect(url)
        stack.callback(db.close)
        db.upgrade()
        CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2")])
        users = UserStore(db, hasher=FAST_HASHER)
        tokens = {}
        for role in (Role.ADMIN, Role.INVESTIGATOR):
            users.add(f"{role.value}-user", role, "a long enough password")
            tokens[role.value] = users.issue_token(f"{role.value}-user", timedelta(days=1)).secret
        settings = Settings(data_dir=root / "var", database_url=url)
        client = stack.enter_context(TestClient(create_app(settings, db)))
        yield World(db, url, root, client, tokens)


def stored(db: Database) -> dict[str, int]:
    """Rows per table a refused request might have written to."""
    tables = (CameraRow, SiteRow, UserRow, AuthorisationRow, HotlistEntryRow, WatchlistRow, AuditEntryRow)
    with db.session() as session:
        return {
            t.__tablename__: int(session.scalar(select(func.count()).select_from(t)) or 0) for t in tables
        }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


NEW_CAMERA: dict[str, Any] = {"id": "cam-9", "name": "Slavija south", "latitude": 44.80, "longitude": 20.46}
AUTHORISATION: dict[str, Any] = {
    "authority": "Higher Court Belgrade",
    "reference": "Kpp 12/2026",
    "purpose": "serious_crime_suspect",
    "cameras": ["cam-1"],
    "valid_from": "2026-01-01T00:00:00Z",
    "valid_until": "2036-01-01T00:00:00Z",
}
MANY_IDS = [f"cam-{i:06d}" for i in range(MANY)]
CORNERS = [[i % 7, i] for i in range(1000)]
TOO_LONG = {
    "name": "n" * LONG,
    "operator": "o" * (CAMERA["operator"] + 1),
    "zone": "z" * (CAMERA["zone"] + 1),
    "legal_basis": "l" * (CAMERA["legal_basis"] + 1),
    "stream_url": "rtsp://10.0.0.1/" + "s" * CAMERA["stream_url"],
    "site_name": "s" * (SITE["name"] + 1),
}

# (role, method, path, body, field the 422 must name)
API_CASES: list[tuple[str, str, str, dict[str, Any], str]] = [
    *[("admin", "POST", "/cameras", {**NEW_CAMERA, f: v}, f) for f, v in TOO_LONG.items()],
    ("admin", "POST", "/cameras", {**NEW_CAMERA, "site_id": "s" * 65}, "site_id"),
    *[("admin", "PUT", "/cameras/cam-1", {f: v}, f) for f, v in TOO_LONG.items() if f != "site_name"],
    (
        "admin",
        "PUT",
        "/cameras/cam-1",
        {"site_id": "site-9", "site_name": TOO_LONG["site_name"]},
        "site_name",
    ),
    (
        "admin",
        "PUT",
        "/cameras/cam-1",
        {"counting": {"zones": [{"name": "z", "polygon": CORNERS}]}},
        "counting",
    ),
    ("admin", "PUT", "/cameras/cam-1", {"capabilities": ["motion"] * MANY}, "capabilities"),
    ("investigator", "POST", "/search/plates", {"query": "BG123AB", "cameras": MANY_IDS}, "cameras"),
    ("investigator", "POST", "/search/plates", {"query": "BG123AB", "cameras": ["c" * LONG]}, "cameras"),
    ("investigator", "POST", "/search/plates", {"query": "BG123AB", "site": "s" * LONG}, "site"),
    ("investigator", "POST", "/search/plates", {"query": "BG123AB", "reason": "r" * LONG}, "reason"),
    (
        "investigator",
        "POST",
        "/hotlists",
        {"plate": "BG123AB", "reason": "r" * LONG, "owner": "unit 7"},
        "reason",
    ),
    ("admin", "POST", "/authorisations", {**AUTHORISATION, "cameras": MANY_IDS}, "cameras"),
    ("admin", "POST", "/authorisations", {**AUTHORISATION, "cameras": ["c" * LONG]}, "cameras"),
    ("admin", "POST", "/authorisations", {**AUTHORISATION, "note": "n" * LONG}, "note"),
    ("admin", "POST", "/authorisations", {**AUTHORISATION, "authority": "a" * LONG}, "authority"),
    ("admin", "POST", "/users", {"username": "new-user", "role": "viewer", "cameras": MANY_IDS}, "cameras"),
    (
        "admin",
        "POST",
        "/users",
        {"username": "new-user", "role": "viewer", "cameras": ["c" * LONG]},
        "cameras",
    ),
    ("admin", "PATCH", "/users/investigator-user", {"cameras": MANY_IDS}, "cameras"),
    ("investigator", "POST", "/watchlists", {"name": "w", "authorisation": "a" * LONG}, "authorisation"),
    ("investigator", "POST", "/watchlists", {"name": "w" * LONG, "authorisation": "x"}, "name"),
    (
        "investigator",
        "POST",
        "/watchlists",
        {"name": "w", "authorisation": "x", "description": "d" * LONG},
        "description",
    ),
]


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "field"),
    API_CASES,
    ids=[f"{m} {p} {f}" + (" list" if isinstance(b.get(f), list) else "") for _, m, p, b, f in API_CASES],
)
def test_an_oversized_field_is_a_422_naming_it_and_nothing_is_stored(
    world: World, role: str, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    before = stored(world.db)
    r = world.client.request(method, f"{API}{path}", json=body, headers=bearer(world.tokens[role]))
    assert r.status_code == 422, r.text[:500]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.json()["detail"], r.json()["detail"][:500]
    assert len(r.content) < 10_000  # the answer does not echo the megabyte back
    assert stored(world.db) == before


def _geojson(**properties: object) -> bytes:
    props = {"ref": "cam-9", "name": "Slavija south", **properties}
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [20.46, 44.80]},
        "properties": props,
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


IMPORT_CASES = [
    ("name", "n" * (CAMERA["name"] + 1)),
    ("operator", "o" * (CAMERA["operator"] + 1)),
    ("surveillance:zone", "z" * (CAMERA["zone"] + 1)),
    ("safecity:legal_basis", "l" * (CAMERA["legal_basis"] + 1)),
    ("safecity:site_name", "s" * (SITE["name"] + 1)),
    ("safecity:site_address", "a" * (SITE["address"] + 1)),
]


@pytest.mark.parametrize(("key", "value"), IMPORT_CASES, ids=[k for k, _ in IMPORT_CASES])
def test_an_import_with_an_oversized_property_is_a_422_naming_it(world: World, key: str, value: str) -> None:
    before = stored(world.db)
    files = {"file": ("cams.geojson", _geojson(**{key: value}), "application/geo+json")}
    r = world.client.post(f"{API}/cameras/import", files=files, headers=bearer(world.tokens["admin"]))
    assert r.status_code == 422 and key in r.json()["detail"], r.text[:500]
    assert stored(world.db) == before


def test_a_plate_search_naming_100000_cameras_is_refused_fast_and_not_recorded(world: World) -> None:
    before = stored(world.db)
    started = time.monotonic()
    r = world.client.post(
        f"{API}/search/plates",
        json={"query": "BG123AB", "cameras": MANY_IDS, "reason": "case 2026/17, stolen car"},
        headers=bearer(world.tokens["investigator"]),
    )
    elapsed = time.monotonic() - started
    assert (
        r.status_code == 422
        and "cameras" in r.json()["detail"]
        and "api.max_list_items" in r.json()["detail"]
    )
    assert elapsed < 2.0
    assert stored(world.db) == before


def test_an_unknown_camera_in_a_search_is_still_named(world: World) -> None:
    r = world.client.post(
        f"{API}/search/plates",
        json={"query": "BG123AB", "cameras": ["cam-1", "cam-404"], "reason": "case 2026/17, stolen car"},
        headers=bearer(world.tokens["investigator"]),
    )
    assert r.status_code == 400 and "cam-404" in r.json()["detail"]


def test_a_list_at_the_limit_is_taken(world: World) -> None:
    cameras = ["cam-1", "cam-2"] * (Settings().api.max_list_items // 2)
    r = world.client.post(
        f"{API}/search/plates",
        json={"query": "BG123AB", "cameras": cameras, "reason": "case 2026/17, stolen car"},
        headers=bearer(world.tokens["investigator"]),
    )
    assert r.status_code == 200, r.text[:500]


# ---------------------------------------------------------------- paging


def test_the_camera_listing_is_paged(world: World) -> None:
    headers = bearer(world.tokens["investigator"])
    first = world.client.get(f"{API}/cameras", params={"limit": 1}, headers=headers)
    assert [c["id"] for c in first.json()] == ["cam-1"]
    assert first.headers["X-Next-Offset"] == "1" and 'rel="next"' in first.headers["Link"]
    second = world.client.get(f"{API}/cameras", params={"limit": 1, "offset": 1}, headers=headers)
    assert [c["id"] for c in second.json()] == ["cam-2"]
    assert "X-Next-Offset" not in second.headers and "Link" not in second.headers


def test_the_camera_listing_without_a_limit_is_whole(world: World) -> None:
    r = world.client.get(f"{API}/cameras", headers=bearer(world.tokens["investigator"]))
    assert [c["id"] for c in r.json()] == ["cam-1", "cam-2"] and "X-Next-Offset" not in r.headers


@pytest.mark.parametrize("path", ["/cameras", "/sites"])
def test_a_page_over_page_max_is_a_422(world: World, path: str) -> None:
    page_max = Settings().api.page_max
    r = world.client.get(
        f"{API}{path}", params={"limit": page_max + 1}, headers=bearer(world.tokens["admin"])
    )
    assert r.status_code == 422 and "limit" in r.json()["detail"] and "api.page_max" in r.json()["detail"]


def test_the_site_listing_is_paged(world: World) -> None:
    r = world.client.get(
        f"{API}/sites", params={"limit": 1, "offset": 1}, headers=bearer(world.tokens["admin"])
    )
    assert r.status_code == 200 and r.json() == []


# ---------------------------------------------------------------- command line

runner = CliRunner()


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The command line over the world's database."""
    monkeypatch.chdir(world.root)
    monkeypatch.setenv("SAFECITY_DATA_DIR", str(world.root / "var"))
    monkeypatch.setenv("SAFECITY_DATABASE_URL", world.url)
    monkeypatch.delenv("SAFECITY_CONFIG", raising=False)
    return world


ADD = ["camera", "add", "cam-9", "--name", "Slavija south", "--lat", "44.80", "--lon", "20.46"]
CLI_CASES: list[tuple[list[str], str, int]] = [
    ([*ADD, "--name", "n" * LONG], "--name", CAMERA["name"]),
    ([*ADD, "--operator", "o" * (CAMERA["operator"] + 1)], "--operator", CAMERA["operator"]),
    ([*ADD, "--zone", "z" * (CAMERA["zone"] + 1)], "--zone", CAMERA["zone"]),
    ([*ADD, "--legal-basis", "l" * (CAMERA["legal_basis"] + 1)], "--legal-basis", CAMERA["legal_basis"]),
    ([*ADD, "--stream-url", "rtsp://h/" + "s" * CAMERA["stream_url"]], "--stream-url", CAMERA["stream_url"]),
    ([*ADD, "--site-name", "s" * (SITE["name"] + 1)], "--site-name", SITE["name"]),
    (
        ["hotlist", "add", "BG123AB", "--reason", "r" * LONG, "--owner", "unit 7"],
        "reason",
        HOTLIST_ENTRY["reason"],
    ),
    (["search", "plate", "BG123AB", "--reason", "r" * LONG], "--reason", AUDIT_ENTRY["justification"]),
]


@pytest.mark.parametrize(("args", "field", "limit"), CLI_CASES, ids=[f for _, f, _ in CLI_CASES])
def test_the_cli_refuses_an_oversized_field_with_exit_2_in_one_line(
    cli: World, args: list[str], field: str, limit: int
) -> None:
    before = stored(cli.db)
    result = runner.invoke(cli_app, args)
    assert result.exit_code == 2, result.output[:500]
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message and len(message) < 500, message[:500]
    assert field in message and str(limit) in message
    assert stored(cli.db) == before


@pytest.mark.parametrize(("key", "value"), IMPORT_CASES, ids=[k for k, _ in IMPORT_CASES])
def test_the_cli_import_refuses_an_oversized_property_with_exit_2(cli: World, key: str, value: str) -> None:
    before = stored(cli.db)
    path = cli.root / "cams.geojson"
    path.write_bytes(_geojson(**{key: value}))
    result = runner.invoke(cli_app, ["camera", "import", str(path)])
    message = result.output.strip()
    assert result.exit_code == 2 and "\n" not in message and "Traceback" not in message, message[:500]
    assert key in message and str(len(value) - 1) in message
    assert stored(cli.db) == before


def test_the_list_limit_is_a_setting_the_web_search_keeps_too(world: World) -> None:
    """Starlette already refuses a form of over 1,000 fields; a lower `api.max_list_items` holds
    for the web search as for the API."""
    settings = Settings(data_dir=world.root / "var", database_url=world.url, api={"max_list_items": 2})
    three = ["cam-1", "cam-2", "cam-1"]
    reason = "case 2026/17, stolen car"
    with TestClient(create_app(settings, world.db)) as client:
        before = stored(world.db)
        api = client.post(
            f"{API}/search/plates",
            json={"query": "BG123AB", "cameras": three, "reason": reason},
            headers=bearer(world.tokens["investigator"]),
        )
        assert api.status_code == 422 and "api.max_list_items" in api.json()["detail"]
        assert stored(world.db) == before
        login = {"username": "investigator-user", "password": "a long enough password"}
        assert client.post(f"{API}/auth/login", json=login).status_code == 200
        before = stored(world.db)
        form = {"plate": "BG123AB", "cameras": three, "reason": reason}
        web = client.post("/search", data=form, headers={"Origin": str(client.base_url)})
        client.cookies.clear()
        assert web.status_code == 422 and "api.max_list_items" in web.text
        assert stored(world.db) == before
