"""`safecity db upgrade | downgrade | current | partitions`: schema migrations and the monthly
partitions of the observation tables (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.table import Table

from safecity.cli.common import command_group, fail, out, settings
from safecity.config import redact_url
from safecity.store.database import Database
from safecity.store.partitions import ensure_partitions, list_partitions

# Alembic (which loads every SQL dialect's DDL: a sixth of `safecity --help`'s start-up) is imported
# inside `_migrate`.

db_app = command_group("Database schema migrations.")


def _migration_db() -> tuple[Database, str]:
    """The database, reached but not migrated (migrating is the command's job), and its shown URL."""
    s = settings()
    return Database.reach(s.effective_database_url, s.store), redact_url(s.effective_database_url)


def _migrate(step: Callable[[Database], None]) -> None:
    from alembic.util import CommandError

    db, shown = _migration_db()
    try:
        step(db)
    except CommandError as exc:
        fail(f"migration failed on {shown}: {exc}")
    out.print(f"database {shown} at revision {db.current_revision() or 'empty (base)'}")
    db.close()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database schema up (to the latest by default)."""
    _migrate(lambda db: db.upgrade(revision))


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")]) -> None:
    """Migrate the database schema down (destroys data in dropped tables)."""
    _migrate(lambda db: db.downgrade(revision))


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of the code."""
    db, shown = _migration_db()
    out.print(f"{shown}: database at {db.current_revision() or 'empty'}, code expects {db.head_revision()}")
    db.close()


@db_app.command("partitions")
def db_partitions(
    ensure: Annotated[
        bool,
        typer.Option(
            "--ensure", help="First create this month's and the next `store.partition_months_ahead` months'."
        ),
    ] = False,
    estimate: Annotated[
        bool, typer.Option("--estimate", help="Planner estimates of the row counts instead of counting.")
    ] = False,
) -> None:
    """PostgreSQL: the monthly partitions of the observation tables, with their rows."""
    db, shown = _migration_db()
    try:
        if db.is_sqlite:
            out.print(f"{shown}: SQLite, the observation tables are not partitioned")
            return
        if ensure:
            created = ensure_partitions(db.engine, db.settings.partition_months_ahead)
            out.print(f"created {len(created)} partition(s){': ' + ', '.join(created) if created else ''}")
        partitions = list_partitions(db.engine, exact=not estimate)
    finally:
        db.close()
    if not partitions:
        out.print(f"{shown}: the observation tables are not partitioned; run `safecity db upgrade`")
        return
    table = Table(title=f"{len(partitions)} partition(s)")
    for col in ("table", "partition", "from", "to", "rows"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for p in partitions:
        bounds = (
            ("default", "")
            if p.start is None or p.end is None
            else (f"{p.start:%Y-%m-%d}", f"{p.end:%Y-%m-%d}")
        )
        table.add_row(p.table, p.name, *bounds, str(p.rows))
    out.print(table)
