"""Monthly partitions of the observation tables on PostgreSQL: creating the coming months, listing them.

Owns the partitions that migration 0010 set up: on PostgreSQL `plate_reads`, `face_sightings`,
`motion_tracks` and `line_crossings` are partitioned by range of `ts`, one partition per UTC
calendar month (`<table>_pYYYY_MM`) plus a DEFAULT partition (`<table>_default`) for any row no
month covers, so an insert never fails for want of a partition. A month should have its own
partition before its rows arrive: `ensure_partitions` creates the current month's and the next
`store.partition_months_ahead` months' where missing. It runs after every `safecity db upgrade`
and with `safecity db partitions --ensure`; run either at least every few months (a cron job),
or new rows collect in the default partition (kept, just not split by month). Should rows of a
month already sit in the default partition when its partition is created, they are moved into it
(PostgreSQL refuses to create it otherwise), with the face vectors that refer to moved sightings
kept under their keys. SQLite keeps plain tables: everything here is a no-op there.

Also the Alembic filters that leave partitions, and the two-column foreign key of `face_vectors`
that partitioning needs, out of the comparison with the models (which keep the SQLite shape).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, ForeignKeyConstraint, text
from sqlalchemy.schema import SchemaItem

from safecity.store.models import OBSERVATION_TABLES
from safecity.store.plate_index import include_name as _include_search_index_name

PARTITIONED_TABLES: tuple[str, ...] = tuple(t.__tablename__ for t in OBSERVATION_TABLES)
"""The observation tables, partitioned by month of `ts` on PostgreSQL."""
DEFAULT_SUFFIX = "default"
VECTOR_FK = "fk_face_vectors_sighting_id_face_sightings"
"""face_vectors -> face_sightings; on PostgreSQL `(sighting_id, ts)` -> `(id, ts)`, see migration 0010."""

# Rows that refer to a partitioned table, by that table: (referencing table, its columns for id, ts).
# Moving rows out of the default partition deletes them there, which would cascade to these.
_REFERENCING = {"face_sightings": ("face_vectors", "sighting_id", "ts")}
_LOCK_KEY = 0x5AFEC17
"""Advisory lock held while partitions are created, so that two processes never race to it."""
_BOUND = re.compile(r"FOR VALUES FROM \('([^']+)'\) TO \('([^']+)'\)")
_PARTITION_NAME = re.compile(rf"^(?:{'|'.join(PARTITIONED_TABLES)})_(?:p\d{{4}}_\d{{2}}|{DEFAULT_SUFFIX})$")
# PostgreSQL's clones of a foreign key to a partitioned table, one per partition (`..._fkey`, `..._fkey1`).
_CLONED_VECTOR_FK = re.compile(r"^face_vectors_sighting_id_ts_fkey\d*$")


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition of an observation table: the months it holds (none: the default) and its rows."""

    table: str
    name: str
    start: datetime | None
    """First instant it holds (naive UTC, as `ts` is stored); None for the default partition."""
    end: datetime | None
    """First instant after it; None for the default partition."""
    rows: int

    @property
    def is_default(self) -> bool:
        return self.start is None


def month_start(ts: datetime | date) -> date:
    return date(ts.year, ts.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    """`plate_reads_p2026_12` for December 2026's plate reads."""
    return f"{table}_p{month.year:04d}_{month.month:02d}"


def ensure_partitions(
    bind: Engine | Connection, months_ahead: int, *, now: datetime | None = None
) -> list[str]:
    """Create the partitions of this month and the `months_ahead` next ones that are missing.

    Idempotent: a month some partition already covers is left alone. Returns the names created.
    No-op on SQLite, and for tables that are not partitioned (a schema below revision 0010).
    A `Connection` works in the transaction it is in; an `Engine` gets a transaction of its own.
    """
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            return ensure_partitions(conn, months_ahead, now=now)
    if bind.dialect.name != "postgresql":
        return []
    if months_ahead < 0:
        raise ValueError(f"months_ahead must be 0 or more, got {months_ahead}")
    first = month_start(now or datetime.now(UTC))
    months = [add_months(first, n) for n in range(months_ahead + 1)]
    tables = [t for t in PARTITIONED_TABLES if _is_partitioned(bind, t)]
    if not tables:
        return []
    bind.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    created = []
    for table in tables:
        existing = _partitions(bind, table)
        default = next((p.name for p in existing if p.is_default), None)
        for month in months:
            start, end = _naive(month), _naive(add_months(month, 1))
            if any(
                p.start is not None and p.end is not None and p.start < end and start < p.end
                for p in existing
            ):
                continue
            _create_month(bind, table, month, default)
            created.append(partition_name(table, month))
    return created


def list_partitions(bind: Engine | Connection, *, exact: bool = True) -> list[Partition]:
    """The partitions of every partitioned observation table, months in order, the default last.

    `exact` counts rows (a scan of each partition); otherwise the planner's estimate is used, and
    an exact count only for partitions never analysed. Empty on SQLite and on unpartitioned tables.
    """
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return list_partitions(conn, exact=exact)
    if bind.dialect.name != "postgresql":
        return []
    found = []
    for table in PARTITIONED_TABLES:
        if not _is_partitioned(bind, table):
            continue
        for p in _partitions(bind, table):
            estimate = -1.0 if exact else _estimated_rows(bind, p.name)
            rows = int(estimate) if estimate >= 0 else _count(bind, p.name)
            found.append(Partition(p.table, p.name, p.start, p.end, rows))
    return found


# ------------------------------------------------------------------ Alembic filters


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic name filter: objects outside the models, i.e. partitions and the plate search index.

    Leaves out the partitions of the observation tables and PostgreSQL's per-partition clones of
    the `face_vectors` foreign key, then applies `plate_index.include_name`.
    """
    if name is not None:
        if type_ == "table" and _PARTITION_NAME.match(name):
            return False
        if type_ == "foreign_key_constraint" and _CLONED_VECTOR_FK.match(name):
            return False
    return _include_search_index_name(name, type_, parent_names)


def include_object(
    obj: SchemaItem, name: str | None, type_: str, reflected: bool, compare_to: SchemaItem | None
) -> bool:
    """Alembic object filter: the `face_vectors` foreign key is `(sighting_id, ts)` on a partitioned
    PostgreSQL schema where the models say `(sighting_id)`; that pair is not a difference."""
    if type_ != "foreign_key_constraint":
        return True
    return not (_is_partitioned_vector_fk(obj) or _is_partitioned_vector_fk(compare_to))


def _is_partitioned_vector_fk(obj: SchemaItem | None) -> bool:
    return (
        isinstance(obj, ForeignKeyConstraint)
        and obj.name == VECTOR_FK
        and list(obj.column_keys) == ["sighting_id", "ts"]
    )


# ------------------------------------------------------------------ catalog


def _naive(month: date) -> datetime:
    return datetime(month.year, month.month, 1)


def _is_partitioned(conn: Connection, table: str) -> bool:
    return bool(
        conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t))"),
            {"t": table},
        ).scalar_one()
    )


def _partitions(conn: Connection, table: str) -> list[Partition]:
    """The table's partitions with their bounds (rows not counted), months in order, default last."""
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": table},
    ).all()
    found = []
    for name, bound in rows:
        match = _BOUND.search(bound or "")
        if match:
            start, end = (datetime.fromisoformat(v) for v in match.groups())
            found.append(Partition(table, name, start, end, 0))
        elif bound == "DEFAULT":
            found.append(Partition(table, name, None, None, 0))
        # Anything else (MINVALUE/MAXVALUE bounds made by hand) is not ours to list or plan around.
    return sorted(found, key=lambda p: (p.is_default, p.start or datetime.min, p.name))


def _count(conn: Connection, name: str) -> int:
    return int(conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())


def _estimated_rows(conn: Connection, name: str) -> float:
    """pg_class.reltuples: -1 for a table never vacuumed or analysed."""
    return float(
        conn.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": name}
        ).scalar_one()
    )


def _columns(conn: Connection, table: str) -> str:
    names = conn.execute(
        text(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ),
        {"t": table},
    ).scalars()
    return ", ".join(f'"{n}"' for n in names)


def _create_month(conn: Connection, table: str, month: date, default: str | None) -> None:
    name = partition_name(table, month)
    bounds = f"FOR VALUES FROM ('{month.isoformat()}') TO ('{add_months(month, 1).isoformat()}')"
    span = {"start": _naive(month), "end": _naive(add_months(month, 1))}
    waiting = (
        default is not None
        and conn.execute(
            text(f'SELECT EXISTS (SELECT 1 FROM "{default}" WHERE ts >= :start AND ts < :end)'), span
        ).scalar_one()
    )
    if not waiting:
        conn.execute(text(f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table}" {bounds}'))
        return
    # The month's rows wait in the default partition, and PostgreSQL refuses a partition that
    # would take rows from it: build the partition apart, move the rows, then attach it.
    referencing = _REFERENCING.get(table)
    if referencing is not None:
        # Deleting the moved rows from the default partition cascades to the rows that refer to
        # them: keep those aside and put them back once the rows are in the new partition.
        child, ref_id, ref_ts = referencing
        conn.execute(
            text(
                f'CREATE TEMPORARY TABLE "_moved_{child}" ON COMMIT DROP AS SELECT r.* FROM "{child}" r '
                f'WHERE r."{ref_ts}" >= :start AND r."{ref_ts}" < :end '
                f'AND EXISTS (SELECT 1 FROM "{default}" d WHERE d.id = r."{ref_id}" AND d.ts = r."{ref_ts}")'
            ),
            span,
        )
    columns = _columns(conn, table)
    conn.execute(text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)'))
    conn.execute(
        text(
            f'WITH moved AS (DELETE FROM "{default}" WHERE ts >= :start AND ts < :end RETURNING {columns}) '
            f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM moved'
        ),
        span,
    )
    conn.execute(text(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" {bounds}'))
    if referencing is not None:
        child = referencing[0]
        child_columns = _columns(conn, child)
        conn.execute(
            text(f'INSERT INTO "{child}" ({child_columns}) SELECT {child_columns} FROM "_moved_{child}"')
        )
        conn.execute(text(f'DROP TABLE "_moved_{child}"'))
