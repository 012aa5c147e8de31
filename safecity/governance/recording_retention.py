"""Which recorded segments the retention sweep deletes, and which it must keep as evidence.

A segment goes when it is older than its mode's days (`recording.continuous_days`,
`motion_days`, `events_days`), shortened by the camera's published `retention_days`. In `motion`
and `events` mode, a segment in which nothing moved (any observation: motion track, plate read,
face sighting, line crossing) or nothing happened (a plate read, face sighting or alert) goes once
it is `recording.undecided_s` old. Neither applies to a segment within `pre_s` before to `post_s`
after an alert that is still open (new, confirming, confirmed) or was exported: that clip is
evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from safecity.config import RecordingSettings
from safecity.governance.audit import AuditAction
from safecity.governance.confirmation import AlertStatus
from safecity.store.database import Database
from safecity.store.models import (
    AlertRow,
    AuditEntryRow,
    FaceSightingRow,
    LineCrossingRow,
    MotionTrackRow,
    PlateReadRow,
)
from safecity.store.recordings import RecordingStore, Segment
from safecity.types import RecordingMode

OPEN_STATUSES = (AlertStatus.NEW, AlertStatus.CONFIRMING, AlertStatus.CONFIRMED)
RECORDINGS = "recordings"


@dataclass(frozen=True, slots=True)
class RecordingRetention:
    store: RecordingStore
    settings: RecordingSettings

    def cutoff(self, mode: RecordingMode, camera_retention_days: int, now: datetime) -> datetime:
        return now - timedelta(days=self.settings.kept_days(str(mode), camera_retention_days))

    def due(self, db: Database, cameras: Mapping[str, int], now: datetime, *, batch: int) -> list[Segment]:
        """Segments the sweep deletes now, per camera and mode at most `batch` looked at each.

        Expired ones are found by age; in `motion` and `events` mode the ones without anything in
        them are looked for among those that ended in the day before `undecided_s` ago (a sweep
        runs every `retention.sweep_interval_s`; one missed for longer only keeps such segments
        until they expire)."""
        undecided = now - timedelta(seconds=self.settings.undecided_s)
        candidates: dict[str, Segment] = {}
        for camera_id, days in cameras.items():
            for mode in (RecordingMode.CONTINUOUS, RecordingMode.MOTION, RecordingMode.EVENTS):
                cutoff = self.cutoff(mode, days, now)
                for s in self.store.ended_before(cutoff, limit=batch, camera_id=camera_id, mode=mode):
                    candidates[s.id] = s
                if mode is not RecordingMode.CONTINUOUS:
                    recent = self.store.ended_before(
                        undecided, after=max(cutoff, undecided - timedelta(days=1)), limit=batch,
                        camera_id=camera_id, mode=mode,
                    )  # fmt: skip
                    candidates.update((s.id, s) for s in recent)
        if not candidates:
            return []
        with db.read_session() as session:
            held = self._held(session, candidates.values())
            return [
                s
                for s in candidates.values()
                if s.id not in held
                and (s.end < self.cutoff(s.mode, cameras[s.camera_id], now) or not _something_in(session, s))
            ]

    def _held(self, session: Session, segments: Iterable[Segment]) -> set[str]:
        """Ids of segments within an open or exported alert's clip span."""
        segments = list(segments)
        # An alert at `at` holds the segments its clip span overlaps: look from this far either side.
        first = min(s.start for s in segments) - timedelta(seconds=self.settings.post_s)
        last = max(s.end for s in segments) + timedelta(seconds=self.settings.pre_s)
        exported = {
            alert_id
            for (target,) in session.execute(
                select(AuditEntryRow.target).where(AuditEntryRow.action == str(AuditAction.EXPORT))
            )
            for alert_id in target.split(",")
            if alert_id
        }
        alerts = session.execute(
            select(AlertRow.camera_id, AlertRow.ts).where(
                AlertRow.ts >= first,
                AlertRow.ts <= last,
                or_(AlertRow.status.in_([str(s) for s in OPEN_STATUSES]), AlertRow.id.in_(exported)),
            )
        ).all()
        return {
            s.id
            for s in segments
            for camera_id, at in alerts
            if camera_id == s.camera_id and s.overlaps(*self.settings.alert_span(at))
        }


def _something_in(session: Session, segment: Segment) -> bool:
    """Whether the segment holds what its mode keeps it for (continuous: always)."""
    if segment.mode is RecordingMode.CONTINUOUS:
        return True
    tables: tuple[type[PlateReadRow | FaceSightingRow | MotionTrackRow | LineCrossingRow], ...]
    if segment.mode is RecordingMode.MOTION:
        tables = (MotionTrackRow, PlateReadRow, FaceSightingRow, LineCrossingRow)
    else:
        tables = (PlateReadRow, FaceSightingRow)
    for table in tables:
        hit = session.scalar(
            select(table.id)
            .where(table.camera_id == segment.camera_id, table.ts >= segment.start, table.ts < segment.end)
            .limit(1)
        )
        if hit is not None:
            return True
    if segment.mode is RecordingMode.EVENTS:
        alert = session.scalar(
            select(AlertRow.id)
            .where(
                AlertRow.camera_id == segment.camera_id,
                AlertRow.ts >= segment.start,
                AlertRow.ts < segment.end,
            )
            .limit(1)
        )
        return alert is not None
    return False
