"""The retention sweep and recorded video: age per mode and camera, motion/event-less segments, and
the clips around open or exported alerts kept as evidence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from factories import T0, camera, site, stored_plate_alert
from sqlalchemy import update

from safecity.config import Settings
from safecity.governance.audit import AuditLog
from safecity.governance.retention import sweep_configured
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.models import AlertRow, PlateReadRow
from safecity.store.recordings import RecordingStore, Segment, segment_path
from safecity.types import RecordingMode, new_id

NOW = T0 + timedelta(days=30, hours=1)
LATER = T0 + timedelta(days=8)  # continuous recordings (7 days) expired; the alert and its read stay


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Settings, Database, RecordingStore]]:
    settings = Settings(data_dir=tmp_path)
    db = Database.open(settings.effective_database_url)
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2", retention_days=3)])
    yield settings, db, RecordingStore(db, settings.effective_recordings_dir)
    db.close()


def _segment(
    store: RecordingStore, start: datetime, mode: RecordingMode, camera_id: str = "cam-1"
) -> Segment:
    segment_id = new_id()
    rel = segment_path(camera_id, start, mode, segment_id)
    path = store.file(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"segment")
    segment = Segment(segment_id, camera_id, start, start + timedelta(seconds=60), rel, 7, mode)
    store.add(segment)
    return segment


def _plate_read(db: Database, at: datetime, camera_id: str = "cam-1") -> None:
    with db.session() as session:
        session.add(
            PlateReadRow(
                id=new_id(), camera_id=camera_id, ts=at, x=0, y=0, w=10, h=10, confidence=0.9, track_id=1,
                snapshot="", text="BG 1", normalised="BG1", confusion_key="", country="RS", candidates=[],
            )
        )  # fmt: skip


def _kept(store: RecordingStore) -> set[str]:
    return {s.id for s in store.all()}


@pytest.mark.parametrize(
    ("mode", "age", "kept"),
    [
        (RecordingMode.CONTINUOUS, timedelta(days=8), False),  # continuous_days 7
        (RecordingMode.CONTINUOUS, timedelta(days=6), True),
        (RecordingMode.MOTION, timedelta(days=15), False),  # motion_days 14
        (RecordingMode.EVENTS, timedelta(days=31), False),  # events_days 30, camera 30
    ],
)
def test_a_segment_goes_after_its_modes_days(
    world: tuple[Settings, Database, RecordingStore], mode: RecordingMode, age: timedelta, kept: bool
) -> None:
    settings, db, store = world
    segment = _segment(store, NOW - age, mode)
    if mode is not RecordingMode.CONTINUOUS:
        _plate_read(db, segment.start + timedelta(seconds=5))  # something in it: only age decides
    sweep_configured(settings, db, now=NOW)
    assert (segment.id in _kept(store)) is kept
    assert store.file(segment).exists() is kept


def test_the_cameras_shorter_retention_wins(world: tuple[Settings, Database, RecordingStore]) -> None:
    settings, db, store = world
    segment = _segment(store, NOW - timedelta(days=4), RecordingMode.CONTINUOUS, camera_id="cam-2")
    sweep_configured(settings, db, now=NOW)
    assert segment.id not in _kept(store)


@pytest.mark.parametrize("mode", [RecordingMode.MOTION, RecordingMode.EVENTS])
def test_a_segment_with_nothing_in_it_goes_once_undecided_s_passed(
    world: tuple[Settings, Database, RecordingStore], mode: RecordingMode
) -> None:
    settings, db, store = world
    _segment(store, NOW - timedelta(hours=2), mode)  # nothing in it
    busy = _segment(store, NOW - timedelta(hours=3), mode)
    fresh = _segment(store, NOW - timedelta(minutes=3), mode)  # the analysis may still be catching up
    _plate_read(db, busy.start + timedelta(seconds=30))
    report = sweep_configured(settings, db, now=NOW)
    assert _kept(store) == {busy.id, fresh.id}
    assert report.deleted["recordings"] == {"cam-1": 1}


def test_the_clip_of_an_open_alert_is_kept_until_the_alert_is_closed(
    world: tuple[Settings, Database, RecordingStore],
) -> None:
    settings, db, store = world
    alert_id = stored_plate_alert(db, MediaStore(settings.effective_media_dir), np.zeros((8, 8, 3), np.uint8))
    held = _segment(store, T0 - timedelta(seconds=30), RecordingMode.CONTINUOUS)  # covers the alert at T0
    other = _segment(store, T0 + timedelta(minutes=5), RecordingMode.CONTINUOUS)
    sweep_configured(settings, db, now=LATER)
    assert _kept(store) == {held.id}
    with db.session() as session:
        session.execute(update(AlertRow).where(AlertRow.id == alert_id).values(status="rejected"))
    sweep_configured(settings, db, now=LATER)
    assert _kept(store) == set()
    assert not store.file(other).exists()


def test_the_sweeps_audit_entry_counts_the_recordings(
    world: tuple[Settings, Database, RecordingStore],
) -> None:
    settings, db, store = world
    _segment(store, NOW - timedelta(days=9), RecordingMode.CONTINUOUS)
    report = sweep_configured(settings, db, now=NOW)
    entry = next(e for e in AuditLog(db).entries() if e.seq == report.audit_seq)
    assert entry.details["deleted"]["recordings"] == {"cam-1": 1}
    assert AuditLog(db).verify().ok
