"""Urgent use, approval deadlines, refusal and expiry: matching stops and the data goes, logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from factories import camera, site

from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.authorisations import enforce
from safecity.store.authorisations import AuthorisationError, AuthorisationStore
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.face_watchlists import FaceWatchlistStore, PhotoToEnrol
from safecity.store.media import MediaStore
from safecity.types import Authorisation, AuthorisationPurpose, BBox

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


@pytest.fixture
def auths(db: Database) -> AuthorisationStore:
    CameraStore(db).save([site()], [camera("cam-1")])
    return AuthorisationStore(db)


def record(store: AuthorisationStore, *, urgent: bool, reference: str = "K-1") -> Authorisation:
    return store.create(
        "Higher Court Belgrade", reference, AuthorisationPurpose.IMMINENT_THREAT, ["cam-1"],
        T0, T0 + timedelta(days=7), T0 + timedelta(days=7), "duty officer", now=T0,
        urgent=urgent, approval_window=DAY if urgent else None,
    )  # fmt: skip


def enrol(db: Database, media: MediaStore, auth: Authorisation) -> str:
    store = FaceWatchlistStore(db, media)
    wl = store.create(f"list {auth.reference}", auth.id, now=T0)
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (60, 50, 3), dtype=np.uint8)
    photo = PhotoToEnrol(image, BBox(5, 5, 40, 50), rng.normal(0, 0.1, 128).astype(np.float32), 0.8)
    store.enrol(wl.id, "Ana", [photo], now=T0)
    return wl.id


def test_normal_authorisation_is_recorded_approved(auths: AuthorisationStore) -> None:
    auth = record(auths, urgent=False)
    assert (auth.status, auth.approval_deadline) == ("approved", None)


def test_urgent_use_matches_before_approval_until_its_deadline(
    db: Database, media: MediaStore, auths: AuthorisationStore
) -> None:
    auth = record(auths, urgent=True)
    enrol(db, media, auth)
    faces = FaceWatchlistStore(db, media)
    assert auth.status == "pending" and auth.approval_deadline == T0 + DAY
    assert [t.label for t in faces.templates_in_force(T0 + timedelta(hours=23))] == ["Ana"]
    assert faces.templates_in_force(T0 + DAY) == []
    assert auth.covers("cam-1", T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert not auth.covers("cam-1", T0 + timedelta(hours=1), T0 + DAY)


def test_approval_in_time_keeps_it_in_force(
    db: Database, media: MediaStore, auths: AuthorisationStore
) -> None:
    auth = record(auths, urgent=True)
    enrol(db, media, auth)
    approved = auths.decide(auth.id, "approved", "judge", now=T0 + timedelta(hours=5))
    assert approved.status == "approved" and approved.decided_by == "judge"
    assert enforce(db, media, now=T0 + 2 * DAY) == []
    assert len(FaceWatchlistStore(db, media).templates_in_force(T0 + 2 * DAY)) == 1


def test_approval_after_the_deadline_is_refused(auths: AuthorisationStore) -> None:
    auth = record(auths, urgent=True)
    with pytest.raises(AuthorisationError, match="deadline"):
        auths.decide(auth.id, "approved", "judge", now=T0 + DAY + timedelta(seconds=1))


@pytest.mark.parametrize(
    ("urgent", "decision", "when", "state"),
    [
        (True, None, T0 + DAY, "lapsed"),
        (True, "refused", T0 + timedelta(hours=2), "refused"),
        (False, None, T0 + timedelta(days=7), "expired"),
    ],
    ids=["not approved in time", "refused", "expired"],
)
def test_ended_authorisation_deletes_its_watchlists_and_logs_it(
    db: Database,
    media: MediaStore,
    auths: AuthorisationStore,
    urgent: bool,
    decision: str | None,
    when: datetime,
    state: str,
) -> None:
    auth = record(auths, urgent=urgent)
    wl_id = enrol(db, media, auth)
    if decision is not None:
        auths.decide(auth.id, decision, "judge", now=when)
    (done,) = enforce(db, media, now=when)
    faces = FaceWatchlistStore(db, media)
    assert (done.status, done.watchlists, done.removal.persons) == (state, 1, 1)
    assert auths.get(auth.id).status == state
    assert faces.list_watchlists() == []
    assert not media.path(f"watchlists/{wl_id}").exists()
    (entry,) = AuditLog(db).entries(AuditAction.AUTHORISATION_CHANGE)
    assert entry.details["change"] == f"{state}: data deleted" and entry.target == auth.id


def test_enforce_leaves_authorisations_in_force_alone(
    db: Database, media: MediaStore, auths: AuthorisationStore
) -> None:
    auth = record(auths, urgent=False)
    enrol(db, media, auth)
    assert enforce(db, media, now=T0 + DAY) == []
    assert len(FaceWatchlistStore(db, media).list_watchlists()) == 1


def test_enforce_is_idempotent(db: Database, media: MediaStore, auths: AuthorisationStore) -> None:
    enrol(db, media, record(auths, urgent=True))
    assert len(enforce(db, media, now=T0 + DAY)) == 1
    assert enforce(db, media, now=T0 + 2 * DAY) == []
