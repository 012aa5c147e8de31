"""Virtual loops: each streak of foreground under a line is one crossing, in the direction it came from."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from safecity.analytics.traffic.lines import CountingLine
from safecity.analytics.traffic.loops import LoopCounter
from safecity.config import CameraCountingConfig, CountingLineConfig, CountingSettings
from safecity.types import LineCrossing

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
FPS = 25.0
# A horizontal line y = 100 from x = 0 to x = 200, drawn left to right: moving down is "in".
LINE = CountingLine("stop", (0.0, 100.0), (200.0, 100.0), "south", "north")
SETTINGS = CountingSettings()
SIZE = (240, 320)


def _frames(*objects: tuple[float, float, float, float, float], frames: int = 60) -> list[np.ndarray]:
    """Masks of moving rectangles: (x, y at frame 0, width, height, pixels per frame downwards)."""
    out = []
    for i in range(frames):
        mask = np.zeros(SIZE, np.uint8)
        for x, y0, w, h, v in objects:
            y = y0 + v * i
            mask[max(0, int(y)) : max(0, int(y + h)), int(x) : int(x + w)] = 255
        out.append(mask)
    return out


def _count(
    masks: list[np.ndarray], settings: CountingSettings = SETTINGS
) -> tuple[list[LineCrossing], LoopCounter]:
    counter = LoopCounter("cam-1", [LINE], settings)
    out: list[LineCrossing] = []
    for i, mask in enumerate(masks):
        out += counter.add(T0 + timedelta(seconds=i / FPS), mask)
    return out + counter.finish(), counter


def test_one_vehicle_is_one_crossing_in_its_direction_at_its_time() -> None:
    # 30 px tall, 4 px a frame: its centre reaches y = 100 on frame (100 - 15 - 20) / 4 = 16.25.
    (crossing,), _ = _count(_frames((40, 20, 40, 30, 4.0)))
    assert (crossing.line_name, crossing.direction, crossing.object_class) == ("stop", "south", "vehicle")
    assert abs((crossing.timestamp - T0).total_seconds() - 16.25 / FPS) < 2 / FPS
    assert 30 <= crossing.bbox.x <= 45 and crossing.bbox.w >= 30  # where on the line it crossed


def test_moving_up_is_the_other_direction() -> None:
    (crossing,), _ = _count(_frames((40, 180, 40, 30, -4.0)))
    assert crossing.direction == "north"


def test_side_by_side_vehicles_are_two_crossings() -> None:
    # One blob for a motion gate that closes small gaps; two streaks on the line.
    crossings, _ = _count(_frames((20, 20, 40, 30, 4.0), (66, 24, 40, 30, 4.0)))
    assert len(crossings) == 2 and {c.direction for c in crossings} == {"south"}


def test_close_behind_each_other_is_two_crossings() -> None:
    crossings, _ = _count(_frames((40, 20, 40, 30, 4.0), (40, -30, 40, 30, 4.0), frames=80))
    assert len(crossings) == 2


def test_specks_are_not_counted() -> None:
    crossings, _ = _count(_frames((40, 95, 2, 10, 0.2), frames=10))
    assert crossings == []


@pytest.mark.parametrize(("width", "expected"), [(40, "vehicle"), (4, "unknown")])
def test_class_by_width_along_the_line(width: int, expected: str) -> None:
    settings = CountingSettings(loop_min_area=5)
    (crossing,), _ = _count(_frames((40, 20, width, 30, 4.0)), settings)
    assert crossing.object_class == expected


def test_a_streak_still_open_at_the_end_is_counted_by_finish() -> None:
    counter = LoopCounter("cam-1", [LINE], SETTINGS)
    masks = _frames((40, 60, 40, 30, 4.0), frames=12)  # still on the line at the last frame
    during = [c for i, m in enumerate(masks) for c in counter.add(T0 + timedelta(seconds=i / FPS), m)]
    assert during == []
    assert len(counter.finish()) == 1


def test_too_fast_to_tell_the_direction_is_not_counted() -> None:
    # At a low analysis rate the object covers both sampling lines on the same single frame.
    masks = [np.zeros(SIZE, np.uint8) for _ in range(8)]
    masks[3][90:110, 40:80] = 255
    crossings, counter = _count(masks)
    assert crossings == [] and counter.undetermined == 1


def test_learning_frames_without_a_mask_keep_time() -> None:
    counter = LoopCounter("cam-1", [LINE], SETTINGS)
    assert counter.add(T0, None) == []  # the gate still learns: nothing to sample yet
    masks = _frames((40, 20, 40, 30, 4.0))
    crossings = [
        c for i, m in enumerate(masks) for c in counter.add(T0 + timedelta(seconds=(i + 1) / FPS), m)
    ]
    assert len(crossings + counter.finish()) == 1


def test_counted_once_however_long_the_stream() -> None:
    objects = [(40, 20 - 60 * k, 40, 30, 4.0) for k in range(10)]  # one every 15 frames
    crossings, _ = _count(_frames(*objects, frames=200))
    assert len(crossings) == 10
    times = sorted(c.timestamp for c in crossings)
    assert all(b - a > timedelta(seconds=10 / FPS) for a, b in itertools.pairwise(times))


def test_loops_come_from_a_camera_that_asks_for_them() -> None:
    line = CountingLineConfig(name="a", points=((0, 100), (200, 100)))
    loop = CameraCountingConfig(camera_id="cam-1", lines=(line,), method="loop")
    tracks = CameraCountingConfig(camera_id="cam-2", lines=(line,))
    settings = CountingSettings(cameras=(loop, tracks))
    assert LoopCounter.for_camera("cam-1", settings) is not None
    assert LoopCounter.for_camera("cam-2", settings) is None
    with pytest.raises(ValueError, match="at least one counting line"):
        LoopCounter("cam-1", [], SETTINGS)


def test_a_busy_road_holds_only_its_open_streaks() -> None:
    # Two lanes, vehicles every 15 frames in each, the lanes offset by 7 frames: at any time some
    # streak is open on the line, yet each is counted once and the rows held stay few.
    lane_a = [(20, 20 - 60 * k, 40, 30, 4.0) for k in range(12)]
    lane_b = [(80, -8 - 60 * k, 40, 30, 4.0) for k in range(12)]
    counter = LoopCounter("cam-1", [LINE], SETTINGS)
    crossings: list[LineCrossing] = []
    held = 0
    for i, mask in enumerate(_frames(*lane_a, *lane_b, frames=220)):
        crossings += counter.add(T0 + timedelta(seconds=i / FPS), mask)
        held = max(held, counter.held_rows)
    crossings += counter.finish()
    assert len(crossings) == 24
    assert held < 40  # a streak lasts ~15 frames here: rows are not kept for the whole stream
