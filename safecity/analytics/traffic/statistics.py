"""Traffic statistics: speeds per section and hour, counts per line, hour, direction and class.

Pure functions over section-speed measurements (`section_speed.SpeedMeasurement`) and stored
line crossings (`types.LineCrossing`), and CSV writers (stdlib `csv`) for both tables. Only
aggregates leave this module: no plate, no read id, no track id.

* A measurement belongs to the hour (UTC, aligned to the epoch) of its read at camera B, the
  time it completed; the same time speeding alerts carry.
* The 85th-percentile speed is `numpy.percentile(speeds, 85, method="linear")`: linear
  interpolation between the two nearest ranks (numpy's default, Hyndman & Fan type 7), so
  ``[10, 20, 30, 40]`` gives 35.5 and a single measurement is its own 85th percentile.
* Zones: occupancy (`lines.zone_occupancy`) needs track paths per camera with configured
  zones; no stored source feeds it into statistics yet, so zones are not part of these tables.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TextIO

import numpy as np

from safecity.analytics.traffic.lines import count_crossings, interval_start
from safecity.analytics.traffic.section_speed import SpeedMeasurement
from safecity.types import LineCrossing

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
class TrafficStatistics:
    """Both tables, sorted: sections by id then hour, lines by camera, line, hour, direction, class."""

    sections: tuple[SectionHourStats, ...]
    lines: tuple[LineHourCount, ...]


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


def traffic_statistics(
    measurements: Iterable[SpeedMeasurement], crossings: Iterable[LineCrossing], interval_s: float = HOUR_S
) -> TrafficStatistics:
    return TrafficStatistics(
        tuple(section_hour_stats(measurements, interval_s)), tuple(line_hour_counts(crossings, interval_s))
    )


def _hour(value: datetime) -> str:
    return value.isoformat()


def write_sections_csv(rows: Iterable[SectionHourStats], stream: TextIO) -> None:
    """The section table as CSV with a header (`SECTION_COLUMNS`); speeds to 3 decimals, times ISO 8601."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(SECTION_COLUMNS)
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
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(LINE_COLUMNS)
    for r in rows:
        writer.writerow((r.camera_id, r.line_name, _hour(r.hour_start), r.direction, r.object_class, r.count))


def sections_csv(rows: Iterable[SectionHourStats]) -> str:
    stream = io.StringIO()
    write_sections_csv(rows, stream)
    return stream.getvalue()


def lines_csv(rows: Iterable[LineHourCount]) -> str:
    stream = io.StringIO()
    write_lines_csv(rows, stream)
    return stream.getvalue()
