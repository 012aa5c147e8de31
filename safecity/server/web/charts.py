"""Geometry for the inline SVG of the pages: the camera map and the hourly bar charts (reads and
alerts; vehicles counted and speeding alerts).

Computed here, drawn by the templates: no script draws anything, so the pictures work with the
page's script blocked and need no library. The map's geometry is the register's
(`registry.map`), so the public file and the pages place cameras alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from safecity.store.models import AlertRow, LineCrossingRow, PlateReadRow
from safecity.types import AlertKind

_Timed = type[PlateReadRow] | type[AlertRow] | type[LineCrossingRow]
"""Stored rows with a camera and a time, which the charts count per hour."""
CHART_WIDTH = 720
CHART_HEIGHT = 200
CHART_LEFT = 36
CHART_BOTTOM = 24
CHART_TOP = 10


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    value: int
    label: str


@dataclass(frozen=True, slots=True)
class HourlyChart:
    bars: list[Bar]
    hour_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, int]]
    totals: dict[str, int]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_LEFT
    baseline: float = CHART_HEIGHT - CHART_BOTTOM


def _per_hour(
    session: Session,
    table: _Timed,
    end: datetime,
    hours: int,
    camera_ids: Sequence[str] | None,
    *conditions: ColumnElement[bool],
) -> list[int]:
    """Rows of `table` per hour over the `hours` before `end` (oldest first), counted in SQL.

    One small indexed count per hour: portable across SQLite and PostgreSQL, and cheap at any
    table size (the `ts` indexes answer each range).
    """
    out: list[int] = []
    for i in range(hours, 0, -1):
        lo, hi = end - timedelta(hours=i), end - timedelta(hours=i - 1)
        query = select(func.count()).select_from(table).where(table.ts >= lo, table.ts < hi, *conditions)
        if camera_ids is not None:
            query = query.where(table.camera_id.in_(list(camera_ids)))
        out.append(int(session.scalar(query) or 0))
    return out


def _hour_end(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def hourly_counts(
    session: Session, now: datetime, camera_ids: Sequence[str] | None, hours: int = 24
) -> dict[str, list[int]]:
    """Plate reads and alerts per hour over the last `hours` (oldest hour first)."""
    end = _hour_end(now)
    return {
        "plate reads": _per_hour(session, PlateReadRow, end, hours, camera_ids),
        "alerts": _per_hour(session, AlertRow, end, hours, camera_ids),
    }


def _chart_end(session: Session, now: datetime, camera_ids: Sequence[str] | None, *rows: _Timed) -> datetime:
    """When a chart ends: now, or the last stored row when none came in the last day (a city that
    paused counting, or the demo's recorded morning, still shows its last day)."""
    stamps = []
    for row in rows:
        query = select(func.max(row.ts))
        if camera_ids is not None:
            query = query.where(row.camera_id.in_(list(camera_ids)))
        stamp = session.scalar(query)
        if stamp is not None:
            stamps.append(stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=now.tzinfo))
    if not stamps:
        return now
    latest = max(stamps)
    return latest if latest < now - timedelta(hours=24) else now


def latest_traffic(session: Session, now: datetime, camera_ids: Sequence[str] | None) -> datetime:
    """When the traffic chart ends (`_chart_end` of the line crossings)."""
    return _chart_end(session, now, camera_ids, LineCrossingRow)


def latest_reads(session: Session, now: datetime, camera_ids: Sequence[str] | None) -> datetime:
    """When the reads-and-alerts chart ends (`_chart_end` of plate reads and alerts)."""
    return _chart_end(session, now, camera_ids, PlateReadRow, AlertRow)


def traffic_counts(
    session: Session, end: datetime, camera_ids: Sequence[str] | None, hours: int = 24
) -> dict[str, list[int]]:
    """Vehicles counted on the counting lines and speeding alerts per hour, the `hours` up to `end`."""
    last = _hour_end(end)
    return {
        "vehicles counted": _per_hour(
            session, LineCrossingRow, last, hours, camera_ids, LineCrossingRow.object_class == "vehicle"
        ),
        "speeding alerts": _per_hour(
            session, AlertRow, last, hours, camera_ids, AlertRow.kind == AlertKind.SPEEDING.value
        ),
    }


def hourly_chart(counts: dict[str, list[int]], now: datetime) -> HourlyChart:
    """Grouped bars, one group per hour, scaled to the largest count."""
    series = list(counts)
    hours = len(next(iter(counts.values()), []))
    top = max((max(v) for v in counts.values() if v), default=0)
    scale_max = max(top, 1)
    plot_w = CHART_WIDTH - CHART_LEFT - 4
    plot_h = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    group = plot_w / max(hours, 1)
    bar_w = max((group - 2) / max(len(series), 1), 1.0)
    baseline = CHART_HEIGHT - CHART_BOTTOM
    first_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    bars = []
    labels = []
    for h in range(hours):
        start = first_hour + timedelta(hours=h)
        gx = CHART_LEFT + h * group + 1
        if h % 3 == 0:
            labels.append((round(gx + group / 2, 1), f"{start:%H}h"))
        for s, name in enumerate(series):
            value = counts[name][h]
            height = plot_h * value / scale_max
            bars.append(
                Bar(
                    x=round(gx + s * bar_w, 1),
                    y=round(baseline - height, 1),
                    width=round(bar_w, 1),
                    height=round(height, 1),
                    series="reads" if s == 0 else "alerts",
                    value=value,
                    label=f"{name}, {start:%Y-%m-%d %H}:00–{start + timedelta(hours=1):%H}:00 UTC: {value}",
                )
            )
    ticks = sorted({0, scale_max // 2, scale_max}) if top else [0]
    y_ticks = [(round(baseline - plot_h * t / scale_max, 1), t) for t in ticks]
    return HourlyChart(bars, labels, y_ticks, {name: sum(v) for name, v in counts.items()})
