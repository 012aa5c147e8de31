"""Traffic queries: stored plate reads of some cameras in time order, and alerts stored once only.

Section speed (`analytics.traffic.section_speed`) runs over reads between two times; the reads
come oldest first, streamed in batches so a day of a city's reads is never all in memory.
Speeding alerts have ids derived from their two reads, so storing them again inserts nothing.
Line crossings between two times feed the traffic statistics (counts per line, hour, direction, class);
motion tracks that began between two times, on the cameras with zones, feed zone occupancy and queues.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from safecity.store.database import Database
from safecity.store.models import AlertRow, LineCrossingRow, MotionTrackRow, PlateReadRow
from safecity.store.observations import line_crossing_from_row, motion_track_from_row, plate_read_from_row
from safecity.types import LineCrossing, MotionTrack, PlateRead

BATCH = 2000


def plate_reads_between(
    session_or_db: Session | Database,
    since: datetime | None,
    until: datetime | None,
    camera_ids: Collection[str] | None = None,
) -> Iterator[PlateRead]:
    """Plate reads at or after `since` and before `until` (None: open), oldest first (ties by id);
    only of `camera_ids` when given (an empty collection yields nothing). Given a session, they are
    read in it (a gated read's own transaction)."""
    if camera_ids is not None and not camera_ids:
        return
    query = select(PlateReadRow).order_by(PlateReadRow.ts, PlateReadRow.id)
    if since is not None:
        query = query.where(PlateReadRow.ts >= since)
    if until is not None:
        query = query.where(PlateReadRow.ts < until)
    if camera_ids is not None:
        query = query.where(PlateReadRow.camera_id.in_(sorted(camera_ids)))
    query = query.execution_options(yield_per=BATCH)
    if isinstance(session_or_db, Session):
        for row in session_or_db.scalars(query):
            yield plate_read_from_row(row)
        return
    with session_or_db.session() as session:
        for row in session.scalars(query):
            yield plate_read_from_row(row)


def insert_new_alerts(db: Database, rows: Sequence[dict[str, object]]) -> list[str]:
    """Insert the alert rows (`alerts.alert_row`) whose ids are not stored yet, in one transaction;
    returns the ids inserted. Rows whose id is stored already are left as they are (their status
    and handling are the operator's)."""
    if not rows:
        return []
    ids = [str(r["id"]) for r in rows]
    with db.session() as session:
        existing: set[str] = set()
        for i in range(0, len(ids), 500):
            existing.update(session.scalars(select(AlertRow.id).where(AlertRow.id.in_(ids[i : i + 500]))))
        fresh: dict[str, dict[str, object]] = {}
        for row in rows:
            rid = str(row["id"])
            if rid not in existing and rid not in fresh:
                fresh[rid] = row
        if fresh:
            session.execute(insert(AlertRow), list(fresh.values()))
    return list(fresh)


def line_crossings_between(
    session_or_db: Session | Database,
    since: datetime | None,
    until: datetime | None,
    camera_ids: Collection[str] | None = None,
) -> list[LineCrossing]:
    """Line crossings at or after `since` and before `until` (None: open), oldest first (ties by id);
    only of `camera_ids` when given (an empty collection gives none)."""
    if camera_ids is not None and not camera_ids:
        return []
    query = select(LineCrossingRow).order_by(LineCrossingRow.ts, LineCrossingRow.id)
    if since is not None:
        query = query.where(LineCrossingRow.ts >= since)
    if until is not None:
        query = query.where(LineCrossingRow.ts < until)
    if camera_ids is not None:
        query = query.where(LineCrossingRow.camera_id.in_(sorted(camera_ids)))
    if isinstance(session_or_db, Session):
        return [line_crossing_from_row(row) for row in session_or_db.scalars(query)]
    with session_or_db.session() as session:
        return [line_crossing_from_row(row) for row in session.scalars(query)]


def motion_spans(
    session: Session, camera_id: str, since: datetime, until: datetime, *, limit: int = 5000
) -> list[tuple[datetime, datetime]]:
    """(start, end) of the camera's motion tracks that began in [since, until), oldest first; no paths."""
    query = (
        select(MotionTrackRow.ts, MotionTrackRow.ended_at)
        .where(MotionTrackRow.camera_id == camera_id, MotionTrackRow.ts >= since, MotionTrackRow.ts < until)
        .order_by(MotionTrackRow.ts)
        .limit(limit)
    )
    return [(start, end) for start, end in session.execute(query)]


def motion_tracks_between(
    session: Session, since: datetime | None, until: datetime | None, camera_ids: Collection[str]
) -> list[MotionTrack]:
    """Motion tracks of `camera_ids` that began at or after `since` and before `until`, oldest first."""
    if not camera_ids:
        return []
    query = (
        select(MotionTrackRow)
        .where(MotionTrackRow.camera_id.in_(sorted(camera_ids)))
        .order_by(MotionTrackRow.ts, MotionTrackRow.id)
    )
    if since is not None:
        query = query.where(MotionTrackRow.ts >= since)
    if until is not None:
        query = query.where(MotionTrackRow.ts < until)
    return [motion_track_from_row(row) for row in session.scalars(query)]
