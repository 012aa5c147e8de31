"""Observation records to table rows (and back): the one place that knows both shapes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import func, select

from safecity.analytics.plates.confusion import confusion_key
from safecity.store.database import Database
from safecity.store.models import (
    OBSERVATION_TABLES,
    FaceSightingRow,
    LineCrossingRow,
    MotionTrackRow,
    PlateReadRow,
)
from safecity.types import BBox, FaceSighting, LineCrossing, MotionTrack, Observation, PlateRead

ObservationTable = type[MotionTrackRow] | type[PlateReadRow] | type[FaceSightingRow] | type[LineCrossingRow]


def _common(obs: Observation) -> dict[str, object]:
    return {
        "id": obs.id,
        "camera_id": obs.camera_id,
        "ts": obs.timestamp,
        "x": obs.bbox.x,
        "y": obs.bbox.y,
        "w": obs.bbox.w,
        "h": obs.bbox.h,
        "confidence": float(obs.confidence),
        "track_id": obs.track_id,
        "snapshot": obs.snapshot,
    }


def to_row(obs: Observation) -> tuple[ObservationTable, dict[str, object]]:
    values = _common(obs)
    match obs:
        case MotionTrack():
            values.update(ended_at=obs.ended_at, path=[list(p) for p in obs.path])
            return MotionTrackRow, values
        case PlateRead():
            values.update(
                text=obs.text,
                normalised=obs.normalised,
                confusion_key=confusion_key(obs.normalised),
                country=obs.country,
                candidates=[[t, c] for t, c in obs.candidates],
            )
            return PlateReadRow, values
        case FaceSighting():
            emb = None if obs.embedding is None else np.asarray(obs.embedding, dtype="<f4").tobytes()
            values.update(quality=obs.quality, embedding=emb)
            return FaceSightingRow, values
        case LineCrossing():
            values.update(line_name=obs.line_name, direction=obs.direction, object_class=obs.object_class)
            return LineCrossingRow, values
    raise TypeError(f"not an observation: {type(obs).__name__}")


def group_rows(observations: Iterable[Observation]) -> dict[ObservationTable, list[dict[str, object]]]:
    grouped: dict[ObservationTable, list[dict[str, object]]] = {}
    for obs in observations:
        table, values = to_row(obs)
        grouped.setdefault(table, []).append(values)
    return grouped


def plate_read_from_row(row: PlateReadRow) -> PlateRead:
    return PlateRead(
        id=row.id,
        camera_id=row.camera_id,
        timestamp=row.ts,
        bbox=BBox(row.x, row.y, row.w, row.h),
        confidence=row.confidence,
        text=row.text,
        normalised=row.normalised,
        country=row.country,
        track_id=row.track_id,
        candidates=tuple((str(c[0]), float(c[1])) for c in row.candidates),
        snapshot=row.snapshot,
    )


def motion_track_from_row(row: MotionTrackRow) -> MotionTrack:
    return MotionTrack(
        id=row.id,
        camera_id=row.camera_id,
        timestamp=row.ts,
        ended_at=row.ended_at,
        bbox=BBox(row.x, row.y, row.w, row.h),
        confidence=row.confidence,
        track_id=row.track_id if row.track_id is not None else -1,
        path=tuple((float(p[0]), float(p[1]), float(p[2])) for p in row.path),
        snapshot=row.snapshot,
    )


class ObservationQueries:
    """Read side used by the CLI summary and tests; the API grows its own filters later."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def counts_by_camera(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        with self.db.session() as session:
            for table in OBSERVATION_TABLES:
                query = select(table.camera_id, func.count()).group_by(table.camera_id)
                for camera_id, n in session.execute(query):
                    out.setdefault(camera_id, {})[table.__tablename__] = int(n)
        return out

    def motion_tracks(
        self, camera_id: str, since: datetime | None = None, until: datetime | None = None
    ) -> Sequence[MotionTrack]:
        query = select(MotionTrackRow).where(MotionTrackRow.camera_id == camera_id)
        if since is not None:
            query = query.where(MotionTrackRow.ts >= since)
        if until is not None:
            query = query.where(MotionTrackRow.ts < until)
        with self.db.session() as session:
            return [motion_track_from_row(r) for r in session.scalars(query.order_by(MotionTrackRow.ts))]

    def plate_reads(self, camera_id: str | None = None) -> Sequence[PlateRead]:
        query = select(PlateReadRow).order_by(PlateReadRow.ts)
        if camera_id is not None:
            query = query.where(PlateReadRow.camera_id == camera_id)
        with self.db.session() as session:
            return [plate_read_from_row(r) for r in session.scalars(query)]
