"""Opening databases: WAL and foreign keys on SQLite, clear errors, URL handling, UTC times."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from factories import camera, motion_track, site
from sqlalchemy import text

from safecity.store.cameras import CameraStore
from safecity.store.database import Database, StoreError, normalise_url
from safecity.store.writer import write_batch


def test_sqlite_runs_in_wal_mode(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_sqlite_enforces_foreign_keys(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_open_migrates_a_new_sqlite_file(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'new' / 'x.db'}")
    assert db.current_revision() == db.head_revision()


def test_unreachable_postgres_gives_clear_error() -> None:
    with pytest.raises(StoreError, match=r"cannot reach database postgresql://u:\*\*\*@127.0.0.1:1/x") as exc:
        Database.open("postgresql://u:pw@127.0.0.1:1/x")
    assert "pw" not in str(exc.value)


def test_unmigrated_postgres_is_not_migrated_behind_the_operators_back(postgres_url: str) -> None:
    with pytest.raises(StoreError, match="run `safecity db upgrade`"):
        Database.open(postgres_url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://a:b@h/d", "postgresql+psycopg://a:b@h/d"),
        ("postgresql+psycopg://a:b@h/d", "postgresql+psycopg://a:b@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_normalise_url(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_invalid_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        normalise_url("not a url")


def test_naive_datetimes_are_refused(db: Database) -> None:
    CameraStore(db).save([site()], [camera()])
    naive = motion_track()
    object.__setattr__(naive, "timestamp", datetime(2026, 1, 1))
    with pytest.raises(Exception, match="naive datetime"):
        write_batch(db, [naive])


def test_times_come_back_in_utc(db: Database) -> None:
    from safecity.store.observations import ObservationQueries

    CameraStore(db).save([site()], [camera()])
    track = motion_track()
    write_batch(db, [track])
    (stored,) = ObservationQueries(db).motion_tracks("cam-1")
    assert stored.timestamp == track.timestamp and stored.timestamp.tzinfo is not None
