"""Image bombs (issue 16, item 6): a small file that declares a huge image is refused from its header.

The issue's 48 KB PNG declaring 20000x20000 cost 48.7 s and 5.5 GB of server memory before a 422;
its 303 KB PNG declaring 50000x50000 was an HTTP 500 (`cv2.error`, CV_IO_MAX_IMAGE_PIXELS). Every
path that decodes a user's photo (API face search and enrolment, the web face search, and the
CLI's `search face` and `watchlist enrol`) now reads the size from the header first: a bomb is a
413 (exit 2 from the CLI) naming `api.max_image_pixels`, in well under a second, without the
process growing, and nothing is stored or recorded. A header that cannot be read is refused too.

One SQLite world for the module: refused requests change nothing, which each test checks.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from factories import camera, site
from fastapi.testclient import TestClient
from image_files import encoded, jpeg_declaring, png_bomb
from sqlalchemy import func, select
from typer.testing import CliRunner

from safecity.cli.app import app as cli_app
from safecity.config import Settings
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import AuditEntryRow, WatchlistEntryRow, WatchlistPhotoRow
from safecity.types import Capability

API = "/api/v1"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
REASON = "case K-7/2026, missing person"
ORIGIN = {"Origin": "http://testserver"}
MAX_RSS_GROWTH_KB = 256 * 1024
"""Decoding the smallest bomb takes 1.2 GB; a refusal from the header takes next to nothing."""


@dataclass(frozen=True)
class World:
    db: Database
    root: Path
    client: TestClient
    token: str
    watchlist: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("bombs")
    settings = Settings(data_dir=root / "var")
    db = Database.open(settings.effective_database_url, settings.store)
    faces = frozenset({Capability.FACES, Capability.MOTION})
    CameraStore(db).save([site()], [camera("cam-1", capabilities=faces)])
    users = UserStore(db, hasher=FAST_HASHER)
    users.add("admin-user", Role.ADMIN, "a long enough password")
    users.add("investigator-user", Role.INVESTIGATOR, "a long enough password")
    admin = users.issue_token("admin-user", timedelta(days=1)).secret
    token = users.issue_token("investigator-user", timedelta(days=1)).secret
    with TestClient(create_app(settings, db)) as client:
        authorisation = {
            "authority": "Higher Court Belgrade",
            "reference": "Kpp 12/2026",
            "purpose": "missing_person",
            "cameras": ["cam-1"],
            "valid_from": "2026-03-01T00:00:00+00:00",
            "valid_until": "2099-01-01T00:00:00+00:00",
        }
        r = client.post(f"{API}/authorisations", json=authorisation, headers=bearer(admin))
        assert r.status_code == 201, r.text
        body = {"name": "missing 12", "authorisation": "Kpp 12/2026"}
        r = client.post(f"{API}/watchlists", json=body, headers=bearer(token))
        assert r.status_code == 201, r.text
        yield World(db, root, client, token, r.json()["id"])
    db.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stored(world: World) -> tuple[dict[str, int], int]:
    """Rows a refused photo might have written (audit, enrolled persons, their photos) and media files."""
    with world.db.session() as session:
        rows = {
            t.__tablename__: int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in (AuditEntryRow, WatchlistEntryRow, WatchlistPhotoRow)
        }
    media = world.root / "var" / "media"
    return rows, sum(1 for p in media.rglob("*") if p.is_file()) if media.is_dir() else 0


@dataclass(frozen=True)
class Outcome:
    status: int
    """HTTP status, or the CLI's exit code."""
    message: str


def api_search(world: World, name: str, data: bytes, kind: str) -> Outcome:
    r = world.client.post(
        f"{API}/search/faces",
        files={"photo": (name, data, kind)},
        data={"reason": REASON},
        headers=bearer(world.token),
    )
    return Outcome(r.status_code, r.json()["detail"] if r.status_code >= 400 else r.text)


def api_enrol(world: World, name: str, data: bytes, kind: str) -> Outcome:
    r = world.client.post(
        f"{API}/watchlists/{world.watchlist}/persons",
        data={"label": "Grace Hopper"},
        files=[("photos", (name, data, kind))],
        headers=bearer(world.token),
    )
    return Outcome(r.status_code, r.json()["detail"] if r.status_code >= 400 else r.text)


def web_search(world: World, name: str, data: bytes, kind: str) -> Outcome:
    r = world.client.post(
        "/search/faces",
        files={"photo": (name, data, kind)},
        data={"reason": REASON},
        headers={**bearer(world.token), **ORIGIN},
    )
    return Outcome(r.status_code, r.text)


def _cli(world: World, args: list[str], monkeypatch: pytest.MonkeyPatch) -> Outcome:
    monkeypatch.chdir(world.root)
    monkeypatch.setenv("SAFECITY_DATA_DIR", str(world.root / "var"))
    for name in ("SAFECITY_DATABASE_URL", "SAFECITY_CONFIG", "SAFECITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli_app, args)
    return Outcome(result.exit_code, result.output)


def cli_search(world: World, name: str, data: bytes, _kind: str, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    path = world.root / name
    path.write_bytes(data)
    return _cli(world, ["search", "face", str(path), "--reason", REASON], monkeypatch)


def cli_enrol(world: World, name: str, data: bytes, _kind: str, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    path = world.root / name
    path.write_bytes(data)
    return _cli(
        world, ["watchlist", "enrol", "missing 12", "--label", "A", "--photo", str(path)], monkeypatch
    )


Route = Callable[..., Outcome]
ROUTES: dict[str, tuple[Route, int, int]] = {
    # route: (call, status of a bomb, status of an unreadable header)
    "api face search": (api_search, 413, 415),
    "api enrolment": (api_enrol, 413, 415),
    "web face search": (web_search, 413, 415),
    "cli search face": (cli_search, 2, 2),
    "cli watchlist enrol": (cli_enrol, 2, 2),
}


def call(route: str, world: World, name: str, data: bytes, kind: str, mp: pytest.MonkeyPatch) -> Outcome:
    fn = ROUTES[route][0]
    return fn(world, name, data, kind, mp) if route.startswith("cli") else fn(world, name, data, kind)


BOMBS = {
    "png 20000x20000 (49 KB)": ("bomb.png", lambda: png_bomb(20_000, 20_000), "image/png", "20000x20000"),
    "png 50000x50000 (309 KB)": ("bomb.png", lambda: png_bomb(50_000, 50_000), "image/png", "50000x50000"),
    "jpeg 60000x60000": ("bomb.jpg", lambda: jpeg_declaring(60_000, 60_000), "image/jpeg", "60000x60000"),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("bomb", BOMBS)
def test_a_bomb_is_refused_from_its_header_fast_and_nothing_is_stored(
    world: World, route: str, bomb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, make, kind, size = BOMBS[bomb]
    data = make()
    before = stored(world)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    outcome = call(route, world, name, data, kind, monkeypatch)
    elapsed = time.monotonic() - started
    assert outcome.status == ROUTES[route][1], outcome.message[-2000:]
    assert size in outcome.message and "api.max_image_pixels" in outcome.message
    assert elapsed < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < MAX_RSS_GROWTH_KB
    assert stored(world) == before


UNREADABLE = {
    "png cut inside its header": ("cut.png", encoded(".png")[:20], "image/png"),
    "jpeg cut before its frame header": ("cut.jpg", encoded(".jpg")[:30], "image/jpeg"),
    "garbage": ("garbage.jpg", b"\x00\x01 this is no image header" * 10, "image/jpeg"),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", UNREADABLE)
def test_an_unreadable_header_is_refused_and_nothing_is_stored(
    world: World, route: str, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, data, kind = UNREADABLE[case]
    before = stored(world)
    outcome = call(route, world, name, data, kind, monkeypatch)
    assert outcome.status == ROUTES[route][2], outcome.message[-2000:]
    assert "not a readable image" in outcome.message
    assert stored(world) == before


def test_the_limit_is_a_setting(world: World) -> None:
    """A deployment that takes larger photos says so in `api.max_image_pixels`; the check follows it."""
    settings = Settings(data_dir=world.root / "var", api={"max_image_pixels": 1_000})  # type: ignore[arg-type]
    with TestClient(create_app(settings, world.db)) as client:
        r = client.post(
            f"{API}/search/faces",
            files={"photo": ("small.png", encoded(".png", 40, 40), "image/png")},
            data={"reason": REASON},
            headers=bearer(world.token),
        )
    assert r.status_code == 413 and "40x40" in r.json()["detail"] and "1,000" in r.json()["detail"]
