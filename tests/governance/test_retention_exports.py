"""The sweep deletes evidence packages made in the web UI once `export_packages_days` old (the
server's copy serves only the download; what was handed over is the recipients'), counts them in
its audit entry, and leaves younger ones and anything outside the `<user>/<token>/` layout alone."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import camera, site

from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.retention import RetentionPolicy, SweepReport, sweep
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
POLICY = RetentionPolicy(export_packages_days=7)


@pytest.fixture
def cams(db: Database) -> Database:
    CameraStore(db).save([site()], [camera("cam-1")])
    return db


def package(root: Path, user: str, token: str, age: timedelta) -> Path:
    folder = root / user / token
    (folder / "alert-a").mkdir(parents=True)
    (folder / "alert-a.zip").write_bytes(b"PK")
    at = (NOW - age).timestamp()
    os.utime(folder, (at, at))
    return folder


def run(db: Database, tmp_path: Path, *, dry_run: bool = False) -> SweepReport:
    media = MediaStore(tmp_path / "media")
    return sweep(db, media, POLICY, now=NOW, exports=tmp_path / "exports", dry_run=dry_run)


@pytest.mark.parametrize(("age_days", "kept"), [(8, False), (6, True)])
def test_a_package_goes_once_older_than_its_days(
    cams: Database, tmp_path: Path, age_days: int, kept: bool
) -> None:
    folder = package(tmp_path / "exports", "u1", "tok-1", timedelta(days=age_days))
    report = run(cams, tmp_path)
    assert folder.exists() is kept
    assert report.export_packages == (0 if kept else 1)


def test_the_sweep_entry_counts_the_packages(cams: Database, tmp_path: Path) -> None:
    package(tmp_path / "exports", "u1", "tok-1", timedelta(days=30))
    package(tmp_path / "exports", "u2", "tok-2", timedelta(days=30))
    run(cams, tmp_path)
    (entry,) = AuditLog(cams).entries(AuditAction.RETENTION_DELETION)
    assert entry.details["export_packages"] == 2


def test_a_dry_run_counts_and_keeps_them(cams: Database, tmp_path: Path) -> None:
    folder = package(tmp_path / "exports", "u1", "tok-1", timedelta(days=30))
    assert run(cams, tmp_path, dry_run=True).export_packages == 1
    assert folder.exists()


def test_loose_files_in_the_exports_folder_are_left_alone(cams: Database, tmp_path: Path) -> None:
    loose = tmp_path / "exports" / "README.txt"
    loose.parent.mkdir(parents=True)
    loose.write_text("x")
    old = (NOW - timedelta(days=30)).timestamp()
    os.utime(loose, (old, old))
    assert run(cams, tmp_path).export_packages == 0
    assert loose.exists()


def test_no_exports_folder_is_nothing_to_do(cams: Database, tmp_path: Path) -> None:
    assert run(cams, tmp_path).export_packages == 0
