"""Geometry for the inline SVG of the pages: the camera map and the hourly bar chart.

Computed here, drawn by the templates: no script draws anything, so the pictures work with the
page's script blocked and need no library. The map uses the projection of the public register
(`governance.register`): equirectangular around the cameras' mean latitude, north up, scaled to fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecity.store.models import AlertRow, PlateReadRow
from safecity.types import Camera, Capability

MAP_WIDTH = 640
MAP_HEIGHT = 400
MAP_PAD = 24


@dataclass(frozen=True, slots=True)
class MapPoint:
    camera: Camera
    x: float
    y: float
    kind: str
    """faces, plates or other: the most intrusive analysis the camera runs (fill colour)."""
    state: str
    """The live state (running, stalled, ...), "disabled", or "unknown" (outline colour)."""


def capability_kind(camera: Camera) -> str:
    if Capability.FACES in camera.capabilities:
        return "faces"
    return "plates" if Capability.PLATES in camera.capabilities else "other"


def project(cameras: Sequence[Camera], states: dict[str, str] | None = None) -> list[MapPoint]:
    """The cameras on the map's plane (the register's projection)."""
    if not cameras:
        return []
    states = states or {}
    mean_lat = sum(c.latitude for c in cameras) / len(cameras)
    x_scale = math.cos(math.radians(mean_lat))
    xs = [c.longitude * x_scale for c in cameras]
    ys = [c.latitude for c in cameras]
    span = max(max(xs) - min(xs), max(ys) - min(ys))
    inner_w, inner_h = MAP_WIDTH - 2 * MAP_PAD, MAP_HEIGHT - 2 * MAP_PAD
    scale = min(inner_w, inner_h) / span if span > 0 else 0.0
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    points = []
    for camera, x, y in zip(cameras, xs, ys, strict=True):
        state = states.get(camera.id, "unknown") if camera.enabled else "disabled"
        points.append(
            MapPoint(
                camera,
                round(MAP_WIDTH / 2 + (x - mid_x) * scale, 1),
                round(MAP_HEIGHT / 2 - (y - mid_y) * scale, 1),
                capability_kind(camera),
                state,
            )
        )
    return points


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


def hourly_counts(
    session: Session, now: datetime, camera_ids: Sequence[str] | None, hours: int = 24
) -> dict[str, list[int]]:
    """Plate reads and alerts per hour over the last `hours` (oldest hour first), counted in SQL.

    One small indexed count per hour and table: portable across SQLite and PostgreSQL, and cheap
    at any table size (the `ts` indexes answer each range).
    """
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    out: dict[str, list[int]] = {"plate reads": [], "alerts": []}
    for name, table in (("plate reads", PlateReadRow), ("alerts", AlertRow)):
        for i in range(hours, 0, -1):
            lo, hi = end - timedelta(hours=i), end - timedelta(hours=i - 1)
            query = select(func.count()).select_from(table).where(table.ts >= lo, table.ts < hi)
            if camera_ids is not None:
                query = query.where(table.camera_id.in_(list(camera_ids)))
            out[name].append(int(session.scalar(query) or 0))
    return out


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
