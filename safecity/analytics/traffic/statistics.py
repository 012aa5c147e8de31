"""Traffic statistics: speeds per section and hour, counts per line, hour, direction and class.

Pure functions over section-speed measurements (`section_speed.SpeedMeasurement`) and stored
line crossings (`types.LineCrossing`), and CSV writers (stdlib `csv`) for both tables. Only
aggregates leave this module: no plate, no read id, no track id.

* A measurement belongs to the hour (UTC, aligned to the epoch) of its read at camera B, the
  time it completed; the same time speeding alerts carry.
* The 85th-percentile speed is `numpy.percentile(speeds, 85, method="linear")`: linear
  interpolation between the two nearest ranks (numpy's default, Hyndman & Fan type 7), so
  ``[10, 20, 30, 40]`` gives 35.5 and a single measurement is its own 85th percentile.
* Zones: from the stored motion tracks of cameras with configured zones (`zone_visits`). Stored
  tracks keep their box centres only, so a zone is tested with the centre of each box. A track
  visits a zone from its first to its last point inside it, and belongs to the hour it entered.
  It *queued* there when it stood (moved slower than `queue_speed_px_s` between two points)
  for at least `queue_min_s` in a row inside the zone. Peaks are the most visits (or queued
  stretches) at one instant; the instants are the entries that hour, and the hour's start.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TextIO, TypeVar

import numpy as np

from safecity.analytics.traffic.lines import TrackPath, Zone, count_crossings, interval_start
from safecity.analytics.traffic.section_speed import SpeedMeasurement
from safecity.types import LineCrossing

_Row = TypeVar("_Row")

HOUR_S = 3600.0
P85_METHOD: Final = "linear"
"""`numpy.percentile` method of the 85th-percentile speed (linear interpolation, type 7)."""

SECTION_COLUMNS = (
    "section_id",
    "camera_a",
    "camera_b",
    "hour_start",
    "measurements",
    "mean_speed_kmh",
    "p85_speed_kmh",
    "speed_limit_kmh",
    "violations",
)
LINE_COLUMNS = ("camera_id", "line_name", "hour_start", "direction", "object_class", "count")
ZONE_COLUMNS = (
    "camera_id",
    "zone_name",
    "hour_start",
    "tracks",
    "mean_dwell_s",
    "peak_occupancy",
    "queued",
    "peak_queue",
)


@dataclass(frozen=True, slots=True)
class SectionHourStats:
    """Speeds measured over one section in one hour [hour_start, hour_start + 1 h)."""

    section_id: str
    camera_a: str
    camera_b: str
    hour_start: datetime
    measurements: int
    mean_speed_kmh: float
    p85_speed_kmh: float
    speed_limit_kmh: float
    violations: int
    """Measurements above the section's threshold (limit plus tolerance)."""


@dataclass(frozen=True, slots=True)
class LineHourCount:
    """Crossings of one line, in one direction, of one class, in one hour."""

    camera_id: str
    line_name: str
    hour_start: datetime
    direction: str
    object_class: str
    count: int


@dataclass(frozen=True, slots=True)
class ZoneVisit:
    """One track's stay in one zone: from its first to its last point inside, and where it stood."""

    camera_id: str
    zone_name: str
    track_id: int
    entered: datetime
    left: datetime
    queued: tuple[tuple[datetime, datetime], ...]
    """Stretches of at least `queue_min_s` standing inside the zone."""


@dataclass(frozen=True, slots=True)
class ZoneHourStats:
    """Visits to one zone that began in one hour: how many, how long, how crowded, how many queued."""

    camera_id: str
    zone_name: str
    hour_start: datetime
    tracks: int
    mean_dwell_s: float
    peak_occupancy: int
    """Most visits inside the zone at one instant during the hour."""
    queued: int
    """Visits that stood in the zone for at least `queue_min_s` in a row."""
    peak_queue: int
    """Most tracks standing in the zone at one instant during the hour: the queue length."""


@dataclass(frozen=True, slots=True)
class TrafficStatistics:
    """The tables, sorted: sections by id then hour, lines by camera, line, hour, direction, class,
    zones by camera, zone and hour."""

    sections: tuple[SectionHourStats, ...]
    lines: tuple[LineHourCount, ...]
    zones: tuple[ZoneHourStats, ...] = ()


def mean_and_p85(speeds: Sequence[float]) -> tuple[float, float]:
    """Mean and 85th percentile (method "linear") of a non-empty sequence of speeds."""
    if not speeds:
        raise ValueError("no speeds: mean and 85th percentile need at least one value")
    values = np.asarray(speeds, dtype=np.float64)
    return float(values.mean()), float(np.percentile(values, 85, method=P85_METHOD))


def section_hour_stats(
    measurements: Iterable[SpeedMeasurement], interval_s: float = HOUR_S
) -> list[SectionHourStats]:
    """Count, mean and 85th-percentile speed and violations per section and hour of the read at B;
    hours without measurements are left out."""
    groups: dict[tuple[str, datetime], list[SpeedMeasurement]] = defaultdict(list)
    for m in measurements:
        groups[(m.section.id, interval_start(m.time_b, interval_s))].append(m)
    out: list[SectionHourStats] = []
    for (section_id, start), group in sorted(groups.items()):
        section = group[0].section
        mean, p85 = mean_and_p85([m.speed_kmh for m in group])
        out.append(
            SectionHourStats(
                section_id=section_id,
                camera_a=section.camera_a,
                camera_b=section.camera_b,
                hour_start=start,
                measurements=len(group),
                mean_speed_kmh=mean,
                p85_speed_kmh=p85,
                speed_limit_kmh=section.speed_limit_kmh,
                violations=sum(m.exceeds for m in group),
            )
        )
    return out


def line_hour_counts(crossings: Iterable[LineCrossing], interval_s: float = HOUR_S) -> list[LineHourCount]:
    """Crossings per camera, line, hour, direction and class (`lines.count_crossings` by the hour)."""
    return [
        LineHourCount(c.camera_id, c.line_name, c.interval_start, c.direction, c.object_class, c.count)
        for c in count_crossings(crossings, interval_s)
    ]


def zone_visits(
    paths: Iterable[TrackPath],
    zones: Mapping[str, Sequence[Zone]],
    queue_speed_px_s: float,
    queue_min_s: float,
) -> list[ZoneVisit]:
    """Every track's visit to every zone of its camera (`zones`: camera id -> zones), in path order."""
    if queue_speed_px_s < 0 or queue_min_s < 0:
        raise ValueError(
            f"queue_speed_px_s and queue_min_s must be >= 0, got {queue_speed_px_s} and {queue_min_s}"
        )
    out: list[ZoneVisit] = []
    for path in paths:
        for zone in zones.get(path.camera_id, ()):
            inside = [zone.contains((x, y)) for _, x, y in path.points]
            if not any(inside):
                continue
            first = inside.index(True)
            last = len(inside) - 1 - inside[::-1].index(True)
            stood: list[tuple[datetime, datetime]] = []
            run_start: float | None = None
            for i in range(first, last + 1):
                t0, x0, y0 = path.points[i - 1] if i > first else path.points[i]
                t1, x1, y1 = path.points[i]
                still = (
                    i > first
                    and inside[i]
                    and inside[i - 1]
                    and t1 > t0
                    and math.hypot(x1 - x0, y1 - y0) / (t1 - t0) <= queue_speed_px_s
                )
                if still and run_start is None:
                    run_start = t0
                if run_start is not None and (not still or i == last):
                    end = t1 if still else t0
                    if end - run_start >= queue_min_s:
                        stood.append((_at(path, run_start), _at(path, end)))
                    run_start = None
            out.append(
                ZoneVisit(
                    path.camera_id,
                    zone.name,
                    path.track_id,
                    _at(path, path.points[first][0]),
                    _at(path, path.points[last][0]),
                    tuple(stood),
                )
            )
    return out


def _at(path: TrackPath, t: float) -> datetime:
    return path.start + timedelta(seconds=t)


def _peak(spans: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> int:
    """Most spans covering one instant of [start, end): checked at each span's start and at `start`."""
    instants = [start] + [a for a, _ in spans if start <= a < end]
    return max((sum(1 for a, b in spans if a <= t <= b) for t in instants), default=0)


def zone_hour_stats(visits: Iterable[ZoneVisit], interval_s: float = HOUR_S) -> list[ZoneHourStats]:
    """Per camera, zone and hour of entry: visits, mean dwell, peak occupancy, queued visits, peak queue."""
    by_zone: dict[tuple[str, str], list[ZoneVisit]] = defaultdict(list)
    for v in visits:
        by_zone[(v.camera_id, v.zone_name)].append(v)
    out: list[ZoneHourStats] = []
    step = timedelta(seconds=interval_s)
    for (camera_id, zone_name), group in sorted(by_zone.items()):
        spans = [(v.entered, v.left) for v in group]
        queues = [q for v in group for q in v.queued]
        hours: dict[datetime, list[ZoneVisit]] = defaultdict(list)
        for v in group:
            hours[interval_start(v.entered, interval_s)].append(v)
        for start, entered in sorted(hours.items()):
            dwell = [(v.left - v.entered).total_seconds() for v in entered]
            out.append(
                ZoneHourStats(
                    camera_id=camera_id,
                    zone_name=zone_name,
                    hour_start=start,
                    tracks=len(entered),
                    mean_dwell_s=sum(dwell) / len(dwell),
                    peak_occupancy=_peak(spans, start, start + step),
                    queued=sum(1 for v in entered if v.queued),
                    peak_queue=_peak(queues, start, start + step),
                )
            )
    return out


def traffic_statistics(
    measurements: Iterable[SpeedMeasurement],
    crossings: Iterable[LineCrossing],
    interval_s: float = HOUR_S,
    visits: Iterable[ZoneVisit] = (),
) -> TrafficStatistics:
    return TrafficStatistics(
        tuple(section_hour_stats(measurements, interval_s)),
        tuple(line_hour_counts(crossings, interval_s)),
        tuple(zone_hour_stats(visits, interval_s)),
    )


def _hour(value: datetime) -> str:
    return value.isoformat()


def _csv_with_header(stream: TextIO, columns: Sequence[str]) -> Any:
    """A CSV writer on `stream` (newline-terminated rows) that has written the header already."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(columns)
    return writer


def _as_text(write: Callable[[Iterable[_Row], TextIO], None], rows: Iterable[_Row]) -> str:
    stream = io.StringIO()
    write(rows, stream)
    return stream.getvalue()


def write_sections_csv(rows: Iterable[SectionHourStats], stream: TextIO) -> None:
    """The section table as CSV with a header (`SECTION_COLUMNS`); speeds to 3 decimals, times ISO 8601."""
    writer = _csv_with_header(stream, SECTION_COLUMNS)
    for r in rows:
        writer.writerow(
            (
                r.section_id,
                r.camera_a,
                r.camera_b,
                _hour(r.hour_start),
                r.measurements,
                f"{r.mean_speed_kmh:.3f}",
                f"{r.p85_speed_kmh:.3f}",
                f"{r.speed_limit_kmh:g}",
                r.violations,
            )
        )


def write_lines_csv(rows: Iterable[LineHourCount], stream: TextIO) -> None:
    """The line table as CSV with a header (`LINE_COLUMNS`)."""
    writer = _csv_with_header(stream, LINE_COLUMNS)
    for r in rows:
        writer.writerow((r.camera_id, r.line_name, _hour(r.hour_start), r.direction, r.object_class, r.count))


def write_zones_csv(rows: Iterable[ZoneHourStats], stream: TextIO) -> None:
    """The zone table as CSV with a header (`ZONE_COLUMNS`); dwell to 3 decimals."""
    writer = _csv_with_header(stream, ZONE_COLUMNS)
    for r in rows:
        writer.writerow(
            (
                r.camera_id,
                r.zone_name,
                _hour(r.hour_start),
                r.tracks,
                f"{r.mean_dwell_s:.3f}",
                r.peak_occupancy,
                r.queued,
                r.peak_queue,
            )
        )


def zones_csv(rows: Iterable[ZoneHourStats]) -> str:
    return _as_text(write_zones_csv, rows)


def sections_csv(rows: Iterable[SectionHourStats]) -> str:
    return _as_text(write_sections_csv, rows)


def lines_csv(rows: Iterable[LineHourCount]) -> str:
    return _as_text(write_lines_csv, rows)
