"""Processing runs: one row per pass of the pipeline over a source, for health and the demo summary."""

from __future__ import annotations

from sqlalchemy import select

from safecity.pipeline.process import RunStats
from safecity.store.database import Database
from safecity.store.models import ProcessingRunRow


def save_run(db: Database, stats: RunStats) -> None:
    with db.session() as session:
        session.add(
            ProcessingRunRow(
                id=stats.id,
                camera_id=stats.camera_id,
                source=stats.source,
                started_at=stats.started_at,
                finished_at=stats.finished_at,
                frames_decoded=stats.frames_decoded,
                frames_analysed=stats.frames_analysed,
                frames_with_motion=stats.frames_with_motion,
                observations=stats.observations,
                error=stats.error,
            )
        )


def list_runs(db: Database, camera_id: str | None = None) -> list[RunStats]:
    query = select(ProcessingRunRow).order_by(ProcessingRunRow.started_at)
    if camera_id is not None:
        query = query.where(ProcessingRunRow.camera_id == camera_id)
    with db.session() as session:
        return [
            RunStats(
                id=r.id,
                camera_id=r.camera_id,
                source=r.source,
                started_at=r.started_at,
                finished_at=r.finished_at,
                frames_decoded=r.frames_decoded,
                frames_analysed=r.frames_analysed,
                frames_with_motion=r.frames_with_motion,
                observations=r.observations,
                error=r.error,
            )
            for r in session.scalars(query)
        ]
