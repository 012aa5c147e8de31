"""Alembic migrations up and down on both backends, and that they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from safecity.store.database import Database
from safecity.store.models import Base

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
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
