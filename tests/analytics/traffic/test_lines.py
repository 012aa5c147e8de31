"""Counting lines and zones: crossing geometry, direction, time, class, counts and occupancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from safecity.analytics.tracking import FinishedTrack
from safecity.analytics.traffic.lines import (
    CountingLine,
    Crossing,
    LineCounter,
    TrackPath,
    Zone,
    classify,
    count_crossings,
    interval_start,
    line_crossings,
    same_object,
    without_reversals,
    zone_occupancy,
)
from safecity.config import CameraCountingConfig, CountingLineConfig, CountingSettings
from safecity.types import BBox, LineCrossing, new_id

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
# A horizontal line y = 100 from x = 0 to x = 200, drawn left to right: moving down is "in".
LINE = CountingLine("stop", (0.0, 100.0), (200.0, 100.0))
SETTINGS = CountingSettings()


def pts(*xy: tuple[float, float], dt: float = 1.0) -> list[tuple[float, float, float]]:
    return [(i * dt, x, y) for i, (x, y) in enumerate(xy)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (pts((50, 80), (50, 120)), ["in"]),  # downwards: left -> right of a->b
        (pts((50, 120), (50, 80)), ["out"]),  # upwards
        (pts((50, 80), (60, 90), (70, 110), (80, 130)), ["in"]),
        (pts((-10, 80), (10, 120)), ["in"]),  # crosses just inside the start point
        (pts((190, 80), (210, 120)), ["in"]),  # crosses through the end point (200, 100): counted
        (pts((210, 80), (230, 120)), []),  # beside the segment: no crossing
        (pts((10, 80), (190, 80)), []),  # parallel, above
        (pts((10, 100), (190, 100)), []),  # along the line itself
        (pts((50, 80), (50, 100), (50, 80)), []),  # touches and goes back: same side
        (pts((50, 50), (50, 70), (50, 90)), []),  # never reaches it
        (pts((50, 80), (50, 120), (50, 80)), ["in", "out"]),  # truly crosses back
        (pts((50, 80), (50, 100), (50, 120)), ["in"]),  # a point exactly on the line
    ],
)
def test_crossings_and_direction(path: list[tuple[float, float, float]], expected: list[str]) -> None:
    assert [c.direction for c in line_crossings(LINE, path)] == expected


def test_direction_follows_line_orientation() -> None:
    reversed_line = CountingLine("stop", (200.0, 100.0), (0.0, 100.0), "towards", "away")
    assert [c.direction for c in line_crossings(reversed_line, pts((50, 80), (50, 120)))] == ["away"]


def test_time_and_place_interpolated_along_the_step() -> None:
    (c,) = line_crossings(LINE, [(0.0, 40.0, 90.0), (0.5, 60.0, 130.0)])
    assert c.t == pytest.approx(0.125)  # 10 px of 40 down the step
    assert (c.x, c.y) == pytest.approx((45.0, 100.0))


def test_jitter_within_hysteresis_counts_once() -> None:
    path = pts((50, 90), (50, 101), (50, 99), (50, 101.5), (50, 99.5), (50, 110))
    assert [c.direction for c in line_crossings(LINE, path, hysteresis_px=2.0)] == ["in"]
    assert len(line_crossings(LINE, path, hysteresis_px=0.0)) == 5  # what the band prevents


def test_crossing_back_past_the_band_counts_both_ways() -> None:
    path = pts((50, 90), (50, 110), (50, 90))
    assert [c.direction for c in line_crossings(LINE, path, hysteresis_px=2.0)] == ["in", "out"]


def _boxes_along(points: list[tuple[float, float, float]], w: int, h: int) -> tuple[BBox, ...]:
    return tuple(BBox(round(x - w / 2), round(y - h), w, h) for _, x, y in points)


def _path(points: list[tuple[float, float, float]], w: int, h: int) -> TrackPath:
    return TrackPath("cam-1", 7, T0, tuple(points), _boxes_along(points, w, h))


@pytest.mark.parametrize(
    ("w", "h", "speed", "expected"),
    [
        (60, 40, 200.0, "vehicle"),  # wide and fast
        (60, 40, 10.0, "vehicle"),  # wide, queueing
        (20, 50, 200.0, "vehicle"),  # tall but fast (a van seen head on)
        (20, 50, 30.0, "person"),  # tall and slow
        (8, 12, 30.0, "unknown"),  # too small to tell
    ],
)
def test_class_by_size_and_speed(w: int, h: int, speed: float, expected: str) -> None:
    points = [(t * 0.2, 100.0, 50.0 + speed * t * 0.2) for t in range(6)]
    assert classify(_path(points, w, h), SETTINGS) == expected


def test_class_without_boxes_is_unknown() -> None:
    assert classify(TrackPath("cam-1", 1, T0, tuple(pts((0, 0), (50, 50)))), SETTINGS) == "unknown"


def _finished(points: list[tuple[float, float, float]], w: int = 60, h: int = 40) -> FinishedTrack:
    boxes = _boxes_along(points, w, h)
    return FinishedTrack(
        camera_id="cam-1",
        track_id=3,
        first_seen=T0,
        last_seen=T0 + timedelta(seconds=points[-1][0]),
        boxes=boxes,
        path=tuple((t, b.centre[0], b.centre[1]) for t, b in zip((p[0] for p in points), boxes, strict=True)),
        hits=len(points),
        frames_spanned=len(points),
        best_bbox=boxes[-1],
    )


def test_counter_uses_bottom_centre_and_makes_observations() -> None:
    # Bottom edge goes 90 -> 110 (crosses y = 100); the centre (20 px higher) stays above the line.
    points = [(0.0, 100.0, 90.0), (0.2, 100.0, 110.0)]
    track = _finished(points)
    counter = LineCounter("cam-1", [LINE], SETTINGS)
    (obs,) = counter.crossings(track, snapshot="cam-1/x.jpg")
    assert (obs.line_name, obs.direction, obs.object_class, obs.track_id) == ("stop", "in", "vehicle", 3)
    assert obs.timestamp == T0 + timedelta(seconds=0.1)
    assert obs.bbox == track.boxes[1] and obs.snapshot == "cam-1/x.jpg"
    centre = LineCounter("cam-1", [LINE], SETTINGS, anchor="centre")
    assert centre.crossings(track) == []


def test_counter_from_settings() -> None:
    line = CountingLineConfig(
        name="a", points=((0, 100), (200, 100)), in_direction="south", out_direction="north"
    )
    settings = CountingSettings(cameras=(CameraCountingConfig(camera_id="cam-1", lines=(line,)),))
    counter = LineCounter.for_camera("cam-1", settings)
    assert counter is not None and counter.lines == (
        CountingLine("a", (0, 100), (200, 100), "south", "north"),
    )
    assert LineCounter.for_camera("cam-2", settings) is None


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CountingLine("x", (10, 10), (10.5, 10)), "degenerate"),
        (lambda: CountingLine("x", (10, 10), (10, 10)), "degenerate"),
        (lambda: CountingLine("", (0, 0), (10, 10)), "non-empty name"),
        (lambda: CountingLine("x", (0, float("nan")), (10, 10)), "finite"),
        (lambda: CountingLine("x", (0, 0), (10, 10), "in", "in"), "two different"),
        (lambda: Zone("z", ((0, 0), (10, 10))), "at least 3 corners"),
        (lambda: Zone("z", ((0, 0), (10, 10), (20, 20))), "degenerate"),
        (lambda: Zone("z", ((0, 0), (0, 0), (0, 0), (0, 0))), "degenerate"),
        (lambda: LineCounter("cam-1", [LINE, LINE], SETTINGS), "unique"),
        (lambda: interval_start(T0, 0), "positive"),
    ],
)
def test_degenerate_geometry_is_refused(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


def test_zone_contains_and_occupancy() -> None:
    square = Zone("box", ((0, 0), (100, 0), (100, 100), (0, 100)))
    concave = Zone("L", ((0, 0), (100, 0), (100, 20), (20, 20), (20, 100), (0, 100)))
    assert square.contains((50, 50)) and not square.contains((150, 50))
    assert concave.contains((10, 90)) and not concave.contains((60, 60))
    inside = TrackPath("cam-1", 1, T0, tuple(pts((50, 50), (150, 50))))
    passing = TrackPath("cam-1", 2, T0 + timedelta(seconds=70), tuple(pts((-10, 10), (10, 10), (30, 10))))
    outside = TrackPath("cam-1", 3, T0, tuple(pts((150, 150), (160, 160))))
    rows = zone_occupancy([inside, passing, outside], [square, concave], 60.0)
    got = {(r.zone_name, r.interval_start, r.tracks) for r in rows}
    assert got == {
        ("box", T0, 1),
        ("box", T0 + timedelta(seconds=60), 1),
        ("L", T0 + timedelta(seconds=60), 1),
    }


def test_counts_per_line_interval_direction_and_class() -> None:
    def crossing(seconds: float, direction: str, cls: str = "vehicle", line: str = "stop") -> LineCrossing:
        return LineCrossing(
            new_id(), "cam-1", T0 + timedelta(seconds=seconds), BBox(0, 0, 1, 1), 1.0, line, direction, cls
        )

    rows = count_crossings(
        [
            crossing(1, "in"),
            crossing(2, "in"),
            crossing(3, "out"),
            crossing(4, "in", "person"),
            crossing(61, "in"),
            crossing(5, "in", line="other"),
        ],
        60.0,
    )
    got = [(r.line_name, r.interval_start - T0, r.direction, r.object_class, r.count) for r in rows]
    minute = timedelta(seconds=60)
    assert got == [
        ("other", timedelta(0), "in", "vehicle", 1),
        ("stop", timedelta(0), "in", "person", 1),
        ("stop", timedelta(0), "in", "vehicle", 2),
        ("stop", timedelta(0), "out", "vehicle", 1),
        ("stop", minute, "in", "vehicle", 1),
    ]


# ----------------------------------------------------------------- fragments and reversals
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (BBox(50, 60, 60, 40), BBox(55, 95, 50, 10), True),  # a sliver overlapping the body's bottom
        (BBox(50, 60, 60, 40), BBox(55, 100, 50, 10), True),  # touching it
        (BBox(50, 60, 60, 40), BBox(55, 103, 50, 10), False),  # a gap: the next car in the lane
        (BBox(50, 60, 60, 40), BBox(112, 60, 60, 40), False),  # side by side: offset along the line
        (BBox(50, 60, 60, 40), BBox(100, 80, 60, 40), False),  # overlapping, but mostly beside it
    ],
)
def test_same_object_means_one_behind_the_other_across_the_line(a: BBox, b: BBox, expected: bool) -> None:
    assert same_object(LINE, a, b, overlap=0.5, gap_px=0.0) is expected
    assert same_object(LINE, b, a, overlap=0.5, gap_px=0.0) is expected


def _track(track_id: int, points: list[tuple[float, float, float]], w: int, h: int) -> FinishedTrack:
    boxes = _boxes_along(points, w, h)
    return FinishedTrack(
        camera_id="cam-1",
        track_id=track_id,
        first_seen=T0,
        last_seen=T0 + timedelta(seconds=points[-1][0]),
        boxes=boxes,
        path=tuple((t, b.centre[0], b.centre[1]) for (t, _, _), b in zip(points, boxes, strict=True)),
        hits=len(points),
        frames_spanned=len(points),
        best_bbox=boxes[-1],
    )


def _moving_down(x: float, y0: float, steps: int = 6, dy: float = 8.0) -> list[tuple[float, float, float]]:
    return [(i * 0.2, x, y0 + i * dy) for i in range(steps)]


def test_a_fragment_of_a_counted_vehicle_is_not_counted_again() -> None:
    counter = LineCounter("cam-1", [LINE], SETTINGS)
    body = _track(1, _moving_down(100, 80), 60, 40)  # bottom edge 80 -> 120
    sliver = _track(2, _moving_down(100, 88), 50, 10)  # just below the body's bottom, overlapping it
    assert len(counter.crossings(body)) == 1
    assert counter.crossings(sliver) == []
    assert counter.fragments == 1


def test_vehicles_side_by_side_are_both_counted() -> None:
    counter = LineCounter("cam-1", [LINE], SETTINGS)
    left = _track(1, _moving_down(40, 80), 60, 40)
    right = _track(2, _moving_down(110, 80), 60, 40)  # 10 px of road between them
    assert len(counter.crossings(left)) == 1
    assert len(counter.crossings(right)) == 1


def test_fragment_merging_is_off_with_a_zero_window() -> None:
    counter = LineCounter("cam-1", [LINE], CountingSettings(fragment_window_s=0.0))
    counter.crossings(_track(1, _moving_down(100, 80), 60, 40))
    assert len(counter.crossings(_track(2, _moving_down(100, 81), 50, 10))) == 1


@pytest.mark.parametrize(
    ("directions_and_times", "expected"),
    [
        ([("in", 1.0)], [("in", 1.0)]),
        ([("in", 1.0), ("out", 1.4)], []),  # across and straight back: neither
        ([("in", 1.0), ("out", 1.4), ("in", 1.6)], [("in", 1.6)]),  # jitter: the net crossing
        ([("in", 1.0), ("out", 3.0)], [("in", 1.0), ("out", 3.0)]),  # came back later: both
        ([("in", 1.0), ("in", 1.2)], [("in", 1.0), ("in", 1.2)]),  # same way twice is not a reversal
    ],
)
def test_reversals_within_the_window_cancel(
    directions_and_times: list[tuple[str, float]], expected: list[tuple[str, float]]
) -> None:
    found = [Crossing("stop", d, t, 0.0, 0.0, 1) for d, t in directions_and_times]
    assert [(c.direction, c.t) for c in without_reversals(found, 1.0)] == expected


def test_a_track_jittering_across_the_line_counts_once() -> None:
    # Bottom edge: 90, 104 (across), 95 (back, past the band), 110 (across again), all within 1 s.
    track = _track(1, [(0.0, 100, 90), (0.2, 100, 104), (0.4, 100, 95), (0.6, 100, 110)], 60, 40)
    crossings = LineCounter("cam-1", [LINE], SETTINGS).crossings(track)
    assert [(c.direction, c.timestamp > T0 + timedelta(seconds=0.4)) for c in crossings] == [("in", True)]
