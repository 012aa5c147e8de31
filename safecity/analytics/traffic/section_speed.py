"""Section speed control: the average speed of a vehicle read at camera A and then at camera B.

A `Section` is a directed camera pair with the distance driven between their timing lines, a
speed limit and a tolerance. `SectionSpeedMatcher` takes plate reads in time order (give or
take `allowed_lateness_s`) and pairs them: a read at A waits in its section's window until no
read at B could still pair with it, then it is dropped, so memory holds only the reads of the
last few minutes whatever the length of the stream.

Pairing rule, per section: a read at B pairs with an unpaired read at A of

1. the same normalised plate (exact), else
2. the same OCR-confusion key (`confusion_key`: `BG120AB` read as `BG12OAB`), else
3. a key one edit away (`within_one_edit`), for plates read at A with at least
   `one_edit_min_length` characters (a character misread beyond the confusion classes, or lost),

whose travel time, after taking B's clock offset off B's timestamp, lies in the section's
plausible window (distance over the plausible top speed to distance over the plausible bottom
speed). Among the candidates of the best kind, the nearest read at A in time wins (the latest
one: a vehicle read at A twice is timed from its last read). A read at A pairs at most once, and a
read at B at most once per section. Reads outside the window never pair, however similar.

Speed = distance / travel time; a measurement is a violation when the speed exceeds the limit
plus the tolerance (`tolerance_kmh` plus `tolerance_percent` of the limit).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from safecity.analytics.plates.confusion import confusion_key, within_one_edit
from safecity.config import TrafficSettings
from safecity.types import Camera, PlateMatchKind, PlateRead

EARTH_RADIUS_M = 6_371_008.8
_BLANK = "\x00"
_SWEEP_S = 30.0
"""Stream time between sweeps of every window (windows of quiet cameras move on and empty too)."""


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (a straight line, not the road)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


@dataclass(frozen=True, slots=True)
class Section:
    """A directed camera pair measured for average speed: read at `camera_a`, then at `camera_b`."""

    id: str
    camera_a: str
    camera_b: str
    distance_m: float
    """Distance driven between the two cameras' timing lines."""
    speed_limit_kmh: float
    tolerance_kmh: float = 3.0
    tolerance_percent: float = 0.0
    """Extra tolerance as a percentage of the limit, added to `tolerance_kmh`."""
    clock_offset_s: float = 0.0
    """How far B's clock runs ahead of A's: a read stamped t at B happened at t - offset on A's clock."""
    min_speed_kmh: float = 5.0
    """Plausible speed bounds: passages slower or faster than these are not the same trip."""
    max_speed_kmh: float = 250.0

    def __post_init__(self) -> None:
        def bad(field: str, why: str, value: object) -> ValueError:
            return ValueError(f"section {self.id!r}: {field} {why}, got {value!r}")

        if not self.id.strip():
            raise bad("id", "must not be empty", self.id)
        if not self.camera_a.strip():
            raise bad("camera_a", "must not be empty", self.camera_a)
        if not self.camera_b.strip():
            raise bad("camera_b", "must not be empty", self.camera_b)
        if self.camera_a == self.camera_b:
            raise bad("camera_b", "must differ from camera_a (the same camera twice)", self.camera_b)
        if not (math.isfinite(self.distance_m) and self.distance_m > 0):
            raise bad("distance_m", "must be a finite number > 0", self.distance_m)
        if not (math.isfinite(self.speed_limit_kmh) and self.speed_limit_kmh > 0):
            raise bad("speed_limit_kmh", "must be a finite number > 0", self.speed_limit_kmh)
        if not (math.isfinite(self.tolerance_kmh) and self.tolerance_kmh >= 0):
            raise bad("tolerance_kmh", "must be a finite number >= 0", self.tolerance_kmh)
        if not (0 <= self.tolerance_percent <= 100):
            raise bad("tolerance_percent", "must be between 0 and 100", self.tolerance_percent)
        if not math.isfinite(self.clock_offset_s):
            raise bad("clock_offset_s", "must be finite", self.clock_offset_s)
        if not (math.isfinite(self.min_speed_kmh) and self.min_speed_kmh > 0):
            raise bad("min_speed_kmh", "must be a finite number > 0", self.min_speed_kmh)
        if not (math.isfinite(self.max_speed_kmh) and self.max_speed_kmh > self.min_speed_kmh):
            raise bad(
                "max_speed_kmh",
                f"must be finite and above min_speed_kmh ({self.min_speed_kmh})",
                self.max_speed_kmh,
            )

    @property
    def min_travel_s(self) -> float:
        """Shortest plausible travel time: the distance at the plausible top speed."""
        return self.distance_m / (self.max_speed_kmh / 3.6)

    @property
    def max_travel_s(self) -> float:
        """Longest plausible travel time: the distance at the plausible bottom speed."""
        return self.distance_m / (self.min_speed_kmh / 3.6)

    @property
    def threshold_kmh(self) -> float:
        """Speeds above this are violations: the limit plus both tolerances."""
        return self.speed_limit_kmh + self.tolerance_kmh + self.speed_limit_kmh * self.tolerance_percent / 100

    def speed_kmh(self, travel_s: float) -> float:
        return self.distance_m / travel_s * 3.6


@dataclass(frozen=True, slots=True)
class SpeedMeasurement:
    """One vehicle's average speed over a section, with both reads as evidence."""

    section: Section
    read_a: PlateRead
    read_b: PlateRead
    travel_s: float
    """Travel time with B's clock offset taken off."""
    speed_kmh: float
    match: PlateMatchKind
    """How the read at B matched the read at A: exact, confusable or one edit."""

    @property
    def plate(self) -> str:
        """The plate as read at A (the read the measurement starts from)."""
        return self.read_a.normalised

    @property
    def read_a_id(self) -> str:
        return self.read_a.id

    @property
    def read_b_id(self) -> str:
        return self.read_b.id

    @property
    def time_a(self) -> datetime:
        return self.read_a.timestamp

    @property
    def time_b(self) -> datetime:
        return self.read_b.timestamp

    @property
    def exceeds(self) -> bool:
        return self.speed_kmh > self.section.threshold_kmh


@dataclass(frozen=True, slots=True)
class SpeedViolation:
    """A measurement above the section's limit plus tolerance."""

    measurement: SpeedMeasurement
    threshold_kmh: float
    excess_kmh: float
    """Speed above the limit (not above the threshold): what a fine is graded by."""


def violation_of(measurement: SpeedMeasurement) -> SpeedViolation | None:
    """The violation a measurement is, or None when it stays within limit plus tolerance."""
    if not measurement.exceeds:
        return None
    section = measurement.section
    return SpeedViolation(measurement, section.threshold_kmh, measurement.speed_kmh - section.speed_limit_kmh)


def build_sections(settings: TrafficSettings, cameras: Mapping[str, Camera]) -> list[Section]:
    """The configured sections, tolerances and offset filled in from `settings`, distances from
    the cameras' coordinates where none is given (straight line: underestimates a curved road).

    Raises ValueError naming the section and the field for unknown cameras, duplicate ids and
    anything `Section` refuses.
    """
    sections: list[Section] = []
    seen: set[str] = set()
    for cfg in settings.sections:
        if cfg.id in seen:
            raise ValueError(f"section {cfg.id!r}: id is used by another section")
        seen.add(cfg.id)
        for field, camera_id in (("camera_a", cfg.camera_a), ("camera_b", cfg.camera_b)):
            if camera_id not in cameras:
                raise ValueError(f"section {cfg.id!r}: {field} {camera_id!r} is not a registered camera")
        distance = cfg.distance_m
        if distance is None:
            a, b = cameras[cfg.camera_a], cameras[cfg.camera_b]
            distance = haversine_m(a.latitude, a.longitude, b.latitude, b.longitude)
        sections.append(
            Section(
                id=cfg.id,
                camera_a=cfg.camera_a,
                camera_b=cfg.camera_b,
                distance_m=distance,
                speed_limit_kmh=cfg.speed_limit_kmh,
                tolerance_kmh=settings.tolerance_kmh if cfg.tolerance_kmh is None else cfg.tolerance_kmh,
                tolerance_percent=(
                    settings.tolerance_percent if cfg.tolerance_percent is None else cfg.tolerance_percent
                ),
                clock_offset_s=settings.clock_offset_s if cfg.clock_offset_s is None else cfg.clock_offset_s,
                min_speed_kmh=settings.min_plausible_speed_kmh,
                max_speed_kmh=settings.max_plausible_speed_kmh,
            )
        )
    return sections


class _Pending:
    """A read at A waiting for its read at B."""

    __slots__ = ("key", "read", "t", "used")

    def __init__(self, read: PlateRead, t: float, key: str) -> None:
        self.read = read
        self.t = t
        self.key = key
        self.used = False


_Index = dict[str, deque[_Pending]]


def _put(index: _Index, key: str, pending: _Pending) -> None:
    bucket = index.get(key)
    if bucket is None:
        index[key] = bucket = deque()
    bucket.append(pending)


def _take(index: _Index, key: str, pending: _Pending) -> None:
    bucket = index.get(key)
    if bucket is None:
        return
    if bucket and bucket[0] is pending:
        bucket.popleft()
    else:  # inserted out of time order (a late read): rare
        try:
            bucket.remove(pending)
        except ValueError:
            return
    if not bucket:
        del index[key]


def _blanked(key: str) -> list[str]:
    """`key` with each position blanked in turn: two keys one substitution apart share one of these."""
    return [key[:i] + _BLANK + key[i + 1 :] for i in range(len(key))]


def _deleted(key: str) -> list[str]:
    """`key` with each character deleted in turn."""
    return [key[:i] + key[i + 1 :] for i in range(len(key))]


class _Window:
    """The reads at A of one section that may still pair, indexed for the three kinds of match."""

    def __init__(self, section: Section, one_edit_min_length: int) -> None:
        self.section = section
        self.min_len = one_edit_min_length
        self.lo, self.hi = section.min_travel_s, section.max_travel_s
        self.order: deque[_Pending] = deque()
        self.by_plate: _Index = {}
        self.by_key: _Index = {}
        self.long_keys: _Index = {}
        """Keys of long plates only: a read at B with one extra character finds them by its deletions."""
        self.variants: _Index = {}
        """Long plates' keys with one position blanked and with one character deleted."""
        self.held: list[tuple[float, int, bool, PlateRead]] = []
        """Reads not processed yet: (time on A's clock, arrival number, at B, read)."""
        self.done_to = -math.inf
        """Time (A's clock) up to which reads have been processed."""
        self.delay = max(0.0, section.clock_offset_s)
        """B's clock ahead: a read at B arrives this much later (stamped) than it happened on A's."""

    def release(self, watermark: float, out: list[SpeedMeasurement]) -> None:
        """Process the held reads, in A-clock order, that no later arrival can precede.

        Every read at A stamped up to `watermark` has arrived, and every read at B up to
        `watermark` on B's clock, i.e. `watermark - offset` on A's: so every read up to
        `watermark - max(0, offset)` on A's clock is in, and is processed in order.
        """
        upto = watermark - self.delay
        held = self.held
        while held and held[0][0] <= upto:
            t, _, at_b, read = heapq.heappop(held)
            self.done_to = t
            self.process(read, t, at_b, out)

    def process(self, read: PlateRead, t: float, at_b: bool, out: list[SpeedMeasurement]) -> None:
        self.evict(t)
        if at_b:
            m = self.match(read, t)
            if m is not None:
                out.append(m)
        else:
            self.add(read, t)

    def __len__(self) -> int:
        return len(self.order)

    def add(self, read: PlateRead, t: float) -> None:
        plate = read.normalised
        key = confusion_key(plate)
        pending = _Pending(read, t, key)
        self.order.append(pending)
        _put(self.by_plate, plate, pending)
        _put(self.by_key, key, pending)
        if len(plate) >= self.min_len:
            _put(self.long_keys, key, pending)
            for variant in _blanked(key) + _deleted(key):
                _put(self.variants, variant, pending)

    def evict(self, now: float) -> None:
        """Drop the reads at A that no read at B at `now` (A's clock) or later can pair with."""
        cutoff = now - self.hi
        order = self.order
        while order and order[0].t < cutoff:
            pending = order.popleft()
            plate = pending.read.normalised
            _take(self.by_plate, plate, pending)
            _take(self.by_key, pending.key, pending)
            if len(plate) >= self.min_len:
                _take(self.long_keys, pending.key, pending)
                for variant in _blanked(pending.key) + _deleted(pending.key):
                    _take(self.variants, variant, pending)

    def _nearest(self, buckets: Iterable[Iterable[_Pending] | None], t_b: float) -> _Pending | None:
        best: _Pending | None = None
        lo, hi = self.lo, self.hi
        for bucket in buckets:
            if not bucket:
                continue
            for pending in bucket:
                if pending.used:
                    continue
                travel = t_b - pending.t
                if lo <= travel <= hi and (best is None or pending.t > best.t):
                    best = pending
        return best

    def match(self, read: PlateRead, t_b: float) -> SpeedMeasurement | None:
        """Pair a read at B (at `t_b` on A's clock) with the best read at A, or None; the read at A
        is used up."""
        plate = read.normalised
        kind = PlateMatchKind.EXACT
        found = self._nearest((self.by_plate.get(plate),), t_b)
        if found is None:
            key = confusion_key(plate)
            kind = PlateMatchKind.CONFUSABLE
            found = self._nearest((self.by_key.get(key),), t_b)
            if found is None and len(plate) >= self.min_len - 1 and self.long_keys:
                kind = PlateMatchKind.ONE_EDIT
                # A one substitution away shares a blanked key; A with one character more has
                # this key among its deletions; A with one character less is one of this key's.
                buckets = [self.variants.get(v) for v in _blanked(key)]
                buckets.append(self.variants.get(key))
                buckets.extend(self.long_keys.get(v) for v in _deleted(key))
                found = self._nearest(
                    ([p for p in b if within_one_edit(p.key, key)] for b in buckets if b), t_b
                )
        if found is None:
            return None
        found.used = True
        travel = t_b - found.t
        return SpeedMeasurement(
            section=self.section,
            read_a=found.read,
            read_b=read,
            travel_s=travel,
            speed_kmh=self.section.speed_kmh(travel),
            match=kind,
        )


class SectionSpeedMatcher:
    """Pairs plate reads across the sections' camera pairs, streaming, in bounded memory.

    Feed reads with `push` (any camera; those of cameras in no section are ignored) roughly in
    time order. Each section orders its reads by A's clock (a read at B has the section's clock
    offset taken off) and processes a read once no read still to come can precede it: once the
    newest timestamp seen is `allowed_lateness_s` past it, plus the offset where B's clock runs
    ahead. So reads up to `allowed_lateness_s` out of order, and cameras whose clocks disagree,
    are paired as if everything had come in true time order. `finish` processes what is held back.
    A read later than that is processed at once (and counted in `late`), but may miss a read at
    A already dropped.
    """

    def __init__(
        self,
        sections: Iterable[Section],
        *,
        one_edit_min_length: int = 7,
        allowed_lateness_s: float = 5.0,
    ) -> None:
        if one_edit_min_length < 2:
            raise ValueError(f"one_edit_min_length must be >= 2, got {one_edit_min_length}")
        if not (math.isfinite(allowed_lateness_s) and allowed_lateness_s >= 0):
            raise ValueError(f"allowed_lateness_s must be a finite number >= 0, got {allowed_lateness_s}")
        self.sections: tuple[Section, ...] = tuple(sections)
        ids = [s.id for s in self.sections]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"section id(s) used twice: {', '.join(duplicates)}")
        self.lateness = allowed_lateness_s
        self._windows = [_Window(s, one_edit_min_length) for s in self.sections]
        self._roles: dict[str, list[tuple[_Window, bool]]] = {}
        for w in self._windows:
            self._roles.setdefault(w.section.camera_b, []).append((w, True))
        for w in self._windows:
            self._roles.setdefault(w.section.camera_a, []).append((w, False))
        self._seq = itertools.count()
        self._newest = -math.inf
        self._sweep_at = -math.inf
        self.reads = 0
        """Reads pushed on cameras of some section."""
        self.late = 0
        """Reads that came too late to be processed in order (see the class docstring)."""
        self.measurements = 0

    @classmethod
    def from_settings(
        cls, sections: Iterable[Section], settings: TrafficSettings | None = None
    ) -> SectionSpeedMatcher:
        """A matcher with the one-edit length and allowed lateness of `traffic` settings (default ones)."""
        s = settings or TrafficSettings()
        return cls(
            sections, one_edit_min_length=s.one_edit_min_length, allowed_lateness_s=s.allowed_lateness_s
        )

    @property
    def pending(self) -> int:
        """Reads held back or waiting at A in the windows: what the memory holds."""
        return sum(len(w) + len(w.held) for w in self._windows)

    def push(self, read: PlateRead) -> list[SpeedMeasurement]:
        """Take one read; return the measurements that the reads processed now completed."""
        roles = self._roles.get(read.camera_id)
        if roles is None:
            return []
        self.reads += 1
        t = read.timestamp.timestamp()
        if t > self._newest:
            self._newest = t
        watermark = self._newest - self.lateness
        out: list[SpeedMeasurement] = []
        seq = next(self._seq)
        late = False
        for w, at_b in roles:
            when = t - w.section.clock_offset_s if at_b else t
            if when < w.done_to:
                late = True
                w.process(read, when, at_b, out)
            else:
                heapq.heappush(w.held, (when, seq, at_b, read))
                w.release(watermark, out)
        self.late += late
        if watermark >= self._sweep_at:  # windows of quiet cameras move on too
            self._sweep_at = watermark + _SWEEP_S
            for w in self._windows:
                w.release(watermark, out)
                w.evict(watermark - w.delay)
        self.measurements += len(out)
        return out

    def advance(self, now: datetime) -> list[SpeedMeasurement]:
        """Let time pass without a read (a quiet road, live): reads held back for longer than the
        allowed lateness before `now` are processed, as a newer read would have them processed."""
        t = now.timestamp()
        if t > self._newest:
            self._newest = t
        watermark = self._newest - self.lateness
        out: list[SpeedMeasurement] = []
        for w in self._windows:
            w.release(watermark, out)
            w.evict(watermark - w.delay)
        self.measurements += len(out)
        return out

    def finish(self) -> list[SpeedMeasurement]:
        """Process every read held back (end of the stream)."""
        out: list[SpeedMeasurement] = []
        for w in self._windows:
            w.release(math.inf, out)
        self.measurements += len(out)
        return out

    def run(self, reads: Iterable[PlateRead]) -> Iterator[SpeedMeasurement]:
        """Measurements of a whole stream of reads, in the order they complete."""
        for read in reads:
            yield from self.push(read)
        yield from self.finish()


def measure(
    sections: Sequence[Section], reads: Iterable[PlateRead], settings: TrafficSettings | None = None
) -> list[SpeedMeasurement]:
    """Every measurement in a stream of reads (time order), with the matcher set from `settings`."""
    return list(SectionSpeedMatcher.from_settings(sections, settings).run(reads))
