"""The sim's traffic configuration: lines on the timing lines, chained sections between plate cameras."""

from __future__ import annotations

import itertools

import pytest

from safecity.config import Settings, SimSettings, TrafficSettings
from safecity.sim.scenario import build_scenario
from safecity.sim.traffic import (
    COUNTING_LINE,
    EASTBOUND,
    MIN_SECTION_M,
    WESTBOUND,
    counting_cameras,
    sections,
)
from safecity.sim.truth import AppearanceLog, build_truth

SCENARIO = build_scenario(6, 30.0, 18)


def test_every_traffic_camera_gets_a_line_across_the_road() -> None:
    configs = {c.camera_id: c for c in counting_cameras(SCENARIO)}
    assert sorted(configs) == sorted(s.id for s in SCENARIO.cameras if s.sees_traffic)
    for spec in SCENARIO.cameras:
        if spec.id not in configs:
            continue
        (line,) = configs[spec.id].lines
        (ax, _), (bx, _) = line.points
        assert line.name == COUNTING_LINE and ax < bx  # drawn left to right: downwards is "in"
        # Downwards on the screen is towards the camera: westbound for a camera that looks east.
        assert line.in_direction == (WESTBOUND if spec.facing > 0 else EASTBOUND)
        (zone,) = configs[spec.id].zones
        xs, ys = [x for x, _ in zone.polygon], [y for _, y in zone.polygon]
        # The zone is a band around the line: from its first to its last x, above and below it.
        assert (min(xs), max(xs)) == (ax, bx)
        assert min(ys) < min(line.points[0][1], line.points[1][1]) and max(ys) > max(
            p[1] for p in line.points
        )


def test_sections_chain_plate_cameras_per_direction_without_short_pairs() -> None:
    got = sections(SCENARIO)
    assert got, "the scenario has plate cameras far enough apart"
    line_m = {s.id: s.reference_line_m for s in SCENARIO.cameras}
    for direction in (EASTBOUND, WESTBOUND):
        chain = [s for s in got if s.id.startswith(direction)]
        for first, second in itertools.pairwise(chain):
            assert first.camera_b == second.camera_a  # each section starts where the last one ended
        for s in chain:
            assert s.distance_m is not None and s.distance_m >= MIN_SECTION_M
            assert s.distance_m == pytest.approx(abs(line_m[s.camera_b] - line_m[s.camera_a]))
            ahead = line_m[s.camera_b] > line_m[s.camera_a]
            assert ahead == (direction == EASTBOUND)


def test_sections_refuse_a_non_positive_minimum() -> None:
    with pytest.raises(ValueError, match="min_length_m must be positive"):
        sections(SCENARIO, 0.0)


def test_the_default_demo_city_has_a_speeder_over_a_configured_section() -> None:
    """The demo's default seed is chosen to show section-speed alerts: its truth must hold one."""
    sim = SimSettings()
    scenario = build_scenario(sim.cameras, sim.seconds, sim.seed)
    truth = build_truth(scenario, appearances={c.id: AppearanceLog([], []) for c in scenario.cameras})
    configured = {(s.camera_a, s.camera_b) for s in sections(scenario)}
    threshold = scenario.speed_limit_kmh + TrafficSettings().tolerance_kmh
    # Truth segments join consecutive cameras; a section may skip a camera, so compare per vehicle.
    speeders = {s.vehicle for s in truth.speeds if s.speed_kmh > threshold}
    on_section = {
        p.vehicle
        for a, b in configured
        for p in truth.passages
        if p.camera == a and any(q.vehicle == p.vehicle and q.camera == b for q in truth.passages)
    }
    assert speeders & on_section
    assert Settings().sim.seed == sim.seed
