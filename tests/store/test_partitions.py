"""Monthly partitions of the observation tables on PostgreSQL (migration 0010, `store.partitions`).

The PostgreSQL tests run on a scratch database of the server at SAFECITY_TEST_POSTGRES_URL (or the
local default, see conftest.py) and skip, saying why, when no server answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import camera, face_sighting, line_crossing, motion_track, plate_read, site
from sqlalchemy import delete, inspect, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.config import StoreSettings
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import FaceSightingRow, FaceVectorRow, PlateReadRow
from safecity.store.observations import to_row
from safecity.store.partitions import (
    PARTITIONED_TABLES,
    add_months,
    ensure_partitions,
    list_partitions,
    month_start,
    partition_name,
)
from safecity.store.writer import write_batch
from safecity.types import Observation

MONTHS_AHEAD = 2
TABLES = (*PARTITIONED_TABLES, "face_vectors")
BEFORE = datetime(2025, 11, 20, 8, 0, tzinfo=UTC)
"""A month the migration's own window (now to now + 3 months) never reaches."""
LATER = datetime(2031, 5, 14, 12, 0, tzinfo=UTC)
"""A month only `ensure_partitions(now=LATER)` creates."""


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    """A PostgreSQL database at 0009 with a camera registered: not yet partitioned."""
    db = Database.connect(postgres_url, StoreSettings(partition_months_ahead=MONTHS_AHEAD))
    # Registered at head (the camera store writes today's columns), then taken back to 0009.
    db.upgrade()
    CameraStore(db).save([site()], [camera("cam-1")])
    db.downgrade("0009")
    yield db
    db.close()


def at(obs: Observation, when: datetime) -> Observation:
    return replace(obs, timestamp=when)


def every_kind(when: datetime) -> list[Observation]:
    track = motion_track()
    return [
        at(plate_read(), when),
        at(face_sighting(), when),
        replace(track, timestamp=when, ended_at=when + timedelta(seconds=2)),
        at(line_crossing(), when),
    ]


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the observation tables and face_vectors, in a fixed order."""
    with db.engine.connect() as conn:
        return {
            t: [
                tuple(r)
                for r in conn.execute(
                    text(f"SELECT * FROM {t} ORDER BY {'key' if t == 'face_vectors' else 'id'}")
                )
            ]
            for t in TABLES
        }


def home(db: Database, table: str, row_id: str) -> str:
    """The partition that holds a row."""
    with db.engine.connect() as conn:
        return str(
            conn.execute(
                text(f"SELECT tableoid::regclass::text FROM {table} WHERE id = :id"), {"id": row_id}
            ).scalar_one()
        )


def is_partitioned(db: Database, table: str) -> bool:
    with db.engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t))"),
                {"t": table},
            ).scalar_one()
        )


def this_month() -> datetime:
    m = month_start(datetime.now(UTC))
    return datetime(m.year, m.month, 1, tzinfo=UTC)


# ------------------------------------------------------------------ migration


def test_upgrade_partitions_every_observation_table_by_month(pg: Database) -> None:
    pg.upgrade()
    assert all(is_partitioned(pg, t) for t in PARTITIONED_TABLES) and not is_partitioned(pg, "face_vectors")
    first = month_start(datetime.now(UTC))
    for table in PARTITIONED_TABLES:
        assert inspect(pg.engine).get_pk_constraint(table)["constrained_columns"] == ["id", "ts"]
        names = [p.name for p in list_partitions(pg.engine) if p.table == table]
        # The migration's window (3 months ahead) covers the settings' (2) as well.
        assert names == [partition_name(table, add_months(first, n)) for n in range(4)] + [f"{table}_default"]


def test_upgrade_keeps_indexes_and_foreign_keys(pg: Database) -> None:
    def shape() -> dict[str, Any]:
        insp = inspect(pg.engine)
        return {
            t: (
                sorted(
                    (ix["name"], tuple(ix.get("expressions") or ix["column_names"]))
                    for ix in insp.get_indexes(t)
                ),
                sorted(
                    (fk["name"], fk["referred_table"])
                    for fk in insp.get_foreign_keys(t)
                    if (fk["name"] or "").startswith("fk_")
                ),
            )
            for t in PARTITIONED_TABLES
        }

    before = shape()
    assert "ix_plate_reads_normalised_trgm" in dict(before["plate_reads"][0])
    pg.upgrade()
    assert shape() == before
    vector_fk = {fk["name"]: fk for fk in inspect(pg.engine).get_foreign_keys("face_vectors")}[
        "fk_face_vectors_sighting_id_face_sightings"
    ]
    assert (vector_fk["constrained_columns"], vector_fk["referred_table"], vector_fk["referred_columns"]) == (
        ["sighting_id", "ts"],
        "face_sightings",
        ["id", "ts"],
    )
    assert vector_fk["options"]["ondelete"] == "CASCADE"


def test_rows_stored_before_the_migration_survive_it(pg: Database) -> None:
    stored = every_kind(BEFORE) + every_kind(datetime.now(UTC) - timedelta(minutes=5))
    write_batch(pg, stored)
    before = snapshot(pg)
    assert all(before[t] for t in TABLES)
    pg.upgrade()
    assert snapshot(pg) == before
    # The month of the older rows got a partition of its own; nothing waits in the default one.
    assert home(pg, "plate_reads", stored[0].id) == "plate_reads_p2025_11"
    assert all(p.rows == 0 for p in list_partitions(pg.engine) if p.is_default)


def test_deleting_a_sighting_still_deletes_its_vector(pg: Database) -> None:
    pg.upgrade()
    sighting = face_sighting()
    write_batch(pg, [sighting])
    with pg.session() as s:
        s.execute(delete(FaceSightingRow).where(FaceSightingRow.id == sighting.id))
    with pg.session() as s:
        assert s.scalar(select(FaceVectorRow.key)) is None


def test_downgrade_keeps_rows_and_restores_plain_tables(pg: Database) -> None:
    pg.upgrade()
    write_batch(pg, every_kind(BEFORE) + every_kind(LATER))
    before = snapshot(pg)
    pg.downgrade("0009")
    assert not any(is_partitioned(pg, t) for t in PARTITIONED_TABLES)
    assert not {n for n in inspect(pg.engine).get_table_names() if "_p20" in n or n.endswith("_default")}
    assert inspect(pg.engine).get_pk_constraint("plate_reads")["constrained_columns"] == ["id"]
    assert snapshot(pg) == before
    pg.upgrade()
    assert snapshot(pg) == before


def test_downgrade_refuses_ids_shared_by_two_rows(pg: Database) -> None:
    pg.upgrade()
    read = plate_read()
    write_batch(pg, [read, at(read, LATER)])
    with pytest.raises(Exception, match="used by more than one row"):
        pg.downgrade("0009")
    assert is_partitioned(pg, "plate_reads") and pg.current_revision() == pg.head_revision()


# ------------------------------------------------------------------ ensure, inserts


def test_inserts_land_in_their_months_partition(pg: Database) -> None:
    pg.upgrade()
    ensure_partitions(pg.engine, 0, now=LATER)
    stored = every_kind(LATER) + every_kind(this_month() + timedelta(days=3))
    write_batch(pg, stored)
    tables = ("plate_reads", "face_sightings", "motion_tracks", "line_crossings")
    for later, now, table in zip(stored[:4], stored[4:], tables, strict=True):
        assert home(pg, table, later.id) == f"{table}_p2031_05"
        assert home(pg, table, now.id) == partition_name(table, month_start(datetime.now(UTC)))
    counts = {p.name: p.rows for p in list_partitions(pg.engine)}
    assert counts["plate_reads_p2031_05"] == 1 and counts["plate_reads_default"] == 0
    # Partitions never analysed are counted even when estimates are asked for.
    assert {p.name: p.rows for p in list_partitions(pg.engine, exact=False)} == counts


def test_rows_outside_every_month_land_in_the_default_partition(pg: Database) -> None:
    pg.upgrade()
    old = at(plate_read(), datetime(1999, 1, 1, tzinfo=UTC))
    far = at(plate_read(), datetime(2090, 6, 1, tzinfo=UTC))
    write_batch(pg, [old, far])
    assert home(pg, "plate_reads", old.id) == home(pg, "plate_reads", far.id) == "plate_reads_default"
    assert {p.name: p.rows for p in list_partitions(pg.engine)}["plate_reads_default"] == 2


def test_ensure_is_idempotent(pg: Database) -> None:
    pg.upgrade()
    first = ensure_partitions(pg.engine, 1, now=LATER)
    assert sorted(first) == sorted(
        partition_name(t, m)
        for t in PARTITIONED_TABLES
        for m in (month_start(LATER), add_months(month_start(LATER), 1))
    )
    listed = list_partitions(pg.engine)
    assert ensure_partitions(pg.engine, 1, now=LATER) == []
    assert ensure_partitions(pg.engine, MONTHS_AHEAD) == []  # the migration's months are there
    assert list_partitions(pg.engine) == listed


def test_ensure_moves_a_months_rows_out_of_the_default_partition(pg: Database) -> None:
    pg.upgrade()
    sighting, read = at(face_sighting(), LATER), at(plate_read(), LATER)
    write_batch(pg, [sighting, read])
    with pg.session() as s:
        key = s.scalar(select(FaceVectorRow.key))
    assert home(pg, "face_sightings", sighting.id) == "face_sightings_default"
    before = snapshot(pg)
    ensure_partitions(pg.engine, 0, now=LATER)
    assert home(pg, "face_sightings", sighting.id) == "face_sightings_p2031_05"
    assert home(pg, "plate_reads", read.id) == "plate_reads_p2031_05"
    assert snapshot(pg) == before  # the vector is still there, under the same key
    with pg.session() as s:
        assert s.scalar(select(FaceVectorRow.key).where(FaceVectorRow.sighting_id == sighting.id)) == key
    # The moved partition is a full one: indexes, key and the vector's foreign key apply to it.
    with pg.session() as s:
        s.execute(delete(FaceSightingRow).where(FaceSightingRow.id == sighting.id))
    with pg.session() as s:
        assert s.scalar(select(FaceVectorRow.key)) is None


def test_insert_on_conflict_do_nothing_skips_a_stored_observation(pg: Database) -> None:
    """The writer may insert with ON CONFLICT DO NOTHING: the (id, ts) key makes a repeat a no-op."""
    pg.upgrade()
    _, row = to_row(plate_read())
    for _ in range(2):
        with pg.session() as s:
            s.execute(pg_insert(PlateReadRow).on_conflict_do_nothing(), [row])
    with pg.session() as s:
        assert s.scalar(select(text("count(*)")).select_from(PlateReadRow)) == 1


# ------------------------------------------------------------------ SQLite, command line


def test_sqlite_is_left_alone(sqlite_db: Database) -> None:
    assert ensure_partitions(sqlite_db.engine, 3) == []
    assert list_partitions(sqlite_db.engine) == []
    assert inspect(sqlite_db.engine).get_pk_constraint("plate_reads")["constrained_columns"] == ["id"]


def test_cli_lists_partitions(cli_data_dir: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFECITY_DATABASE_URL", postgres_url)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["db", "partitions", "--ensure"])
    assert result.exit_code == 0, result.output
    assert "created 0 partition(s)" in result.output and "plate_reads_default" in result.output
    assert partition_name("line_crossings", month_start(datetime.now(UTC))) in result.output


def test_cli_on_sqlite_says_there_is_nothing_to_list(cli_data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["db", "partitions"])
    assert result.exit_code == 0 and "not partitioned" in result.output
