"""The camera page's timeline: recorded spans joined, motion spans, event marks, all within 24 hours."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from factories import T0

from safecity.server.web.timeline import WIDTH, build
from safecity.store.recordings import Segment
from safecity.types import RecordingMode

UNTIL = T0
DAY = timedelta(hours=24)


def segment(start_h: float, seconds: float) -> Segment:
    start = UNTIL - DAY + timedelta(hours=start_h)
    return Segment(
        f"s{start_h}",
        "cam-1",
        start,
        start + timedelta(seconds=seconds),
        "x.mp4",
        1,
        RecordingMode.CONTINUOUS,
    )


def test_touching_segments_are_one_span() -> None:
    timeline = build([segment(12, 60), segment(12 + 60 / 3600, 60)], [], UNTIL, clip_s=300)
    assert len(timeline.spans) == 1 and timeline.count == 2
    x, _, start, end = timeline.spans[0]
    assert x == pytest.approx(WIDTH / 2) and (end - start) == timedelta(seconds=120)


def test_a_gap_makes_two_spans() -> None:
    assert len(build([segment(1, 60), segment(2, 60)], [], UNTIL, clip_s=300).spans) == 2


def test_a_short_span_is_still_visible() -> None:
    assert build([segment(6, 2)], [], UNTIL, clip_s=300).spans[0][1] == 1.0


def test_what_lies_outside_the_day_is_not_drawn() -> None:
    old = Segment(
        "old",
        "cam-1",
        UNTIL - 2 * DAY,
        UNTIL - 2 * DAY + timedelta(minutes=1),
        "x",
        1,
        RecordingMode.CONTINUOUS,
    )
    events = [
        ("plate", UNTIL - 2 * DAY),
        ("alert", UNTIL + timedelta(minutes=1)),
        ("face", UNTIL - timedelta(hours=6)),
    ]
    timeline = build([old], events, UNTIL, clip_s=300)
    assert timeline.spans == () and timeline.marks == (("face", WIDTH * 0.75),)


def test_overlapping_motion_tracks_are_one_motion_span() -> None:
    t = UNTIL - timedelta(hours=3)
    motion = [
        (t, t + timedelta(seconds=10)),
        (t + timedelta(seconds=5), t + timedelta(seconds=20)),
        (t + timedelta(hours=1), t + timedelta(hours=1, seconds=5)),
    ]
    timeline = build([], [], UNTIL, motion=motion, clip_s=300)
    assert len(timeline.motion) == 2
    assert timeline.motion[0][0] == pytest.approx(WIDTH * 21 / 24)


@pytest.mark.parametrize("hours", [1, 6, 24])
def test_the_axis_is_labelled_at_five_even_times(hours: int) -> None:
    ticks = build([], [], UNTIL, hours=hours, clip_s=300).ticks
    assert ticks[0] == UNTIL - timedelta(hours=hours) and ticks[-1] == UNTIL
    assert len({b - a for a, b in itertools.pairwise(ticks)}) == 1
