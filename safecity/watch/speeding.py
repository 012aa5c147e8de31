"""Speeding alerts: section-speed violations turned into alerts with both plate reads as evidence.

`measure_stored_speeds` runs the section-speed matcher over the plate reads stored between two
times; `SpeedingWatch` runs it live in `safecity serve`, over the reads as they are stored;
`save_speeding_alerts` stores an alert per violation, with the two reads (text, time,
camera, snapshot, confidence), the section, the speed and how the plates matched as evidence.
An alert's id is derived from its section and its two reads, so measuring the same period again
raises no second alert for the same passage.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.analytics.traffic.section_speed import (
    Section,
    SectionSpeedMatcher,
    SpeedMeasurement,
    SpeedViolation,
    build_sections,
    violation_of,
)
from safecity.config import TrafficSettings
from safecity.store.alerts import alert_row
from safecity.store.cameras import CameraStore, camera_from_row
from safecity.store.database import Database
from safecity.store.models import CameraRow
from safecity.store.traffic import insert_new_alerts, plate_reads_between
from safecity.types import Alert, AlertKind, Camera, PlateMatchKind, PlateRead

log = logging.getLogger(__name__)

SPEEDING_NAMESPACE = uuid.UUID("8d6c1f4e-5b7a-4c39-9e2d-3f0a6b1c7d52")
"""Namespace of the uuid5 ids of speeding alerts (section id and the two read ids)."""


def speeding_alert_id(measurement: SpeedMeasurement) -> str:
    """The same id for the same section and pair of reads, however often it is measured."""
    name = f"{measurement.section.id}|{measurement.read_a_id}|{measurement.read_b_id}"
    return uuid.uuid5(SPEEDING_NAMESPACE, name).hex


def speeding_alert(violation: SpeedViolation) -> Alert:
    """The alert of a violation: at camera B, at the time of the read there, on that read."""
    m = violation.measurement
    s = m.section
    how = ""
    if m.match is not PlateMatchKind.EXACT:
        how = f", read {m.read_b.normalised} at B ({m.match.value.replace('_', ' ')} match)"
    return Alert(
        id=speeding_alert_id(m),
        kind=AlertKind.SPEEDING,
        camera_id=s.camera_b,
        timestamp=m.time_b,
        message=(
            f"plate {m.read_a.text or m.plate} at {m.speed_kmh:.1f} km/h over section {s.id} "
            f"(limit {s.speed_limit_kmh:g} km/h, +{violation.excess_kmh:.1f}){how}"
        ),
        observation_id=m.read_b_id,
        score=round(m.speed_kmh / s.speed_limit_kmh, 4),
    )


def _read_evidence(read: PlateRead) -> dict[str, Any]:
    return {
        "id": read.id,
        "camera_id": read.camera_id,
        "time": read.timestamp.isoformat(),
        "text": read.text,
        "normalised": read.normalised,
        "snapshot": read.snapshot,
        "confidence": read.confidence,
    }


def speeding_evidence(violation: SpeedViolation) -> dict[str, Any]:
    """What an operator needs to judge the alert without another query: both reads, the section,
    the distance, the travel time, the speed against limit and threshold, and how the plates matched."""
    m = violation.measurement
    s = m.section
    return {
        "section_id": s.id,
        "camera_a": s.camera_a,
        "camera_b": s.camera_b,
        "distance_m": round(s.distance_m, 3),
        "clock_offset_s": s.clock_offset_s,
        "speed_limit_kmh": s.speed_limit_kmh,
        "threshold_kmh": round(violation.threshold_kmh, 3),
        "speed_kmh": round(m.speed_kmh, 3),
        "excess_kmh": round(violation.excess_kmh, 3),
        "travel_s": round(m.travel_s, 3),
        "match": m.match.value,
        "read_a": _read_evidence(m.read_a),
        "read_b": _read_evidence(m.read_b),
    }


def save_speeding_alerts(db: Database, violations: Sequence[SpeedViolation]) -> list[Alert]:
    """Store an alert per violation with its evidence, in one transaction; returns the alerts that
    were new (violations stored before are skipped, so this is safe to repeat)."""
    alerts = {a.id: (a, v) for v in violations for a in (speeding_alert(v),)}
    rows = [alert_row(alert, evidence=speeding_evidence(v)) for alert, v in alerts.values()]
    inserted = insert_new_alerts(db, rows)
    return [alerts[i][0] for i in inserted]


@dataclass(frozen=True, slots=True)
class SpeedReport:
    """The section speeds over a period: every measurement, the violations among them, reads seen."""

    measurements: tuple[SpeedMeasurement, ...]
    violations: tuple[SpeedViolation, ...]
    reads: int


def measure_speeds(
    sections: Sequence[Section],
    reads: Iterable[PlateRead],
    settings: TrafficSettings | None = None,
) -> SpeedReport:
    """Run the matcher over `reads` (an iterable in time order) and sort out the violations."""
    matcher = SectionSpeedMatcher.from_settings(sections, settings)
    measurements = tuple(matcher.run(reads))
    violations = tuple(v for v in map(violation_of, measurements) if v is not None)
    return SpeedReport(measurements, violations, matcher.reads)


def measure_stored_speeds(
    db: Database | Session,
    sections: Sequence[Section],
    since: datetime | None,
    until: datetime | None,
    settings: TrafficSettings | None = None,
) -> SpeedReport:
    """Section speeds from the plate reads stored in [since, until) on the sections' cameras
    (read in `db`'s own transaction, or in the session given).

    A vehicle read at A just before `since` or at B just after `until` is not measured: choose
    the period with a margin of a section's longest plausible travel time where that matters.
    """
    cameras = {c for s in sections for c in (s.camera_a, s.camera_b)}
    return measure_speeds(sections, plate_reads_between(db, since, until, cameras), settings)


def sections_within(sections: Sequence[Section], cameras: Collection[str] | None) -> list[Section]:
    """The sections both of whose cameras are among `cameras` (None: all). A section's speeds are
    made of reads at both ends, so a caller limited to some cameras sees only sections inside them."""
    return [s for s in sections if cameras is None or {s.camera_a, s.camera_b} <= set(cameras)]


def registered_cameras(db: Database, session: Session | None = None) -> dict[str, Camera]:
    """The camera register by id, read in `session` when one is given (no second transaction)."""
    if session is None:
        return {c.id: c for c in CameraStore(db).all()}
    return {r.id: camera_from_row(r) for r in session.scalars(select(CameraRow).order_by(CameraRow.id))}


def measure_configured_speeds(
    db: Database,
    settings: TrafficSettings,
    since: datetime | None,
    until: datetime | None,
    *,
    cameras: Collection[str] | None = None,
    session: Session | None = None,
) -> tuple[list[Section], SpeedReport]:
    """The configured sections (distances from the registered cameras where none is given) and the
    speeds measured over them from stored reads; ValueError naming `traffic.sections` if one is bad.

    `cameras`: only the sections inside these cameras (a caller's limits; None: all). `session`:
    read in it (a gated read's transaction) rather than in transactions of their own.
    """
    registered = registered_cameras(db, session)
    try:
        sections = build_sections(settings, registered)
    except ValueError as exc:
        raise ValueError(f"traffic.sections: {exc}") from exc
    sections = sections_within(sections, cameras)
    return sections, measure_stored_speeds(session or db, sections, since, until, settings)


class SpeedingWatch:
    """Section speed while serving: plate reads as they are stored in, speeding alerts out.

    The configured sections are built from the registered cameras at start and again on
    `reload` (a camera moved, was added or removed); a change of sections starts a new matcher,
    so reads waiting at A then are not paired (logged). A bad section configuration is logged and
    measures nothing until it is fixed: serving the cameras must not stop for it. Alert ids come
    from the section and the two reads, so a read seen twice raises no second alert.
    """

    def __init__(self, db: Database, settings: TrafficSettings) -> None:
        self.db = db
        self.settings = settings
        self.sections: tuple[Section, ...] = ()
        self._matcher: SectionSpeedMatcher | None = None
        self.reload()

    def reload(self) -> None:
        cameras = {c.id: c for c in CameraStore(self.db).all()}
        try:
            sections = tuple(build_sections(self.settings, cameras))
        except ValueError as exc:
            if self._matcher is not None or not self.sections:
                log.error("traffic.sections: %s; section speed is off until the configuration is fixed", exc)
            self.sections, self._matcher = (), None
            return
        if sections == self.sections and self._matcher is not None:
            return
        if self._matcher is not None and self._matcher.pending:
            log.warning("sections changed: %d reads waiting at A are not paired", self._matcher.pending)
        self.sections = sections
        self._matcher = SectionSpeedMatcher.from_settings(sections, self.settings) if sections else None

    def check(self, reads: Sequence[PlateRead]) -> list[Alert]:
        """Feed stored reads (oldest first); the new speeding alerts they complete."""
        if self._matcher is None:
            return []
        matcher = self._matcher
        return self._save([m for r in sorted(reads, key=lambda r: r.timestamp) for m in matcher.push(r)])

    def advance(self, now: datetime) -> list[Alert]:
        """Time passes on a quiet road: reads held back for the allowed lateness are processed."""
        return self._save(self._matcher.advance(now)) if self._matcher is not None else []

    def finish(self) -> list[Alert]:
        """At stop: everything held back is processed."""
        return self._save(self._matcher.finish()) if self._matcher is not None else []

    def _save(self, measurements: Sequence[SpeedMeasurement]) -> list[Alert]:
        violations = [v for v in map(violation_of, measurements) if v is not None]
        return save_speeding_alerts(self.db, violations) if violations else []
