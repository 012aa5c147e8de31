"""Alembic migrations up and down on both backends, and that they match the models."""

from __future__ import annotations

from datetime import datetime

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from factories import camera, plate_read, site
from sqlalchemy import inspect, select, text

from safecity.analytics.plates.confusion import confusion_key
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import Base, PlateReadRow
from safecity.store.partitions import include_name, include_object
from safecity.store.plate_search import PlateQuery, search_plates
from safecity.store.writer import write_batch

TABLES = {
    "sites",
    "cameras",
    "motion_tracks",
    "plate_reads",
    "face_sightings",
    "line_crossings",
    "alerts",
    "watchlists",
    "watchlist_entries",
    "users",
    "audit_entries",
    "processing_runs",
    "hotlist_entries",
}


def test_upgrade_creates_every_table(db: Database) -> None:
    assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_upgrade_reaches_head(db: Database) -> None:
    assert db.current_revision() == db.head_revision()


def test_downgrade_to_base_removes_every_table(db: Database) -> None:
    db.downgrade("base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    assert db.current_revision() is None


def test_upgrade_after_downgrade_restores_schema(db: Database) -> None:
    db.downgrade("base")
    db.upgrade()
    assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_migrations_match_models(db: Database) -> None:
    with db.engine.connect() as conn:
        # The plate search indexes (SQLite FTS5 table, PostgreSQL pg_trgm index) are dialect-specific
        # DDL in migration 0002, and the PostgreSQL partitions of 0010 are not models either; env.py
        # leaves them out of autogenerate the same way.
        context = MigrationContext.configure(
            conn, opts={"include_name": include_name, "include_object": include_object}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def _insert_read_at_0001(db: Database, plate: str) -> None:
    """A plate read written with the 0001 columns only (no confusion key yet).

    The camera is registered at head, before the downgrade: the camera store writes today's columns.
    """
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plate_reads (id, camera_id, ts, x, y, w, h, confidence, track_id, snapshot, "
                "text, normalised, country, candidates) VALUES "
                "('r1', 'cam-1', :ts, 0, 0, 10, 5, 0.9, NULL, '', :plate, :plate, 'RS', '[]')"
            ),
            {"ts": datetime(2026, 3, 2, 7, 30), "plate": plate},
        )


def test_upgrade_to_0002_backfills_the_confusion_key(db: Database) -> None:
    CameraStore(db).save([site()], [camera("cam-1")])
    db.downgrade("0001")
    _insert_read_at_0001(db, "8G12OAB")
    db.upgrade()
    with db.session() as s:
        assert s.scalar(select(PlateReadRow.confusion_key)) == confusion_key("8G12OAB")


def test_upgrade_to_0002_indexes_existing_reads_for_wildcards(db: Database) -> None:
    CameraStore(db).save([site()], [camera("cam-1")])
    db.downgrade("0001")
    _insert_read_at_0001(db, "BG123AB")
    db.upgrade()
    assert [h.id for h in search_plates(db, PlateQuery.parse("*123*"))] == ["r1"]


def test_downgrade_to_0001_keeps_plate_reads(db: Database) -> None:
    CameraStore(db).save([site()], [camera("cam-1")])
    write_batch(db, [plate_read()])
    db.downgrade("0001")
    columns = {c["name"] for c in inspect(db.engine).get_columns("plate_reads")}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT normalised FROM plate_reads")).scalar_one() == "BG123AB"
    assert "confusion_key" not in columns and "hotlist_entries" not in inspect(db.engine).get_table_names()
