"""Threat model: an authorisation that has expired must stop everything done under it, at once.

Face matching is lawful only until the authorisation's expiry. After it, nothing may still work
as if it were in force, whether or not the sweep (`governance.authorisations.enforce`, run by
`serve` at every register reload and by `safecity authorisation enforce`) has run yet: the
authorisation reads "expired" wherever it is listed (computed from the clock), no face is
matched under it, and a face search never returns a vector kept only because it matched one of
its persons. The sweep then deletes its watchlist (persons, photos, templates), those vectors
(rows and face-index entries) and records the deletion in the audit chain, as for a refusal.

The world (on SQLite and PostgreSQL): two authorisations on cam-1, K-1 expiring a week after
T0 and K-2 a month after; one person enrolled under each, and one sighting matched to each
(its vector kept only for the match). Clocks are injected: no test waits for real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest
from argon2 import PasswordHasher
from factories import camera, site
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

import safecity.governance.users as user_module
from safecity.cli.app import app as cli_app
from safecity.config import Settings
from safecity.governance.access import AccessGate, Caller
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.authorisations import enforce
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.search.faces import FaceQuery, FaceSearch
from safecity.server.app import create_app
from safecity.store.authorisations import AuthorisationStore
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.face_index import FaceIndex
from safecity.store.face_watchlists import FaceWatchlistStore, PhotoToEnrol, face_match_alert
from safecity.store.media import MediaStore
from safecity.store.models import FaceVectorRow
from safecity.store.writer import write_batch
from safecity.types import Authorisation, AuthorisationPurpose, BBox, FaceSighting, FaceTemplate, new_id
from safecity.watch.face_decision import OpenSetRule
from safecity.watch.faces import FaceMatcher

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
EXPIRY = T0 + timedelta(days=7)
BEFORE, AFTER = EXPIRY - timedelta(minutes=1), EXPIRY + timedelta(minutes=1)
REASON = "case 2026/17, missing child"
PASSWORD = "a long enough password"


@dataclass(frozen=True)
class Granted:
    auth: Authorisation
    watchlist_id: str
    template: FaceTemplate
    sighting_id: str


@dataclass(frozen=True)
class World:
    db: Database
    media: MediaStore
    index: FaceIndex
    expiring: Granted
    """K-1: expires at EXPIRY."""
    lasting: Granted
    """K-2: still in force after EXPIRY (what must keep working)."""


def _grant(db: Database, faces: FaceWatchlistStore, reference: str, expires: datetime, seed: int) -> Granted:
    auth = AuthorisationStore(db).create(
        "Higher Court Belgrade", reference, AuthorisationPurpose.MISSING_PERSON, ["cam-1"],
        T0, expires, expires, "duty officer", now=T0,
    )  # fmt: skip
    wl = faces.create(f"list {reference}", auth.id, now=T0)
    rng = np.random.default_rng(seed)
    photo = PhotoToEnrol(
        rng.integers(0, 255, (60, 50, 3), dtype=np.uint8),
        BBox(5, 5, 40, 50),
        rng.normal(0, 0.1, 128).astype(np.float32),
        0.8,
    )
    faces.enrol(wl.id, f"person {reference}", [photo], now=T0)
    (template,) = [t for t in faces.templates_in_force(T0) if t.watchlist_id == wl.id]
    # Matched an hour after T0: its vector is kept only because of this match (cam-1 keeps none).
    seen = FaceSighting(
        id=new_id(),
        camera_id="cam-1",
        timestamp=T0 + timedelta(hours=1),
        bbox=BBox(1, 2, 40, 40),
        confidence=0.9,
        quality=0.7,
        embedding=template.vector,
    )
    write_batch(db, [seen])
    faces.save_face_alerts([face_match_alert(seen, template, 0.0, 0.4)])
    return Granted(auth, wl.id, template, seen.id)


@pytest.fixture
def world(db: Database, tmp_path: Path) -> Iterator[World]:
    CameraStore(db).save([site()], [camera("cam-1")])
    media = MediaStore(tmp_path / "media")
    faces = FaceWatchlistStore(db, media)
    expiring = _grant(db, faces, "K-1", EXPIRY, seed=1)
    lasting = _grant(db, faces, "K-2", T0 + timedelta(days=30), seed=2)
    index = FaceIndex(db, tmp_path / "face_index.npz")
    index.sync()
    index.save()
    yield World(db, media, index, expiring, lasting)


def _search(w: World, tmp_path: Path, now: datetime, vector: tuple[float, ...]) -> set[str]:
    """`search_face` as `safecity search face` runs it, at `now`; the sighting ids it returns."""
    photo = tmp_path / "probe.png"
    cv2.imwrite(str(photo), np.zeros((8, 8, 3), np.uint8))
    face = SimpleNamespace(embedding=np.asarray(vector, np.float32))
    analyser: Any = SimpleNamespace(single_face=lambda *a, **k: SimpleNamespace(face=face))
    search = FaceSearch(analyser, w.index, AccessGate(w.db, clock=lambda: now))
    result = search.photo(
        photo, Caller("investigator", str(Role.INVESTIGATOR), user_id=1), FaceQuery(REASON, k=10)
    )
    return {h.sighting_id for h in result.hits}


def _vector_rows(db: Database, sighting_id: str) -> int:
    with db.session() as s:
        return len(list(s.scalars(select(FaceVectorRow.key).where(FaceVectorRow.sighting_id == sighting_id))))


# ---------------------------------------------------------------- before the sweep


@pytest.mark.parametrize(("now", "status"), [(BEFORE, "approved"), (EXPIRY, "expired"), (AFTER, "expired")])
def test_the_status_is_computed_from_the_clock(world: World, now: datetime, status: str) -> None:
    stored = AuthorisationStore(world.db).get(world.expiring.auth.id)
    assert stored.status == "approved", "nothing has swept it: the stored status is unchanged"
    assert stored.as_of(now).status == status


def test_no_face_is_matched_after_expiry(world: World) -> None:
    faces = FaceWatchlistStore(world.db, world.media)
    assert world.expiring.auth.id not in {t.authorisation.id for t in faces.templates_in_force(AFTER)}
    # A matcher built before the expiry (as `serve` holds one until its next reload) stops too.
    matcher = FaceMatcher(faces.templates_in_force(BEFORE), OpenSetRule.fixed_distance(0.4))
    probe = np.asarray(world.expiring.template.vector, np.float32)
    seen = T0 + timedelta(hours=2)
    before = matcher.match("cam-1", seen, probe, BEFORE)
    assert before is not None and before.template.authorisation.id == world.expiring.auth.id
    assert matcher.match("cam-1", seen, probe, AFTER) is None


@pytest.mark.parametrize(("now", "found"), [(BEFORE, True), (AFTER, False)], ids=["before", "after"])
def test_face_search_leaves_out_an_expired_authorisations_vectors_before_the_sweep(
    world: World, tmp_path: Path, now: datetime, found: bool
) -> None:
    hits = _search(world, tmp_path, now, world.expiring.template.vector)
    assert (world.expiring.sighting_id in hits) is found
    assert world.lasting.sighting_id in hits, "vectors of an authorisation in force are still found"


# ---------------------------------------------------------------- the sweep


def test_the_sweep_deletes_the_watchlist_and_vectors_and_records_it(world: World) -> None:
    w = world
    (done,) = enforce(w.db, w.media, now=AFTER, face_index=w.index)
    assert (done.status, done.watchlists, done.removal.vectors) == ("expired", 1, 1)
    assert AuthorisationStore(w.db).get(w.expiring.auth.id).status == "expired"
    faces = FaceWatchlistStore(w.db, w.media)
    assert [wl.id for wl in faces.list_watchlists()] == [w.lasting.watchlist_id]
    assert _vector_rows(w.db, w.expiring.sighting_id) == 0
    assert _vector_rows(w.db, w.lasting.sighting_id) == 1
    assert len(w.index) == 1, "the index entry went with the row"
    assert len(FaceIndex(w.db, w.index.index_path)) == 1, "and the saved index holds it no more"
    (entry,) = AuditLog(w.db).entries(AuditAction.AUTHORISATION_CHANGE)
    assert entry.target == w.expiring.auth.id
    assert (entry.details["change"], entry.details["vectors"]) == ("expired: data deleted", 1)
    assert AuditLog(w.db).verify().ok


def test_face_search_finds_nothing_of_it_after_the_sweep(world: World, tmp_path: Path) -> None:
    enforce(world.db, world.media, now=AFTER, face_index=world.index)
    hits = _search(world, tmp_path, AFTER, world.expiring.template.vector)
    assert world.expiring.sighting_id not in hits and world.lasting.sighting_id in hits


# ---------------------------------------------------------------- where it is listed


@pytest.fixture
def admin_client(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The API and web pages over the world's database, their clock just after the expiry."""
    monkeypatch.setattr(user_module, "PasswordHasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024))
    users = UserStore(world.db)
    users.add("admin-user", Role.ADMIN, PASSWORD)
    token = users.issue_token("admin-user", timedelta(days=1)).secret
    app = create_app(Settings(data_dir=tmp_path / "var"), world.db)
    app.state.context.gate.clock = lambda: AFTER
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def test_the_api_lists_it_as_expired(admin_client: TestClient, world: World) -> None:
    r = admin_client.get("/api/v1/authorisations")
    assert r.status_code == 200, r.text
    statuses = {a["reference"]: a["status"] for a in r.json()}
    assert statuses == {"K-1": "expired", "K-2": "approved"}


def test_the_web_page_lists_it_as_expired(admin_client: TestClient) -> None:
    r = admin_client.get("/watchlists")
    assert r.status_code == 200, r.text
    assert r.text.count('class="status status-expired"') == 1
    assert r.text.count('class="status status-approved"') == 1


def test_the_cli_lists_it_as_expired(
    world: World, database_url: str, cli_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI reads the real clock: K-1 expired on 2026-03-09, K-2 on 2026-04-01.
    monkeypatch.setenv("SAFECITY_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli_app, ["authorisation", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert '"status": "expired"' in result.output and '"status": "approved"' not in result.output
