"""The camera page's 24-hour timeline: recorded spans, motion, and event marks on a 1000-unit axis."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from safecity.store.recordings import Segment

WIDTH = 1000.0


@dataclass(frozen=True, slots=True)
class Timeline:
    since: datetime
    until: datetime
    clip_s: float
    spans: tuple[tuple[float, float, datetime, datetime], ...]
    """(x, width, start, end) of each recorded span; touching segments are drawn as one."""
    motion: tuple[tuple[float, float], ...]
    """(x, width) of each span in which something moved (motion tracks, overlapping ones joined)."""
    marks: tuple[tuple[str, float], ...]
    """(kind, x) of each event: plate, face or alert."""
    count: int
    hours: float

    @property
    def ticks(self) -> tuple[datetime, ...]:
        """Five evenly spaced times, `since` to `until`, to label the axis."""
        step = (self.until - self.since) / 4
        return tuple(self.since + step * i for i in range(5))


def _x(t: datetime, since: datetime, until: datetime) -> float:
    fraction = (t - since) / (until - since)
    return round(min(max(fraction, 0.0), 1.0) * WIDTH, 2)


def _merged(spans: Iterable[tuple[datetime, datetime]], join_gap_s: float) -> list[tuple[datetime, datetime]]:
    merged: list[list[datetime]] = []
    for start, end in sorted(spans):
        if merged and (start - merged[-1][1]).total_seconds() <= join_gap_s:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def build(
    segments: Sequence[Segment],
    events: Iterable[tuple[str, datetime]],
    until: datetime,
    *,
    motion: Iterable[tuple[datetime, datetime]] = (),
    hours: float = 24.0,
    clip_s: float,
    join_gap_s: float = 2.0,
) -> Timeline:
    """A timeline of the `hours` before `until`; spans closer than `join_gap_s` are merged."""
    since = until - timedelta(hours=hours)

    def placed(start: datetime, end: datetime) -> tuple[float, float] | None:
        x0, x1 = _x(start, since, until), _x(end, since, until)
        if x1 > x0 or since <= start < until:
            return x0, max(round(x1 - x0, 2), 1.0)  # at least a visible sliver
        return None

    spans = []
    for start, end in _merged(((s.start, s.end) for s in segments), join_gap_s):
        if (where := placed(start, end)) is not None:
            spans.append((*where, start, end))
    moved = [w for start, end in _merged(motion, join_gap_s) if (w := placed(start, end)) is not None]
    marks = tuple((kind, _x(t, since, until)) for kind, t in events if since <= t < until)
    return Timeline(since, until, clip_s, tuple(spans), tuple(moved), marks, len(segments), hours)
