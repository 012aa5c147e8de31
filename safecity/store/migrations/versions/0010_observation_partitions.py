"""PostgreSQL at scale: the observation tables become tables partitioned by month of `ts`.

- `plate_reads`, `face_sightings`, `motion_tracks` and `line_crossings` are rebuilt as tables
  `PARTITION BY RANGE (ts)`, with one partition per calendar month (UTC), named
  `<table>_pYYYY_MM` (`plate_reads_p2026_12` holds December 2026), and a DEFAULT partition
  `<table>_default` for any row no monthly partition covers, so an insert never fails for lack
  of a partition. Monthly partitions are created for every month that has rows, and for the
  current month and the `_MONTHS_AHEAD` after it; `safecity.store.partitions.ensure_partitions`
  adds later months (it runs after every `safecity db upgrade`).
- The primary key becomes `(id, ts)`: PostgreSQL wants the partition key in every unique
  constraint. Storing the same observation twice is still refused (its id and time are both
  fixed), so `INSERT ... ON CONFLICT DO NOTHING` keeps working.
- Rows are copied over; the secondary indexes (whatever the table has, the pg_trgm GIN index of
  0002 included) and the foreign keys to `cameras` are re-created with their names and
  definitions (indexes on the parent cascade to every partition).
- `face_vectors` keeps its plain table: it is sparse (only vectors a policy keeps), is read by
  its never-reused integer key (the FAISS ids), not by time, and would lose the uniqueness of
  `key` and `sighting_id` on their own if partitioned. Its foreign key to `face_sightings` must
  name a unique key of the partitioned table, so it becomes `(sighting_id, ts)` ->
  `face_sightings (id, ts)`, still ON DELETE CASCADE (deleting a sighting deletes its vector;
  retention deletes vectors explicitly first, which it still does). A vector's `ts` is its
  sighting's by construction (the writer and 0003 copy it); any that differs is set to it first.

The models keep `id` as the primary key and the one-column foreign key: SQLite keeps that schema
(this revision does nothing there), and Alembic's comparison leaves primary keys alone; the
partitions and the two-column foreign key are left out of it by the filters in `store/partitions.py`.

The rebuild copies every row in the migration's one transaction and holds the tables locked
meanwhile: on a large database plan a maintenance window and twice the observation tables' disk.
Downgrade rebuilds plain tables the same way (it fails, changing nothing, if two rows share an
id, which the partitioned key allows).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Written out rather than imported: this revision's DDL stays as it was shipped.
_TABLES = ("motion_tracks", "plate_reads", "face_sightings", "line_crossings")
_MONTHS_AHEAD = 3
_VECTOR_FK = "fk_face_vectors_sighting_id_face_sightings"
_ON_ONLY = re.compile(r"\bON ONLY\b")


def _month(ts: datetime | date) -> date:
    return date(ts.year, ts.month, 1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _indexes(conn: sa.Connection, table: str) -> list[str]:
    """CREATE INDEX statements of the table's indexes, less the primary key's."""
    rows = conn.execute(
        sa.text(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisprimary ORDER BY i.indexrelid"
        ),
        {"t": table},
    ).scalars()
    # A partitioned parent's own definition reads ON ONLY; run on the new table it must cascade.
    return [_ON_ONLY.sub("ON", d) for d in rows]


def _foreign_keys(conn: sa.Connection, table: str) -> list[str]:
    """ADD CONSTRAINT clauses of the table's own foreign keys (to `cameras`)."""
    rows = conn.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY conname"
        ),
        {"t": table},
    ).all()
    return [f'ADD CONSTRAINT "{name}" {definition}' for name, definition in rows]


def _rebuild(table: str, *, partitioned: bool, months: list[date]) -> None:
    """Copy `table` into a new table of the same columns, partitioned or not, under the same name."""
    conn = op.get_bind()
    indexes, foreign_keys = _indexes(conn, table), _foreign_keys(conn, table)
    new = f"{table}__0010"
    op.execute(
        f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS)"
        + (" PARTITION BY RANGE (ts)" if partitioned else "")
    )
    if partitioned:
        for month in months:
            op.execute(
                f"CREATE TABLE {table}_p{month.year:04d}_{month.month:02d} PARTITION OF {new} "
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{_next_month(month).isoformat()}')"
            )
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {new} DEFAULT")
    op.execute(f"INSERT INTO {new} SELECT * FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {new} RENAME TO {table}")
    key = "id, ts" if partitioned else "id"
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({key})")
    for statement in indexes:
        op.execute(statement)
    for clause in foreign_keys:
        op.execute(f"ALTER TABLE {table} {clause}")


def _months_with_rows(table: str) -> set[date]:
    rows = op.get_bind().execute(sa.text(f"SELECT DISTINCT date_trunc('month', ts) FROM {table}")).scalars()
    return {_month(ts) for ts in rows}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    month = _month(datetime.now(UTC))
    upcoming = {month}
    for _ in range(_MONTHS_AHEAD):
        month = _next_month(month)
        upcoming.add(month)

    op.execute(
        "UPDATE face_vectors fv SET ts = fs.ts FROM face_sightings fs "
        "WHERE fs.id = fv.sighting_id AND fv.ts <> fs.ts"
    )
    op.execute(f"ALTER TABLE face_vectors DROP CONSTRAINT {_VECTOR_FK}")
    for table in _TABLES:
        _rebuild(table, partitioned=True, months=sorted(upcoming | _months_with_rows(table)))
    op.execute(
        f"ALTER TABLE face_vectors ADD CONSTRAINT {_VECTOR_FK} FOREIGN KEY (sighting_id, ts) "
        "REFERENCES face_sightings (id, ts) ON DELETE CASCADE"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    conn = op.get_bind()
    for table in _TABLES:
        shared = conn.execute(
            sa.text(f"SELECT count(*) FROM (SELECT id FROM {table} GROUP BY id HAVING count(*) > 1) d")
        ).scalar_one()
        if shared:
            raise RuntimeError(
                f"cannot downgrade below 0010: {shared} id(s) of {table} are used by more than one row "
                "(allowed by the partitioned key (id, ts), not by a plain key (id))"
            )
    op.execute(f"ALTER TABLE face_vectors DROP CONSTRAINT {_VECTOR_FK}")
    for table in _TABLES:
        _rebuild(table, partitioned=False, months=[])
    op.execute(
        f"ALTER TABLE face_vectors ADD CONSTRAINT {_VECTOR_FK} FOREIGN KEY (sighting_id) "
        "REFERENCES face_sightings (id) ON DELETE CASCADE"
    )
