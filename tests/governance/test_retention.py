"""Retention: the sweep deletes rows, files, vectors and old audit entries for real, and logs it once."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from factories import T0, camera, face_sighting, line_crossing, motion_track, plate_read, site
from pydantic import ValidationError
from sqlalchemy import delete, func, insert, select

from safecity.config import RetentionSettings, Settings
from safecity.governance import audit as audit_module
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.retention import RetentionPolicy, SweepReport, sweep
from safecity.store.alerts import alert_row
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.face_index import FaceIndex
from safecity.store.media import MediaStore
from safecity.store.models import AlertRow, AuditEntryRow, FaceVectorRow, PlateReadRow
from safecity.store.observations import ObservationQueries
from safecity.store.writer import write_batch
from safecity.types import Alert, AlertKind, Observation, new_id

NOW = T0
DAY = timedelta(days=1)
POLICY = RetentionPolicy()


@pytest.fixture
def cams(db: Database) -> Database:
    """cam-1 publishes 30 days (as the classes), cam-2 only 7."""
    CameraStore(db).save([site()], [camera("cam-1", retention_days=30), camera("cam-2", retention_days=7)])
    return db


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


def aged(obs: Observation, days: float, media: MediaStore | None = None) -> Observation:
    """`obs` seen `days` before NOW, with a snapshot file when a media store is given."""
    ts = NOW - days * DAY
    snapshot = ""
    if media is not None:
        snapshot = media.save_snapshot(obs.camera_id, ts, obs.id, np.zeros((8, 8, 3), np.uint8))
    return replace(obs, timestamp=ts, snapshot=snapshot)


def stored(db: Database, *observations: Observation) -> list[Observation]:
    write_batch(db, observations)
    return list(observations)


def plate_ids(db: Database) -> set[str]:
    return {r.id for r in ObservationQueries(db).plate_reads()}


def run(db: Database, media: MediaStore, policy: RetentionPolicy = POLICY, **kw: object) -> SweepReport:
    return sweep(db, media, policy, now=NOW, **kw)  # type: ignore[arg-type]


def test_old_plate_reads_go_and_young_ones_stay(cams: Database, media: MediaStore) -> None:
    _old, young = stored(cams, aged(plate_read("cam-1"), 31), aged(plate_read("cam-1"), 29))
    report = run(cams, media)
    assert plate_ids(cams) == {young.id}
    assert report.deleted == {"plate_reads": {"cam-1": 1}}


@pytest.mark.parametrize("make", [motion_track, line_crossing, face_sighting], ids=lambda f: f.__name__)
def test_every_observation_class_is_swept(cams: Database, media: MediaStore, make) -> None:  # type: ignore[no-untyped-def]
    stored(cams, aged(make("cam-1"), 40), aged(make("cam-1"), 1))
    report = run(cams, media)
    assert report.rows == 1
    counts = ObservationQueries(cams).counts_by_camera()["cam-1"]
    assert sum(counts.values()) == 1


def test_a_cameras_shorter_retention_wins_over_the_class(cams: Database, media: MediaStore) -> None:
    on_1, _on_2 = stored(cams, aged(plate_read("cam-1"), 10), aged(plate_read("cam-2"), 10))
    report = run(cams, media)
    assert plate_ids(cams) == {on_1.id}
    assert report.cutoffs["plate_reads"]["cam-2"] == NOW - 7 * DAY
    assert report.deleted == {"plate_reads": {"cam-2": 1}}


def test_snapshot_files_of_deleted_rows_are_deleted(cams: Database, media: MediaStore) -> None:
    [old] = stored(cams, aged(plate_read("cam-1"), 40, media))
    assert media.path(old.snapshot).is_file()
    report = run(cams, media)
    assert not media.path(old.snapshot).exists()
    assert report.media_files == 1
    assert not any(media.root.iterdir())  # emptied day/month/year/camera folders went too


def test_snapshots_days_clears_the_files_of_rows_that_stay(cams: Database, media: MediaStore) -> None:
    [kept] = stored(cams, aged(plate_read("cam-1"), 10, media))
    report = run(cams, media, replace(POLICY, snapshots_days=5))
    [row] = ObservationQueries(cams).plate_reads()
    assert row.id == kept.id and row.snapshot == ""
    assert not media.path(kept.snapshot).exists()
    assert report.snapshots_cleared == {"cam-1": 1} and report.rows == 0


def test_face_sightings_go_with_their_vectors_and_leave_the_index(
    cams: Database, media: MediaStore, tmp_path: Path
) -> None:
    old, young = stored(cams, aged(face_sighting("cam-1"), 40), aged(face_sighting("cam-1"), 1))
    index = FaceIndex(cams, tmp_path / "faces.npz")
    index.sync()
    index.save()
    assert len(index) == 2
    report = run(cams, media, face_index=index)
    assert report.face_vectors == 1
    with cams.session() as session:
        assert list(session.scalars(select(FaceVectorRow.sighting_id))) == [young.id]
    assert len(index) == 1
    assert old.embedding is not None
    assert [h.sighting_id for h in index.search(old.embedding, 5)] == [young.id]
    reopened = FaceIndex(cams, tmp_path / "faces.npz")
    assert len(reopened) == 1  # saved without the deleted vector


def _alert(db: Database, camera_id: str, days: float, evidence: dict[str, object] | None) -> str:
    alert = Alert(new_id(), AlertKind.PLATE_HOTLIST, camera_id, NOW - days * DAY, "hotlist hit")
    with db.session() as session:
        session.execute(insert(AlertRow), [alert_row(alert, evidence=evidence)])
    return alert.id


def test_alerts_past_alerts_days_go_with_their_evidence_files(cams: Database, media: MediaStore) -> None:
    ref = media.save_snapshot("cam-1", NOW - 25 * DAY, "evidence", np.zeros((8, 8, 3), np.uint8))
    photo = media.save_snapshot("watchlists/w1", NOW, "photo", np.zeros((8, 8, 3), np.uint8))
    _alert(cams, "cam-1", 25, {"snapshot": ref, "photo_ref": photo})
    young = _alert(cams, "cam-1", 15, None)
    report = run(cams, media, replace(POLICY, alerts_days=20))
    with cams.session() as session:
        assert list(session.scalars(select(AlertRow.id))) == [young]
    assert report.deleted == {"alerts": {"cam-1": 1}}
    assert not media.path(ref).exists()
    assert media.path(photo).is_file()  # the enrolled photo belongs to the watchlist


def _old_audit(db: Database, monkeypatch: pytest.MonkeyPatch, when: datetime, n: int) -> None:
    monkeypatch.setattr(audit_module, "utcnow", lambda: when)
    log = AuditLog(db)
    for i in range(n):
        log.record(AuditAction.SEARCH_PLATE, username=f"inv{i}", role="investigator", justification="case")
    monkeypatch.undo()


def test_old_audit_entries_are_pruned_and_the_chain_still_verifies(
    db: Database, media: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    _old_audit(db, monkeypatch, now - 200 * DAY, 3)
    _old_audit(db, monkeypatch, now - 10 * DAY, 2)
    log = AuditLog(db)
    third = log.entries()[2]
    report = sweep(db, media, replace(POLICY, audit_days=183), now=now)
    assert report.audit_entries == 3 and report.audit_pruned_head == third.hash
    left = log.entries()
    assert [e.action for e in left] == ["search_plate", "search_plate", "retention_deletion"]
    result = log.verify()
    assert result.ok and result.entries == 3
    assert result.anchored_at == third.hash


def test_deleting_the_first_entries_by_hand_is_still_found(
    db: Database, media: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_audit(db, monkeypatch, datetime.now(UTC) - DAY, 3)
    with db.session() as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == 1))
    result = AuditLog(db).verify()
    assert not result.ok and result.first_bad == 2


def test_deleting_the_first_entry_left_after_a_prune_is_found(
    db: Database, media: MediaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    _old_audit(db, monkeypatch, now - 200 * DAY, 2)
    _old_audit(db, monkeypatch, now - 10 * DAY, 2)
    sweep(db, media, replace(POLICY, audit_days=183), now=now)
    log = AuditLog(db)
    first = log.entries()[0]
    with db.session() as session:
        session.execute(delete(AuditEntryRow).where(AuditEntryRow.seq == first.seq))
    result = log.verify()
    assert not result.ok and result.first_bad == log.entries()[0].seq


def test_audit_retention_shorter_than_six_months_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 6 months"):
        RetentionSettings(audit_days=182)
    with pytest.raises(ValueError, match="at least 6 months"):
        RetentionPolicy(audit_days=100)
    assert Settings(retention=RetentionSettings(audit_days=3650)).retention.audit_days == 3650


def test_one_retention_deletion_entry_records_the_counts(cams: Database, media: MediaStore) -> None:
    stored(
        cams,
        aged(plate_read("cam-1"), 40, media),
        aged(plate_read("cam-2"), 8),
        aged(motion_track("cam-2"), 8),
    )
    report = run(cams, media)
    [entry] = AuditLog(cams).entries(AuditAction.RETENTION_DELETION)
    assert report.audit_seq == entry.seq
    assert (entry.username, entry.role) == ("system", "system")
    assert entry.details["deleted"] == {
        "plate_reads": {"cam-1": 1, "cam-2": 1},
        "motion_tracks": {"cam-2": 1},
    }
    assert entry.details["media_files"] == 1
    assert entry.details["cutoffs"]["plate_reads"]["cam-2"] == (NOW - 7 * DAY).isoformat()
    assert "BG123AB" not in json.dumps(dict(entry.details))  # counts, no personal data
    assert AuditLog(cams).verify().ok


def test_a_dry_run_counts_and_deletes_nothing(cams: Database, media: MediaStore) -> None:
    stored(
        cams,
        aged(plate_read("cam-1"), 40, media),
        aged(face_sighting("cam-2"), 9, media),
        aged(plate_read("cam-1"), 20, media),
    )
    policy = replace(POLICY, snapshots_days=15)
    dry = run(cams, media, policy, dry_run=True)
    with cams.session() as session:
        assert session.scalar(select(func.count()).select_from(PlateReadRow)) == 2
    assert AuditLog(cams).entries() == []
    real = run(cams, media, policy)
    assert dry.dry_run and not real.dry_run
    assert (dry.deleted, dry.snapshots_cleared, dry.media_files, dry.face_vectors) == (
        real.deleted,
        real.snapshots_cleared,
        real.media_files,
        real.face_vectors,
    )
    assert dry.audit_seq is None


def test_a_second_sweep_deletes_nothing_and_logs_nothing(cams: Database, media: MediaStore) -> None:
    stored(cams, aged(plate_read("cam-1"), 40, media), aged(plate_read("cam-1"), 1, media))
    assert run(cams, media).anything
    again = run(cams, media)
    assert not again.anything and again.audit_seq is None
    assert len(AuditLog(cams).entries()) == 1


def test_a_sweep_over_nothing_old_logs_nothing(cams: Database, media: MediaStore) -> None:
    stored(cams, aged(plate_read("cam-1"), 1))
    assert not run(cams, media).anything
    assert AuditLog(cams).entries() == []


def test_rows_are_deleted_in_batches(cams: Database, media: MediaStore) -> None:
    stored(cams, *(aged(plate_read("cam-1"), 40 + i) for i in range(7)))
    report = run(cams, media, replace(POLICY, batch_size=3))
    assert report.deleted == {"plate_reads": {"cam-1": 7}} and plate_ids(cams) == set()


def test_a_naive_time_is_refused(cams: Database, media: MediaStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sweep(cams, media, POLICY, now=datetime(2026, 3, 2))
