"""The index of recorded video segments (`recordings` table) and the segment files it names.

A segment file lives at ``<camera>/<YYYY-MM-DD>/<start epoch ms>-<mode>-<id>.mp4`` under the
recordings folder, written first as ``….mp4.part`` and renamed when closed; the row is added after
the rename. A recorder killed at any point leaves either a ``.part`` file (fragmented MP4: playable
up to its last whole fragment) or a closed file without its row. `reconcile` runs before recording
starts again: it adopts every such file that still holds video (renamed, indexed with its real
end), deletes those that hold none, and drops rows whose file is gone; afterwards the index and
the folder name the same segments.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select

from safecity.store.database import Database
from safecity.store.models import RecordingRow
from safecity.types import RecordingMode

PART = ".part"
_NAME = re.compile(r"^(?P<ms>\d{10,16})-(?P<mode>[a-z]+)-(?P<id>[0-9a-f]{32})\.mp4(?P<part>\.part)?$")
_SAFE_CAMERA = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Segment:
    """One recorded segment: which camera, the span it covers, its file (relative), its size."""

    id: str
    camera_id: str
    start: datetime
    end: datetime
    path: str
    size: int
    mode: RecordingMode

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()

    def overlaps(self, since: datetime, until: datetime) -> bool:
        return self.start < until and self.end > since


@dataclass(frozen=True, slots=True)
class SegmentName:
    """What a segment's file name holds: start, mode and id (the folder gives camera and day)."""

    start: datetime
    mode: RecordingMode
    id: str
    part: bool

    @classmethod
    def parse(cls, name: str) -> SegmentName | None:
        match = _NAME.match(name)
        if match is None or match["mode"] not in RecordingMode.__members__.values():
            return None
        start = datetime.fromtimestamp(int(match["ms"]) / 1000, UTC)
        return cls(start, RecordingMode(match["mode"]), match["id"], match["part"] is not None)


def segment_path(camera_id: str, start: datetime, mode: RecordingMode, segment_id: str) -> str:
    """The relative path of a closed segment file (add `PART` while it is written)."""
    if not _SAFE_CAMERA.match(camera_id):
        raise ValueError(f"camera id {camera_id!r} cannot name a recordings folder")
    ms = int(start.timestamp() * 1000)
    return f"{camera_id}/{start.astimezone(UTC):%Y-%m-%d}/{ms}-{mode}-{segment_id}.mp4"


def _segment(row: RecordingRow) -> Segment:
    return Segment(row.id, row.camera_id, row.start, row.end, row.path, row.size, RecordingMode(row.mode))


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    adopted: tuple[str, ...]
    """Files left by a killed recorder that held video: now closed and indexed."""
    deleted_files: tuple[str, ...]
    """Files that held no playable video."""
    dropped_rows: tuple[str, ...]
    """Rows whose file was gone."""


class RecordingStore:
    """Segment rows and files of every camera under one recordings folder."""

    def __init__(self, db: Database, root: Path) -> None:
        self.db = db
        self.root = root

    def file(self, segment: Segment | str) -> Path:
        """The absolute path of a segment (or of a relative path), refused if it leaves the folder."""
        rel = segment.path if isinstance(segment, Segment) else segment
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"segment path {rel!r} leaves the recordings folder")
        return path

    def add(self, segment: Segment) -> None:
        with self.db.session() as session:
            session.add(
                RecordingRow(
                    id=segment.id,
                    camera_id=segment.camera_id,
                    start=segment.start,
                    end=segment.end,
                    path=segment.path,
                    size=segment.size,
                    mode=str(segment.mode),
                )
            )

    def segments(
        self, camera_id: str, since: datetime, until: datetime, *, limit: int = 10_000
    ) -> list[Segment]:
        """Segments of a camera that overlap [since, until), oldest first."""
        query = (
            select(RecordingRow)
            .where(
                RecordingRow.camera_id == camera_id,
                RecordingRow.start < until,
                RecordingRow.end > since,
            )
            .order_by(RecordingRow.start)
            .limit(limit)
        )
        with self.db.read_session() as session:
            return [_segment(r) for r in session.scalars(query)]

    def all(self, camera_id: str | None = None) -> list[Segment]:
        query = select(RecordingRow).order_by(RecordingRow.camera_id, RecordingRow.start)
        if camera_id is not None:
            query = query.where(RecordingRow.camera_id == camera_id)
        with self.db.read_session() as session:
            return [_segment(r) for r in session.scalars(query)]

    def ended_before(
        self,
        cutoff: datetime,
        *,
        limit: int,
        camera_id: str | None = None,
        mode: RecordingMode | None = None,
        after: datetime | None = None,
    ) -> list[Segment]:
        """Segments that ended before `cutoff` (and after `after`), oldest first: the sweep's candidates."""
        query = select(RecordingRow).where(RecordingRow.end < cutoff)
        if after is not None:
            query = query.where(RecordingRow.end >= after)
        if camera_id is not None:
            query = query.where(RecordingRow.camera_id == camera_id)
        if mode is not None:
            query = query.where(RecordingRow.mode == str(mode))
        with self.db.read_session() as session:
            return [_segment(r) for r in session.scalars(query.order_by(RecordingRow.end).limit(limit))]

    def delete(self, segments: Sequence[Segment]) -> int:
        """Delete the rows, then the files (a file whose row is gone is never played again; one
        left by a crash between the two is removed by the next `reconcile`). Returns files deleted."""
        if not segments:
            return 0
        with self.db.session() as session:
            session.execute(delete(RecordingRow).where(RecordingRow.id.in_([s.id for s in segments])))
        removed = 0
        for segment in segments:
            try:
                self.file(segment).unlink()
                removed += 1
            except FileNotFoundError:
                pass
        return removed

    def reconcile(
        self, duration_of: Callable[[Path], float | None], cameras: Iterable[str] | None = None
    ) -> ReconcileReport:
        """Make the index and the folder agree (see the module docstring). `duration_of` gives the
        seconds of video a file holds (None or 0: none playable)."""
        wanted = None if cameras is None else set(cameras)
        indexed = {s.path: s for s in self.all()}
        adopted: list[str] = []
        deleted: list[str] = []
        on_disk: set[str] = set()
        for path in sorted(self.root.glob("*/*/*")) if self.root.is_dir() else []:
            camera_id = path.parent.parent.name
            if wanted is not None and camera_id not in wanted:
                continue
            name = SegmentName.parse(path.name)
            if name is None or not path.is_file():
                continue
            closed = path.with_name(path.name.removesuffix(PART))
            rel = closed.relative_to(self.root).as_posix()
            if not name.part and rel in indexed:
                on_disk.add(rel)
                continue
            seconds = duration_of(path)
            if not seconds:
                path.unlink(missing_ok=True)
                deleted.append(path.relative_to(self.root).as_posix())
                continue
            if name.part:
                os.replace(path, closed)
            self.add(
                Segment(
                    name.id,
                    camera_id,
                    name.start,
                    name.start + timedelta(seconds=seconds),
                    rel,
                    closed.stat().st_size,
                    name.mode,
                )
            )
            on_disk.add(rel)
            adopted.append(rel)
        gone = [
            s for rel, s in indexed.items()
            if rel not in on_disk and (wanted is None or s.camera_id in wanted) and not self.file(s).is_file()
        ]  # fmt: skip
        if gone:
            with self.db.session() as session:
                session.execute(delete(RecordingRow).where(RecordingRow.id.in_([s.id for s in gone])))
        return ReconcileReport(tuple(adopted), tuple(deleted), tuple(s.path for s in gone))
