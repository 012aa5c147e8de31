"""Counting accuracy against ground truth: the synthetic city's known crossings and a hand-counted real clip.

Issue 8 asks for >= 95 % on the sim's crossings and within 10 % of a hand count on the real
motorway clip (../shared/data/video/bgslibrary_video02_motorway_cctv.avi).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safecity.config import (
    CameraCountingConfig,
    CameraDefaults,
    CountingLineConfig,
    CountingSettings,
    Settings,
    SimSettings,
)
from safecity.pipeline.process import process_file
from safecity.sim import render_city
from safecity.types import Camera, Capability, LineCrossing, Observation

SIM = SimSettings(width=640, height=360, fps=10.0, cameras=2, seconds=10.0, seed=3)
TIME_TOLERANCE_S = 0.6
"""A counted crossing matches a true one of the same direction this close in time. The truth times
a vehicle's centre; the counter its box's bottom edge (its nearest bumper), a few tenths earlier or
later depending on the direction."""

WARM_UP_S = 1.0
"""Crossings before this are left out on both sides: the motion gate is still learning the background
(warm-up frames) and a track needs a few frames before it exists."""


class _Sink:
    def __init__(self) -> None:
        self.observations: list[Observation] = []

    def submit_many(self, observations: object) -> None:
        self.observations.extend(observations)  # type: ignore[arg-type]


def _crossings(clip: Path, cam: Camera, settings: Settings, start: datetime) -> list[LineCrossing]:
    sink = _Sink()
    process_file(clip, cam, settings, sink=sink, snapshots=None, start_time=start)
    return [o for o in sink.observations if isinstance(o, LineCrossing)]


@dataclass(frozen=True)
class SimCounts:
    matched: int
    expected: int
    counted: int
    report: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.matched / self.expected

    @property
    def precision(self) -> float:
        return self.matched / max(self.counted, 1)


@pytest.fixture(scope="module")
def sim_counts(tmp_path_factory: pytest.TempPathFactory) -> SimCounts:
    """The counter's crossings on a rendered sim clip, matched to the truth's (one render per module)."""
    city = render_city(tmp_path_factory.mktemp("counting") / "city", SIM)
    truth = city.truth()
    direction_of = {v.id: v.direction for v in truth.vehicles}
    matched = expected = counted = 0
    report: list[str] = []
    for cam in city.cameras:
        line_px = next(c.reference_line_px for c in truth.cameras if c.id == cam.id)
        assert line_px is not None
        # Drawn left to right, so crossing it downwards (towards the camera) is "in".
        a, b = sorted(line_px)
        spec = city.scenario.camera(cam.id)
        towards = "west" if spec.facing > 0 else "east"  # the direction that drives towards the camera
        away = "east" if towards == "west" else "west"
        config = CameraCountingConfig(
            camera_id=cam.id,
            lines=(CountingLineConfig(name="ref", points=(a, b), in_direction=towards, out_direction=away),),
        )
        settings = Settings(
            camera_defaults=CameraDefaults(analysis_fps=SIM.fps), counting=CountingSettings(cameras=(config,))
        )
        got = _crossings(city.clips[cam.id], cam, settings, city.start_time)
        true = [
            (p.time, direction_of[p.vehicle])
            for p in truth.passages
            if p.camera == cam.id and p.time >= WARM_UP_S
        ]
        remaining = [
            ((c.timestamp - city.start_time).total_seconds(), c.direction)
            for c in got
            if c.object_class == "vehicle" and (c.timestamp - city.start_time).total_seconds() >= WARM_UP_S
        ]
        counted += len(remaining)
        for t, direction in true:
            hit = next(
                (r for r in remaining if r[1] == direction and abs(r[0] - t) <= TIME_TOLERANCE_S), None
            )
            if hit is not None:
                remaining.remove(hit)
                matched += 1
        expected += len(true)
        report.append(f"{cam.id}: truth {sorted(true)}, not matched by the counter: {sorted(remaining)}")
    return SimCounts(matched, expected, counted, tuple(report))


def test_sim_crossings_are_found(sim_counts: SimCounts) -> None:
    assert sim_counts.expected >= 6, sim_counts.report  # enough traffic in the clip to mean something
    assert sim_counts.recall >= 0.95, (sim_counts.recall, sim_counts.report)


def test_sim_counts_nothing_that_did_not_cross(sim_counts: SimCounts) -> None:
    assert sim_counts.precision >= 0.95, (sim_counts.precision, sim_counts.report)


# Hand counts, each done once by looking at the clip (748 frames, 25 fps, 320x240): the pixels
# under a line were stacked frame by frame into a time-slice image (one row per frame), every
# vehicle leaves one streak in it, and the streaks were counted; doubtful ones (a lorry hiding
# cars, cars side by side, one close behind another) were checked on the frames themselves.
#
# ACROSS spans both carriageways far up the road. Left carriageway, towards the camera (moving
# down and left), streaks centred near frames 48 70 100 180 222 240 258 285 315 317 350 370 455
# 480 597 645 695 705 712 735: 20 vehicles. Right carriageway, away from the camera (moving up):
# frames 25 70 88 107 172 188 262 303 360 388 427 450 (a lorry) 465 480 500 518 525 537 555 663
# 688 708: 22 vehicles. The cyclist on the hard shoulder at the right is outside the line.
#
# TOWARDS_NEAR crosses the left carriageway near the camera, square to its traffic and below the
# on-screen text that appears at frame ~600 (a counting station where vehicles are large and
# apart, as a traffic engineer places one). Streaks near frames 65 88 118 196 244 261 (a white
# van) 277 (a second van) 302 311 335 340 371 (a pick-up) 396 475 502 617 668 719 726 737: 20
# vehicles (the car at 735 on ACROSS has not reached it when the clip ends; the one at 311 passes
# beside the 302 one).
ACROSS = CountingLineConfig(
    name="across", points=((70, 60), (250, 175)), in_direction="towards", out_direction="away"
)
TOWARDS_NEAR = CountingLineConfig(
    name="towards-near", points=((36, 91), (58, 148)), in_direction="towards", out_direction="away"
)
HAND_COUNT = {("across", "towards"): 20, ("across", "away"): 22, ("towards-near", "towards"): 20}
STATIONS = {"towards": "towards-near", "away": "across"}
"""The line each direction is counted on in the target test: the one across its own carriageway."""


def _motorway(shared_data: Path, method: str) -> Counter[tuple[str, str]]:
    clip = shared_data / "video" / "bgslibrary_video02_motorway_cctv.avi"
    if not clip.is_file():
        pytest.skip(f"{clip} not found")
    cam = Camera(
        id="motorway",
        name="motorway",
        site_id="site-1",
        latitude=0.0,
        longitude=0.0,
        capabilities=frozenset({Capability.MOTION, Capability.TRAFFIC}),
    )
    config = CameraCountingConfig(camera_id=cam.id, lines=(ACROSS, TOWARDS_NEAR), method=method)
    settings = Settings(
        camera_defaults=CameraDefaults(analysis_fps=25.0), counting=CountingSettings(cameras=(config,))
    )
    return Counter(
        (c.line_name, c.direction)
        for c in _crossings(clip, cam, settings, datetime(2026, 1, 1, tzinfo=UTC))
        if c.object_class == "vehicle"
    )


def test_motorway_clip_counts_within_ten_percent_of_hand_count(shared_data: Path) -> None:
    """Virtual loops, each direction on the line across its carriageway. Measured: towards 19 / 20,
    away 22 / 22 (the three cars at 719-737 leave two streaks that touch)."""
    got = _motorway(shared_data, "loop")
    for direction, line in STATIONS.items():
        hand = HAND_COUNT[(line, direction)]
        assert abs(got[(line, direction)] - hand) <= 0.1 * hand, (dict(got), HAND_COUNT)


# What the other ways of counting this clip measure, kept as tests expected to fail so that an
# improvement shows (strict xfail): tracks merge cars side by side or close behind each other
# into one motion blob, and one blob is one track (towards 16 on either line, away 17); loops on
# ACROSS, which cuts the far, narrow left carriageway obliquely, see its side-by-side cars as
# one streak (towards 16).
@pytest.mark.xfail(
    reason="motion blobs merge cars side by side or close behind each other: tracks count towards 16 "
    "(near line) of 20, away 17 of 22",
    strict=True,
)
def test_motorway_clip_by_tracks_within_ten_percent(shared_data: Path) -> None:
    got = _motorway(shared_data, "tracks")
    for direction, line in STATIONS.items():
        hand = HAND_COUNT[(line, direction)]
        assert abs(got[(line, direction)] - hand) <= 0.1 * hand, (dict(got), HAND_COUNT)


@pytest.mark.xfail(
    reason="the far line cuts the left carriageway obliquely: cars side by side make one streak (16 of 20)",
    strict=True,
)
def test_motorway_clip_far_line_towards_within_ten_percent(shared_data: Path) -> None:
    got = _motorway(shared_data, "loop")
    assert abs(got[("across", "towards")] - 20) <= 2, dict(got)
