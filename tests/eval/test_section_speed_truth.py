"""Section speed against the synthetic city's ground truth (issue 8, item 4, speed half).

No video is rendered: the scenario's truth (`build_truth` with empty appearance logs, so no frame
is laid out) carries every vehicle's passage time at every traffic camera's reference line
(`GroundTruth.passages`) and its true speed between consecutive such cameras
(`GroundTruth.speeds`). The passages become perfect plate reads; the sections are the camera
pairs some vehicle drives between, with distances taken from the scenario's geometry (the
cameras' reference lines along the corridor, `CameraSpec.reference_line_m`), not from the truth.
Measured speeds must be within 3 % of the truth speeds, and exactly the vehicles above the limit
(plus tolerance) must raise violations, also when the reads at B carry OCR confusions and B's
clock runs off by a configured offset.
"""

from __future__ import annotations

import re
import statistics
from datetime import timedelta

import pytest

from safecity.analytics.plates.confusion import CONFUSION_CLASSES
from safecity.analytics.traffic.section_speed import Section, SpeedMeasurement
from safecity.sim.scenario import build_scenario
from safecity.sim.truth import AppearanceLog, GroundTruth, build_truth
from safecity.types import BBox, PlateRead
from safecity.watch.speeding import measure_speeds

CAMERAS, SECONDS, SEED = 12, 120.0, 1
_SWAP = {cls[0]: cls[1] for cls in CONFUSION_CLASSES}


@pytest.fixture(scope="module")
def truth() -> GroundTruth:
    scenario = build_scenario(CAMERAS, SECONDS, SEED)
    return build_truth(scenario, appearances={c.id: AppearanceLog([], []) for c in scenario.cameras})


def _sections(truth: GroundTruth, tolerance_kmh: float, offsets: dict[str, float]) -> list[Section]:
    scenario = build_scenario(CAMERAS, SECONDS, SEED)
    pairs = sorted({(s.from_camera, s.to_camera) for s in truth.speeds})
    return [
        Section(
            id=f"{a}>{b}",
            camera_a=a,
            camera_b=b,
            distance_m=abs(scenario.camera(b).reference_line_m - scenario.camera(a).reference_line_m),
            speed_limit_kmh=truth.scenario.speed_limit_kmh,
            tolerance_kmh=tolerance_kmh,
            clock_offset_s=offsets.get(b, 0.0) - offsets.get(a, 0.0),
        )
        for a, b in pairs
    ]


def _confused(plate: str) -> str:
    """The plate with its first confusable character read as another of its class (B -> 8, O -> 0)."""
    for i, ch in enumerate(plate):
        if ch in _SWAP:
            return plate[:i] + _SWAP[ch] + plate[i + 1 :]
    return plate


def _reads(
    truth: GroundTruth, confuse_every: int, offsets: dict[str, float]
) -> tuple[list[PlateRead], dict[str, str]]:
    """Perfect reads of every passage (every `confuse_every`-th one confused), each camera's clock
    off by its offset; and the vehicle behind each read id."""
    reads: list[PlateRead] = []
    vehicle_of: dict[str, str] = {}
    for i, p in enumerate(truth.passages):
        normalised = re.sub(r"[^A-Z0-9]", "", p.plate)
        if confuse_every and i % confuse_every == 0:
            normalised = _confused(normalised)
        read_id = f"read-{i:05d}"
        at = truth.timestamp(p.time) + timedelta(seconds=offsets.get(p.camera, 0.0))
        reads.append(PlateRead(read_id, p.camera, at, BBox(0, 0, 120, 30), 1.0, p.plate, normalised, "RS"))
        vehicle_of[read_id] = p.vehicle
    reads.sort(key=lambda r: (r.timestamp, r.id))
    return reads, vehicle_of


def _true_speeds(
    truth: GroundTruth, measurements: list[SpeedMeasurement], vehicle_of: dict[str, str]
) -> list[float]:
    """The truth speed of every measurement's vehicle over its section: the truth segment where the
    pair of cameras is consecutive on the vehicle's way, else the vehicle's own (constant) speed."""
    segment = {(s.vehicle, s.from_camera, s.to_camera): s.speed_kmh for s in truth.speeds}
    own = {v.id: v.speed_kmh for v in truth.vehicles}
    out = []
    for m in measurements:
        vehicle = vehicle_of[m.read_a_id]
        assert vehicle_of[m.read_b_id] == vehicle, f"{m.section.id}: reads of two vehicles paired"
        out.append(segment.get((vehicle, m.section.camera_a, m.section.camera_b), own[vehicle]))
    return out


@pytest.mark.parametrize(
    ("tolerance_kmh", "confuse_every", "offsets"),
    [
        (0.0, 0, {}),
        (3.0, 0, {}),
        (3.0, 3, {}),
        (0.0, 4, {"cam-01": 2.5, "cam-04": -4.0, "cam-08": 7.0}),
    ],
)
def test_section_speeds_match_the_truth(
    truth: GroundTruth, tolerance_kmh: float, confuse_every: int, offsets: dict[str, float]
) -> None:
    reads, vehicle_of = _reads(truth, confuse_every, offsets)
    sections = _sections(truth, tolerance_kmh, offsets)
    report = measure_speeds(sections, reads)

    # Every consecutive passage pair of the truth is measured, by the right vehicle.
    measured = {
        (vehicle_of[m.read_a_id], m.section.camera_a, m.section.camera_b) for m in report.measurements
    }
    assert {(s.vehicle, s.from_camera, s.to_camera) for s in truth.speeds} <= measured

    measurements = list(report.measurements)
    true = _true_speeds(truth, measurements, vehicle_of)
    errors = [abs(m.speed_kmh - t) / t * 100 for m, t in zip(measurements, true, strict=True)]
    assert max(errors) < 3.0
    assert statistics.median(errors) < 0.5

    # Exactly the measurements whose truth speed is above the threshold are violations. The truth
    # rounds speeds to 0.001 km/h; none of ours falls within that of the threshold.
    threshold = truth.scenario.speed_limit_kmh + tolerance_kmh
    assert all(abs(t - threshold) > 0.001 for t in true)
    violating = {(v.measurement.read_a_id, v.measurement.read_b_id) for v in report.violations}
    expected = {(m.read_a_id, m.read_b_id) for m, t in zip(measurements, true, strict=True) if t > threshold}
    assert expected, "the scenario should have speeding vehicles"
    assert violating == expected
    # Per vehicle: everyone clearly above the threshold is caught, nobody clearly below is.
    speed_of = {v.id: v.speed_kmh for v in truth.vehicles}
    caught = {vehicle_of[a] for a, _ in violating}
    measured_vehicles = {vehicle_of[m.read_a_id] for m in measurements}
    assert {v for v in measured_vehicles if speed_of[v] > threshold + 0.5} <= caught
    assert not {v for v in caught if speed_of[v] < threshold - 0.5}
    if confuse_every:
        assert any(m.match.value == "confusable" for m in measurements)
