"""Plate search and hotlists: confusion keys on plate reads, trigram indexes, hotlist entries, alert evidence.

- `plate_reads.confusion_key`, backfilled from `normalised` in SQL, indexed with `normalised`.
- `ix_plate_reads_normalised` becomes `(normalised, ts)`: an exact search reads newest first.
- Wildcard search index: PostgreSQL GIN index on `plate_reads.normalised` (pg_trgm) and the read's
  UTC day (btree_gin), so a search can ask for one day's matches at a time. Both extensions are
  created if missing; they are trusted since PostgreSQL 13, so the database owner may create them;
  SQLite a contentless FTS5 trigram table over `^normalised$` kept in sync by triggers, whose
  document ids put the read's time (seconds since 2000) above its rowid (low 32 bits), so the
  index yields newest reads first. These objects are dialect-specific and so not in the models
  (see `plate_index.include_name`).
- `hotlist_entries`, and `alerts.hotlist_entry_id` + `alerts.evidence`.

Downgrade removes all of it except the extensions, which are database-wide and may serve others.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from safecity.store.plate_index import sql_confusion_key

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Written out rather than imported: this revision's DDL stays as it was shipped.
_FTS = "plate_reads_trigram"
_DOC = "'^' || {row}.normalised || '$'"
# Seconds since 2000-01-01 (fractions cut off) in the high bits, the read's rowid in the low 32.
_DOCID = "(((CAST(strftime('%s', substr({row}.ts, 1, 19)) AS INTEGER) - 946684800) << 32) | {row}.rowid)"
_GUARD = (
    "SELECT RAISE(ABORT, 'plate_reads rowid needs more than 32 bits; the trigram index cannot hold it') "
    "WHERE new.rowid >= 4294967296; "
)
_SQLITE_UP = [
    f"CREATE VIRTUAL TABLE {_FTS} USING fts5("
    "plate, content='', tokenize='trigram', detail='none', columnsize=0)",
    f"CREATE TRIGGER {_FTS}_ai AFTER INSERT ON plate_reads BEGIN {_GUARD}"
    f"INSERT INTO {_FTS}(rowid, plate) VALUES ({_DOCID.format(row='new')}, {_DOC.format(row='new')}); END",
    f"CREATE TRIGGER {_FTS}_ad AFTER DELETE ON plate_reads BEGIN "
    f"INSERT INTO {_FTS}({_FTS}, rowid, plate) "
    f"VALUES ('delete', {_DOCID.format(row='old')}, {_DOC.format(row='old')}); END",
    f"CREATE TRIGGER {_FTS}_au AFTER UPDATE OF normalised, ts ON plate_reads BEGIN {_GUARD}"
    f"INSERT INTO {_FTS}({_FTS}, rowid, plate) "
    f"VALUES ('delete', {_DOCID.format(row='old')}, {_DOC.format(row='old')}); "
    f"INSERT INTO {_FTS}(rowid, plate) VALUES ({_DOCID.format(row='new')}, {_DOC.format(row='new')}); END",
    f"INSERT INTO {_FTS}(rowid, plate) "
    f"SELECT {_DOCID.format(row='plate_reads')}, {_DOC.format(row='plate_reads')} FROM plate_reads",
]
_SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {_FTS}_au",
    f"DROP TRIGGER IF EXISTS {_FTS}_ad",
    f"DROP TRIGGER IF EXISTS {_FTS}_ai",
    f"DROP TABLE IF EXISTS {_FTS}",
]
_PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX ix_plate_reads_normalised_trgm ON plate_reads "
    "USING gin (normalised gin_trgm_ops, (CAST(ts AS date)))",
]
_PG_DOWN = ["DROP INDEX IF EXISTS ix_plate_reads_normalised_trgm"]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name

    op.add_column(
        "plate_reads",
        sa.Column("confusion_key", sa.String(length=32), server_default="", nullable=False),
    )
    op.execute(f"UPDATE plate_reads SET confusion_key = {sql_confusion_key('normalised', dialect)}")
    op.create_index(
        "ix_plate_reads_confusion_key_normalised",
        "plate_reads",
        ["confusion_key", "normalised"],
        unique=False,
    )
    op.drop_index("ix_plate_reads_normalised", table_name="plate_reads")
    op.create_index("ix_plate_reads_normalised_ts", "plate_reads", ["normalised", "ts"], unique=False)

    op.create_table(
        "hotlist_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("plate", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotlist_entries")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hotlist_entry_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_hotlist_entry_id_hotlist_entries"),
            "hotlist_entries",
            ["hotlist_entry_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_alerts_hotlist_entry_id"), ["hotlist_entry_id"], unique=False)

    for statement in _SQLITE_UP if dialect == "sqlite" else _PG_UP:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_DOWN if dialect == "sqlite" else _PG_DOWN:
        op.execute(statement)

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_hotlist_entry_id"))
        batch_op.drop_constraint(batch_op.f("fk_alerts_hotlist_entry_id_hotlist_entries"), type_="foreignkey")
        batch_op.drop_column("evidence")
        batch_op.drop_column("hotlist_entry_id")
    op.drop_table("hotlist_entries")

    op.drop_index("ix_plate_reads_normalised_ts", table_name="plate_reads")
    op.create_index("ix_plate_reads_normalised", "plate_reads", ["normalised"], unique=False)
    op.drop_index("ix_plate_reads_confusion_key_normalised", table_name="plate_reads")
    with op.batch_alter_table("plate_reads", schema=None) as batch_op:
        batch_op.drop_column("confusion_key")
