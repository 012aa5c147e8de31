"""Counting lines and zones: which tracks crossed a line (and which way), which were inside a zone.

Owns: the geometry (a line is a segment in image pixels, a zone a simple polygon), turning a
finished track into `LineCrossing` observations, the class of a track (vehicle / person /
unknown by box shape, size and speed) and the counts per line and per zone per interval.

Which point of a track is tested: by default the *bottom-centre* of its box. The line is drawn
on the road, and the bottom edge of a vehicle's box is where the vehicle touches the road (its
nearest bumper); the box centre sits above the road by half the vehicle's height, and in
perspective that point crosses a line drawn on the road early or late and can cross lines drawn
on a neighbouring lane or beyond the kerb. `anchor = "centre"` uses the box centre instead
(top-down views).

Direction: seen facing from a line's first point to its second on the screen (y down), a track
moving from the left-hand side to the right-hand side crosses `in_direction` ("in" by default),
the other way `out_direction`. For a line drawn left to right, "in" is moving down the image.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import Literal

from safecity.analytics.tracking import FinishedTrack
from safecity.config import CameraCountingConfig, CountingSettings
from safecity.types import BBox, Camera, LineCrossing, MotionTrack, observation_id

Point = tuple[float, float]
TrackPoint = tuple[float, float, float]
"""(seconds since the track's start, x, y)."""
Anchor = Literal["bottom", "centre"]

VEHICLE = "vehicle"
PERSON = "person"
UNKNOWN = "unknown"


def _finite(point: Point, what: str) -> None:
    if len(point) != 2 or not all(math.isfinite(v) for v in point):
        raise ValueError(f"{what} must be a finite (x, y) pair, got {point!r}")


def _cross(a: Point, b: Point, p: Point) -> float:
    """z of (b - a) x (p - a): > 0 when p is right of a->b on screen (y down), < 0 left, 0 on it."""
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


@dataclass(frozen=True, slots=True)
class CountingLine:
    """A named segment in image pixels; crossing it left to right (facing from `a` to `b`) is "in"."""

    name: str
    a: Point
    b: Point
    in_direction: str = "in"
    out_direction: str = "out"

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a counting line needs a non-empty name")
        _finite(self.a, f"counting line {self.name!r}: first point")
        _finite(self.b, f"counting line {self.name!r}: second point")
        if self.length < 1.0:
            raise ValueError(
                f"counting line {self.name!r} is degenerate: its points {self.a} and {self.b} are less "
                "than 1 pixel apart"
            )
        if not self.in_direction or not self.out_direction or self.in_direction == self.out_direction:
            raise ValueError(
                f"counting line {self.name!r} needs two different, non-empty direction names, got "
                f"{self.in_direction!r} and {self.out_direction!r}"
            )

    @property
    def length(self) -> float:
        return math.hypot(self.b[0] - self.a[0], self.b[1] - self.a[1])

    def signed_distance(self, p: Point) -> float:
        """Distance of `p` from the (infinite) line in pixels: > 0 on the right side, < 0 on the left."""
        return _cross(self.a, self.b, p) / self.length

    def position_along(self, p: Point) -> float:
        """Where `p`'s projection falls on the segment: 0 at `a`, 1 at `b`."""
        dx, dy = self.b[0] - self.a[0], self.b[1] - self.a[1]
        return ((p[0] - self.a[0]) * dx + (p[1] - self.a[1]) * dy) / (dx * dx + dy * dy)


@dataclass(frozen=True, slots=True)
class Zone:
    """A named simple polygon in image pixels (at least three corners, non-zero area)."""

    name: str
    polygon: tuple[Point, ...]

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a zone needs a non-empty name")
        if len(self.polygon) < 3:
            raise ValueError(f"zone {self.name!r} needs at least 3 corners, got {len(self.polygon)}")
        for i, p in enumerate(self.polygon):
            _finite(p, f"zone {self.name!r}: corner {i}")
        if abs(self.area) < 1.0:
            raise ValueError(
                f"zone {self.name!r} is degenerate: its polygon has an area of {abs(self.area):.2f} px² "
                "(corners repeated or on one line)"
            )

    @property
    def area(self) -> float:
        """Signed area (shoelace); the sign says the corners' winding."""
        pts = self.polygon
        return 0.5 * sum(
            pts[i][0] * pts[(i + 1) % len(pts)][1] - pts[(i + 1) % len(pts)][0] * pts[i][1]
            for i in range(len(pts))
        )

    def contains(self, p: Point) -> bool:
        """Point in polygon by ray casting (even-odd); points on the boundary may go either way."""
        x, y = p
        inside = False
        pts = self.polygon
        j = len(pts) - 1
        for i in range(len(pts)):
            xi, yi = pts[i]
            xj, yj = pts[j]
            if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                inside = not inside
            j = i
        return inside


@dataclass(frozen=True, slots=True)
class TrackPath:
    """The points of one track that lines and zones are tested with, and the boxes they came from."""

    camera_id: str
    track_id: int
    start: datetime
    points: tuple[TrackPoint, ...]
    boxes: tuple[BBox, ...] = ()
    """Aligned with `points` when known (finished tracks); empty for stored motion tracks."""
    confidence: float = 1.0

    @classmethod
    def of_finished(cls, track: FinishedTrack, anchor: Anchor = "bottom") -> TrackPath:
        """Points from each box: bottom-centre (default) or centre; times from the track's path."""
        points = tuple(
            (t, b.x + b.w / 2.0, float(b.y + b.h) if anchor == "bottom" else b.y + b.h / 2.0)
            for (t, _, _), b in zip(track.path, track.boxes, strict=True)
        )
        return cls(
            track.camera_id,
            track.track_id,
            track.first_seen,
            points,
            track.boxes,
            track.hits / track.frames_spanned,
        )

    @classmethod
    def of_motion_track(cls, track: MotionTrack) -> TrackPath:
        """A stored motion track: only its box centres are known."""
        return cls(track.camera_id, track.track_id, track.timestamp, track.path, (), track.confidence)


@dataclass(frozen=True, slots=True)
class Crossing:
    """Where and when a path crossed a line (geometry only)."""

    line_name: str
    direction: str
    t: float
    """Seconds since the track's start, interpolated along the crossing step."""
    x: float
    y: float
    step: int
    """Index of the path point just after the crossing."""


def line_crossings(
    line: CountingLine, points: Sequence[TrackPoint], hysteresis_px: float = 0.0
) -> list[Crossing]:
    """Every crossing of `line` along `points`, in order.

    A point changes the path's side only once it is more than `hysteresis_px` from the line, so
    jitter about the line counts nothing and a track crosses once per real passage; a track that
    truly comes back (gets past the band on the other side) crosses again, the other way. A
    step that touches the segment (an end point included) and goes on to the other side crosses
    it; a path that touches the line and returns stays on its side; a path that changes side
    beyond the segment's ends (around it) crosses nothing. The crossing's time and place are
    interpolated linearly where the step meets the line.
    """
    out: list[Crossing] = []
    dist = [line.signed_distance((x, y)) for _, x, y in points]
    side = 0  # -1 left, +1 right, 0 not yet known
    since = 0  # first point since the path was last firmly on `side`
    for i, d in enumerate(dist):
        if abs(d) <= hysteresis_px or d == 0.0:
            continue
        new = 1 if d > 0 else -1
        if side == 0 or new == side:
            side, since = new, i
            continue
        # Firmly on the other side: find the step where it left the old side.
        k = since
        while k + 1 < i and dist[k + 1] * side > 0:
            k += 1
        d0, d1 = dist[k], dist[k + 1]
        f = d0 / (d0 - d1) if d0 != d1 else 1.0
        t0, x0, y0 = points[k]
        t1, x1, y1 = points[k + 1]
        x, y, t = x0 + f * (x1 - x0), y0 + f * (y1 - y0), t0 + f * (t1 - t0)
        u = line.position_along((x, y))
        if -1e-9 <= u <= 1.0 + 1e-9:
            direction = line.in_direction if new > 0 else line.out_direction
            out.append(Crossing(line.name, direction, t, x, y, k + 1))
        side, since = new, i
    return out


def classify(path: TrackPath, settings: CountingSettings) -> str:
    """vehicle, person or unknown, from the track's median box and its speed (documented thresholds).

    - median box area below `min_object_area_px`: unknown (too small to tell);
    - median height / width below `min_object_aspect`: unknown (a sliver: shadow edge or fragment);
    - tall (height / width >= `person_min_aspect`) and slow (<= `person_max_speed_px_s`): person;
    - otherwise (wide, or fast whatever its shape): vehicle.
    Speed is the straight-line distance from first to last point over the track's duration.
    Without boxes (stored motion tracks) the class is unknown.
    """
    if not path.boxes or len(path.points) < 2:
        return UNKNOWN
    area = median(b.area for b in path.boxes)
    if area < settings.min_object_area_px:
        return UNKNOWN
    aspect = median(b.h / b.w for b in path.boxes if b.w > 0) if any(b.w > 0 for b in path.boxes) else 0.0
    (t0, x0, y0), (t1, x1, y1) = path.points[0], path.points[-1]
    speed = math.hypot(x1 - x0, y1 - y0) / (t1 - t0) if t1 > t0 else 0.0
    if aspect < settings.min_object_aspect:
        return UNKNOWN
    if aspect >= settings.person_min_aspect and speed <= settings.person_max_speed_px_s:
        return PERSON
    return VEHICLE


@dataclass(frozen=True, slots=True)
class _Counted:
    """A crossing already counted, kept for a while to recognise fragments of the same object."""

    track_id: int
    line_name: str
    direction: str
    at: datetime
    boxes: dict[datetime, BBox]
    """The counted track's box at each of its frames (absolute time), to compare with a fragment's."""


def _extent(box: BBox, axis: Point) -> tuple[float, float]:
    """The box projected on a unit `axis`: (lowest, highest) coordinate of its corners."""
    values = [x * axis[0] + y * axis[1] for x in (box.x, box.x + box.w) for y in (box.y, box.y + box.h)]
    return min(values), max(values)


def same_object(line: CountingLine, a: BBox, b: BBox, overlap: float, gap_px: float) -> bool:
    """Whether boxes `a` and `b`, seen at the same instant, are fragments of one object crossing `line`.

    Fragments of one vehicle (a body and the sliver of its bumper, split by the motion gate) lie one
    behind the other in the direction of travel, across the line: they share most of their extent
    along the line (at least `overlap` of the narrower one) and are at most `gap_px` apart across
    it. Two vehicles side by side in adjacent lanes are offset *along* the line instead, and two
    vehicles one behind the other in one lane keep a gap: neither is merged.
    """
    length = line.length
    along = ((line.b[0] - line.a[0]) / length, (line.b[1] - line.a[1]) / length)
    across = (-along[1], along[0])
    (a0, a1), (b0, b1) = _extent(a, along), _extent(b, along)
    shared = min(a1, b1) - max(a0, b0)
    narrower = min(a1 - a0, b1 - b0)
    if narrower <= 0 or shared < overlap * narrower:
        return False
    (c0, c1), (d0, d1) = _extent(a, across), _extent(b, across)
    return max(c0, d0) - min(c1, d1) <= gap_px


def without_reversals(crossings: Sequence[Crossing], window_s: float) -> list[Crossing]:
    """One track's crossings of one line, less every pair that crosses and comes straight back.

    A crossing followed by one the other way within `window_s` is a hesitation or a box that
    jittered across the line (a blob's bottom edge moves with its shape on a low-resolution
    view), not two passages: both are dropped, so away-towards-away within the window counts one
    "away". Pairs are taken in time order, so a longer dance leaves its net crossing.
    """
    kept: list[Crossing] = []
    for c in crossings:
        if kept and kept[-1].direction != c.direction and c.t - kept[-1].t <= window_s:
            kept.pop()
            continue
        kept.append(c)
    return kept


def counting_for(camera: Camera, settings: CountingSettings) -> CameraCountingConfig | None:
    """A camera's counting lines and zones: those registered with it, else its entry in the
    settings' `[[counting.cameras]]`; None when it has neither."""
    if camera.counting is None:
        return settings.for_camera(camera.id)
    return CameraCountingConfig.model_validate({**camera.counting.model_dump(), "camera_id": camera.id})


def lines_of(config: CameraCountingConfig) -> list[CountingLine]:
    """The camera's configured counting lines (ValueError for degenerate ones)."""
    return [
        CountingLine(c.name, c.points[0], c.points[1], c.in_direction, c.out_direction) for c in config.lines
    ]


class LineCounter:
    """One camera's counting lines and zones; turns finished tracks into `LineCrossing` observations.

    Stateful for one camera's stream: a crossing by a track that was, at some instant, a fragment
    of an object already counted crossing the same line the same way within
    `fragment_window_s` (see `same_object`) is not counted again. The motion gate sometimes
    splits one vehicle into a body and a thin sliver, and both tracks cross the line. Within one
    track, a crossing undone within `reversal_window_s` is not counted (`without_reversals`).
    """

    def __init__(
        self,
        camera_id: str,
        lines: Sequence[CountingLine],
        settings: CountingSettings,
        *,
        zones: Sequence[Zone] = (),
        anchor: Anchor = "bottom",
    ) -> None:
        for kind, names in (("line", [ln.name for ln in lines]), ("zone", [z.name for z in zones])):
            dupes = sorted(n for n, c in Counter(names).items() if c > 1)
            if dupes:
                raise ValueError(f"camera {camera_id!r}: {kind} names must be unique, repeated: {dupes}")
        self.camera_id = camera_id
        self.lines = tuple(lines)
        self.zones = tuple(zones)
        self.settings = settings
        self.anchor: Anchor = anchor
        self._counted: list[_Counted] = []
        self.fragments = 0
        """Crossings not counted because they were fragments of an object counted already."""

    @classmethod
    def from_config(cls, config: CameraCountingConfig, settings: CountingSettings) -> LineCounter:
        zones = [Zone(z.name, z.polygon) for z in config.zones]
        return cls(config.camera_id, lines_of(config), settings, zones=zones, anchor=config.anchor)

    @classmethod
    def for_camera(cls, camera_id: str, settings: CountingSettings) -> LineCounter | None:
        """The camera's counter from the settings alone; None when it has no lines or counts by loop."""
        return cls.for_config(settings.for_camera(camera_id), settings)

    @classmethod
    def for_config(
        cls, config: CameraCountingConfig | None, settings: CountingSettings
    ) -> LineCounter | None:
        """The counter of a camera's configuration (`counting_for`); None without lines or by loop."""
        if config is None or not config.lines or config.method != "tracks":
            return None
        return cls.from_config(config, settings)

    def path_of(self, track: FinishedTrack) -> TrackPath:
        return TrackPath.of_finished(track, self.anchor)

    def crossings(self, track: FinishedTrack | TrackPath, snapshot: str = "") -> list[LineCrossing]:
        """The track's crossings of every line, in time order, as observations (fragments left out)."""
        path = track if isinstance(track, TrackPath) else self.path_of(track)
        if len(path.points) < 2:
            return []
        object_class = classify(path, self.settings)
        boxes: dict[datetime, BBox] = {}
        if path.boxes:  # stored motion tracks have none: they are counted without fragment merging
            for (t, _, _), b in zip(path.points, path.boxes, strict=True):
                boxes[path.start + timedelta(seconds=t)] = b
        out: list[LineCrossing] = []
        for line in self.lines:
            found = line_crossings(line, path.points, self.settings.hysteresis_px)
            for c in without_reversals(found, self.settings.reversal_window_s):
                at = path.start + timedelta(seconds=c.t)
                if self._is_fragment(line, path.track_id, c.direction, at, boxes):
                    self.fragments += 1
                    continue
                box = path.boxes[c.step] if path.boxes else _point_box(c.x, c.y)
                out.append(
                    LineCrossing(
                        id=observation_id(
                            path.camera_id, "crossing", at, c.line_name, c.direction, path.track_id
                        ),
                        camera_id=path.camera_id,
                        timestamp=at,
                        bbox=box,
                        confidence=path.confidence,
                        line_name=c.line_name,
                        direction=c.direction,
                        object_class=object_class,
                        track_id=path.track_id,
                        snapshot=snapshot,
                    )
                )
                if boxes:
                    self._counted.append(_Counted(path.track_id, c.line_name, c.direction, at, boxes))
        out.sort(key=lambda obs: obs.timestamp)
        return out

    def _is_fragment(
        self, line: CountingLine, track_id: int, direction: str, at: datetime, boxes: dict[datetime, BBox]
    ) -> bool:
        window = timedelta(seconds=self.settings.fragment_window_s)
        if boxes:
            # Tracks end in any order, but never long after their last box: what is older than
            # the window before this track began cannot be a fragment of anything still to come.
            horizon = min(boxes) - 2 * window
            self._counted = [k for k in self._counted if max(k.boxes) >= horizon]
        for k in self._counted:
            if k.line_name != line.name or k.direction != direction or abs(k.at - at) > window:
                continue
            if k.track_id == track_id:
                continue  # the same track again: a second passage, not a fragment
            for when, box in boxes.items():
                other = k.boxes.get(when)
                if other is not None and same_object(
                    line, box, other, self.settings.fragment_overlap, self.settings.fragment_gap_px
                ):
                    return True
        return False


def _point_box(x: float, y: float) -> BBox:
    return BBox(round(x), round(y), 0, 0)


# ----------------------------------------------------------------------------- counts
@dataclass(frozen=True, slots=True)
class CrossingCount:
    """Crossings of one line, one direction, one class in one interval [start, start + interval)."""

    camera_id: str
    line_name: str
    interval_start: datetime
    direction: str
    object_class: str
    count: int


@dataclass(frozen=True, slots=True)
class ZoneOccupancy:
    """Distinct tracks seen inside one zone during one interval."""

    camera_id: str
    zone_name: str
    interval_start: datetime
    tracks: int


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def interval_start(ts: datetime, interval_s: float) -> datetime:
    """Start of the interval holding `ts`; intervals are aligned to the Unix epoch (UTC)."""
    if not interval_s > 0:
        raise ValueError(f"interval_s must be positive, got {interval_s}")
    if ts.tzinfo is None:
        raise ValueError(f"timestamp must be timezone-aware (UTC), got naive {ts!r}")
    offset = (ts - _EPOCH).total_seconds()
    return _EPOCH + timedelta(seconds=math.floor(offset / interval_s) * interval_s)


def count_crossings(crossings: Iterable[LineCrossing], interval_s: float) -> list[CrossingCount]:
    """Counts per camera, line, interval, direction and class; sorted; empty groups are left out."""
    counts: Counter[tuple[str, str, datetime, str, str]] = Counter(
        (c.camera_id, c.line_name, interval_start(c.timestamp, interval_s), c.direction, c.object_class)
        for c in crossings
    )
    return [CrossingCount(*key, n) for key, n in sorted(counts.items())]


def zone_occupancy(
    paths: Iterable[TrackPath], zones: Sequence[Zone], interval_s: float
) -> list[ZoneOccupancy]:
    """Per zone and interval, how many distinct tracks had a point inside the zone; sorted."""
    seen: dict[tuple[str, str, datetime], set[int]] = {}
    for path in paths:
        for t, x, y in path.points:
            for zone in zones:
                if zone.contains((x, y)):
                    key = (
                        path.camera_id,
                        zone.name,
                        interval_start(path.start + timedelta(seconds=t), interval_s),
                    )
                    seen.setdefault(key, set()).add(path.track_id)
    return [ZoneOccupancy(*key, len(ids)) for key, ids in sorted(seen.items())]
