"""Observation records to table rows (and back): the one place that knows both shapes.

A face sighting with an embedding becomes two rows: the sighting and its `face_vectors` row.
`group_rows` puts the vectors after the sightings, so one batch inserts both in one transaction
(the vector refers to its sighting) with one executemany per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from safecity.analytics.plates.confusion import confusion_key
from safecity.analytics.plates.formats import normalise_plate
from safecity.store.database import Database
from safecity.store.models import (
    OBSERVATION_TABLES,
    FaceSightingRow,
    FaceVectorRow,
    LineCrossingRow,
    MotionTrackRow,
    PlateReadRow,
)
from safecity.types import (
    FACE_EMBEDDING_DIM,
    BBox,
    FaceSighting,
    LineCrossing,
    MotionTrack,
    Observation,
    PlateRead,
)

ObservationTable = type[MotionTrackRow] | type[PlateReadRow] | type[FaceSightingRow] | type[LineCrossingRow]
RowTable = ObservationTable | type[FaceVectorRow]
"""A table the writer inserts into: an observation table, or face_vectors beside face_sightings."""

VECTOR_BYTES = FACE_EMBEDDING_DIM * 4


def vector_to_bytes(vector: Sequence[float] | npt.NDArray[np.floating]) -> bytes:
    """A face embedding as stored: FACE_EMBEDDING_DIM float32 values, little-endian."""
    array = np.asarray(vector, dtype="<f4")
    if array.shape != (FACE_EMBEDDING_DIM,):
        raise ValueError(f"a face embedding has {FACE_EMBEDDING_DIM} values, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("a face embedding must not contain NaN or infinite values")
    return array.tobytes()


def vector_from_bytes(blob: bytes) -> npt.NDArray[np.float32]:
    """The stored form back to a float32 vector; ValueError if it is not FACE_EMBEDDING_DIM values."""
    if len(blob) != VECTOR_BYTES:
        raise ValueError(f"stored face embedding has {len(blob)} bytes, expected {VECTOR_BYTES}")
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


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
            # The stored key is folded (ŠA123AB -> SA123AB) whoever made the read; `text` keeps
            # the diacritics as printed. Search, hotlists and migration 0012 rely on it.
            key = normalise_plate(obs.normalised)
            values.update(
                text=obs.text,
                normalised=key,
                confusion_key=confusion_key(key),
                country=obs.country,
                candidates=[[t, c] for t, c in obs.candidates],
            )
            return PlateReadRow, values
        case FaceSighting():
            values.update(quality=obs.quality)
            return FaceSightingRow, values
        case LineCrossing():
            values.update(line_name=obs.line_name, direction=obs.direction, object_class=obs.object_class)
            return LineCrossingRow, values
    raise TypeError(f"not an observation: {type(obs).__name__}")


def vector_row(obs: Observation) -> dict[str, object] | None:
    """The face_vectors row of a face sighting that carries an embedding; None for anything else."""
    if not isinstance(obs, FaceSighting) or obs.embedding is None:
        return None
    return {
        "sighting_id": obs.id,
        "camera_id": obs.camera_id,
        "ts": obs.timestamp,
        "embedding": vector_to_bytes(obs.embedding),
    }


def group_rows(observations: Iterable[Observation]) -> dict[RowTable, list[dict[str, object]]]:
    """Rows per table, in an order that can be inserted as is: face_vectors after face_sightings."""
    grouped: dict[RowTable, list[dict[str, object]]] = {}
    vectors: list[dict[str, object]] = []
    for obs in observations:
        table, values = to_row(obs)
        grouped.setdefault(table, []).append(values)
        vector = vector_row(obs)
        if vector is not None:
            vectors.append(vector)
    if vectors:
        grouped[FaceVectorRow] = vectors
    return grouped


def line_crossing_from_row(row: LineCrossingRow) -> LineCrossing:
    return LineCrossing(
        id=row.id,
        camera_id=row.camera_id,
        timestamp=row.ts,
        bbox=BBox(row.x, row.y, row.w, row.h),
        confidence=row.confidence,
        line_name=row.line_name,
        direction=row.direction,
        object_class=row.object_class,
        track_id=row.track_id,
        snapshot=row.snapshot,
    )


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


def face_sighting_from_row(row: FaceSightingRow, embedding: bytes | None) -> FaceSighting:
    return FaceSighting(
        id=row.id,
        camera_id=row.camera_id,
        timestamp=row.ts,
        bbox=BBox(row.x, row.y, row.w, row.h),
        confidence=row.confidence,
        quality=row.quality,
        track_id=row.track_id,
        embedding=None if embedding is None else tuple(float(v) for v in vector_from_bytes(embedding)),
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

    def face_sightings(self, camera_id: str | None = None) -> Sequence[FaceSighting]:
        """Face sightings oldest first, each with its embedding where a face_vectors row keeps one."""
        query = (
            select(FaceSightingRow, FaceVectorRow.embedding)
            .outerjoin(FaceVectorRow, FaceVectorRow.sighting_id == FaceSightingRow.id)
            .order_by(FaceSightingRow.ts, FaceSightingRow.id)
        )
        if camera_id is not None:
            query = query.where(FaceSightingRow.camera_id == camera_id)
        with self.db.session() as session:
            return [face_sighting_from_row(row, emb) for row, emb in session.execute(query)]
