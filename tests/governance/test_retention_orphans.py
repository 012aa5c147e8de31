"""Retention's orphan pass: snapshot files no row refers to go once older than the grace period.

Retention deletes files by their rows; a file whose row was never committed (a worker killed
between snapshot and commit, issue 16 item 7) has no row, so without this pass it stayed for
ever. Files of rows about to be committed are protected by `orphan_grace_s`; every table that
names a media file (observations, alert evidence, enrolled watchlist photos) keeps its files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from factories import T0, camera, face_sighting, line_crossing, motion_track, plate_read, site
from sqlalchemy import insert, select

from safecity.config import RetentionSettings
from safecity.governance.audit import AuditAction
from safecity.governance.retention import RetentionPolicy, SweepReport, sweep
from safecity.store.alerts import alert_row
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.models import AlertRow, AuditEntryRow, WatchlistEntryRow, WatchlistPhotoRow, WatchlistRow
from safecity.store.writer import write_batch
from safecity.types import Alert, AlertKind, new_id

NOW = T0
GRACE_S = 3600.0
OLD_S = 2 * GRACE_S
YOUNG_S = GRACE_S / 6
POLICY = RetentionPolicy(orphan_grace_s=GRACE_S)
DAY = f"{T0:%Y/%m/%d}"


@pytest.fixture
def cams(db: Database) -> Database:
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2")])
    return db


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


def file_at(media: MediaStore, ref: str, age_s: float) -> str:
    """A file at `ref`, last written `age_s` before NOW."""
    path = media.root / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8 jpeg")
    at = (NOW - timedelta(seconds=age_s)).timestamp()
    os.utime(path, (at, at))
    return ref


def run(db: Database, media: MediaStore, **kw: object) -> SweepReport:
    return sweep(db, media, POLICY, now=NOW, **kw)  # type: ignore[arg-type]


# Each references `ref` (a file in cam-1's folder of T0's day) from one of the tables that name files.


def _observation(make: Callable[[], object]) -> Callable[[Database, str], None]:
    def refer(db: Database, ref: str) -> None:
        write_batch(db, [replace(make(), snapshot=ref)])  # type: ignore[type-var]

    return refer


def _alert(evidence: Callable[[str], dict[str, object]]) -> Callable[[Database, str], None]:
    def refer(db: Database, ref: str) -> None:
        alert = Alert(new_id(), AlertKind.SPEEDING, "cam-2", T0, "evidence elsewhere")
        with db.session() as session:
            session.execute(insert(AlertRow), [alert_row(alert, evidence=evidence(ref))])

    return refer


def _watchlist_photo(db: Database, ref: str) -> None:
    with db.session() as session:
        session.add(WatchlistRow(id="wl-1", name="wanted", kind="face"))
        session.flush()
        session.add(WatchlistEntryRow(id="entry-1", watchlist_id="wl-1", label="Person"))
        session.flush()
        session.add(
            WatchlistPhotoRow(
                id="photo-1",
                entry_id="entry-1",
                media_ref=ref,
                embedding=b"",
                x=0,
                y=0,
                w=1,
                h=1,
                quality=1.0,
            )
        )


REFERENCES: dict[str, tuple[str, Callable[[Database, str], None]]] = {
    "plate read": (f"cam-1/{DAY}/read.jpg", _observation(plate_read)),
    "face sighting": (f"cam-1/{DAY}/face.jpg", _observation(face_sighting)),
    "motion track": (f"cam-1/{DAY}/track.jpg", _observation(motion_track)),
    "line crossing": (f"cam-1/{DAY}/crossed.jpg", _observation(line_crossing)),
    "alert snapshot": (f"cam-1/{DAY}/hit.jpg", _alert(lambda ref: {"snapshot": ref})),
    "alert probe": (f"cam-1/{DAY}/probe.jpg", _alert(lambda ref: {"probe_ref": ref})),
    "speeding read": (f"cam-1/{DAY}/a.jpg", _alert(lambda ref: {"read_a": {"snapshot": ref}})),
    "watchlist photo": (f"watchlists/wl-1/{DAY}/photo-1.jpg", _watchlist_photo),
}


@pytest.mark.parametrize("what", REFERENCES)
def test_an_old_file_a_row_refers_to_is_kept(cams: Database, media: MediaStore, what: str) -> None:
    ref, refer = REFERENCES[what]
    refer(cams, file_at(media, ref, OLD_S))
    report = run(cams, media)
    assert (media.root / ref).is_file()
    assert report.orphan_files == 0


@pytest.mark.parametrize(
    "ref",
    [f"cam-1/{DAY}/lost.jpg", f"cam-9/{DAY}/unregistered.jpg", f"watchlists/wl-7/{DAY}/photo-9.jpg"],
    ids=["camera", "camera-not-registered", "watchlist-photo"],
)
def test_an_orphan_older_than_the_grace_is_deleted_counted_and_audited(
    cams: Database, media: MediaStore, ref: str
) -> None:
    file_at(media, ref, OLD_S)
    report = run(cams, media)
    assert not (media.root / ref).exists()
    assert not any(media.root.iterdir())  # the folders it leaves empty go too
    assert report.orphan_files == 1
    with cams.session() as session:
        entry = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq.desc())).first()
    assert entry is not None and entry.action == AuditAction.RETENTION_DELETION.value
    assert entry.details["orphan_files"] == 1


def test_an_orphan_younger_than_the_grace_is_kept(cams: Database, media: MediaStore) -> None:
    ref = file_at(media, f"cam-1/{DAY}/committing.jpg", YOUNG_S)  # its row may be about to commit
    report = run(cams, media)
    assert (media.root / ref).is_file()
    assert report.orphan_files == 0 and not report.anything


def test_a_half_written_file_left_by_a_crash_goes(cams: Database, media: MediaStore) -> None:
    tmp = file_at(media, f"cam-1/{DAY}/torn.jpg.tmp", OLD_S)
    assert run(cams, media).orphan_files == 1
    assert not (media.root / tmp).exists()


def test_a_dry_run_counts_orphans_and_deletes_none(cams: Database, media: MediaStore) -> None:
    ref = file_at(media, f"cam-1/{DAY}/lost.jpg", OLD_S)
    report = run(cams, media, dry_run=True)
    assert report.orphan_files == 1
    assert (media.root / ref).is_file()


@pytest.mark.parametrize(
    "ref",
    [".doctor-probe", "notes.txt", "cam-1/loose.jpg", f"cam-1/{DAY}/clip.mp4", "watchlists/2026/03/02/p.jpg"],
)
def test_files_outside_the_snapshot_layout_are_left_alone(
    cams: Database, media: MediaStore, ref: str
) -> None:
    file_at(media, ref, OLD_S)
    assert run(cams, media).orphan_files == 0
    assert (media.root / ref).is_file()


def test_the_grace_period_is_a_setting() -> None:
    assert RetentionPolicy.from_settings(RetentionSettings(orphan_grace_s=7200)).orphan_grace_s == 7200
    assert RetentionPolicy.from_settings(RetentionSettings()).orphan_grace_s == 3600
