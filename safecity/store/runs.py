"""Processing runs: one row per pass of the pipeline over a source, for health and the demo summary."""

from __future__ import annotations

from dataclasses import asdict, fields

from sqlalchemy import select

from safecity.store.database import Database
from safecity.store.models import ProcessingRunRow
from safecity.types import RunStats

_FIELDS = tuple(f.name for f in fields(RunStats))


def save_run(db: Database, stats: RunStats) -> None:
    with db.session() as session:
        session.add(ProcessingRunRow(**asdict(stats)))


def list_runs(db: Database, camera_id: str | None = None) -> list[RunStats]:
    query = select(ProcessingRunRow).order_by(ProcessingRunRow.started_at)
    if camera_id is not None:
        query = query.where(ProcessingRunRow.camera_id == camera_id)
    with db.session() as session:
        return [RunStats(**{name: getattr(row, name) for name in _FIELDS}) for row in session.scalars(query)]
