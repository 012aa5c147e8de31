"""The synthetic city's scenario and ground truth, without rendering: determinism, plates, speeds."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from safecity.analytics.plates.formats import SERBIA, SERBIAN_ASCII_LETTERS
from safecity.sim.faces import IDENTITIES, face_sprite, reference_image
from safecity.sim.plates import PLATE_SIZE_MM, random_plate, render_plate
from safecity.sim.roads import CORRIDOR, NODES, Route, haversine_m, shortest_path
from safecity.sim.scenario import SPEED_LIMIT_KMH, build_scenario, max_cameras
from safecity.sim.truth import (
    FaceAppearance,
    GroundTruth,
    PlateAppearance,
    build_truth,
    load_truth,
    speed_kmh,
    truth_to_json,
    write_truth,
)
from safecity.types import Capability

CAMERAS, SECONDS = 6, 12.0


@pytest.fixture(scope="module")
def truth() -> GroundTruth:
    return build_truth(build_scenario(CAMERAS, SECONDS, 1))


def test_same_seed_same_scenario_and_truth_json(truth: GroundTruth) -> None:
    assert build_scenario(CAMERAS, SECONDS, 1) == build_scenario(CAMERAS, SECONDS, 1)
    again = build_truth(build_scenario(CAMERAS, SECONDS, 1))
    assert truth_to_json(again) == truth_to_json(truth)


def test_other_seed_other_city() -> None:
    a = build_scenario(CAMERAS, SECONDS, 1)
    b = build_scenario(CAMERAS, SECONDS, 2)
    assert [v.plate for v in a.vehicles] != [v.plate for v in b.vehicles]
    assert a.cameras == b.cameras  # cameras stand where they stand; traffic and people differ


def test_every_plate_is_a_valid_serbian_plate() -> None:
    for seed in range(4):
        plates = [v.plate for v in build_scenario(CAMERAS, 30.0, seed).vehicles]
        assert plates and len(plates) == len(set(plates))
        for plate in plates:
            assert SERBIA.validate(plate), plate
            assert re.fullmatch(r"[A-Z]{2} \d{3,4}-[A-Z]{2}", plate), plate
            assert set(plate[-2:]) <= set(SERBIAN_ASCII_LETTERS)
    rng = np.random.default_rng(5)
    assert all(SERBIA.validate(random_plate(rng)) for _ in range(500))


def test_speeds_are_exactly_distance_over_time(truth: GroundTruth) -> None:
    assert truth.speeds, "vehicles should pass at least two traffic cameras"
    lines = {c.id: c.reference_line_m for c in truth.cameras}
    vehicles = {v.id: v for v in truth.vehicles}
    for s in truth.speeds:
        line_from, line_to = lines[s.from_camera], lines[s.to_camera]
        assert line_from is not None and line_to is not None
        assert s.distance_m == pytest.approx(abs(line_to - line_from), abs=1e-9)
        assert s.t_to > s.t_from
        assert s.speed_kmh == round(s.distance_m / (s.t_to - s.t_from) * 3.6, 3)
        assert s.speed_kmh == speed_kmh(s.distance_m, s.t_from, s.t_to)
        # Constant speeds: the section speed is the vehicle's own speed, up to time rounding.
        assert s.speed_kmh == pytest.approx(vehicles[s.vehicle].speed_kmh, rel=2e-3)
        assert vehicles[s.vehicle].plate == s.plate


def test_speeds_follow_consecutive_passages(truth: GroundTruth) -> None:
    by_vehicle: dict[str, list[tuple[float, str]]] = {}
    for p in truth.passages:
        by_vehicle.setdefault(p.vehicle, []).append((p.time, p.camera))
        assert 0 <= p.time < SECONDS
    expected = {
        (vehicle, a[1], b[1])
        for vehicle, seq in by_vehicle.items()
        for a, b in zip(sorted(seq), sorted(seq)[1:], strict=False)
    }
    assert {(s.vehicle, s.from_camera, s.to_camera) for s in truth.speeds} == expected


def test_speeds_vary_around_the_limit() -> None:
    speeds = [v.speed_kmh for v in build_scenario(CAMERAS, 30.0, 1).vehicles]
    assert min(speeds) >= 30.0 - 1e-9 and max(speeds) <= 90.0 + 1e-9
    assert any(s > SPEED_LIMIT_KMH for s in speeds) and any(s < SPEED_LIMIT_KMH for s in speeds)


def test_cameras_stand_on_the_corridor(truth: GroundTruth) -> None:
    scenario = build_scenario(CAMERAS, SECONDS, 1)
    ids = [c.id for c in scenario.cameras]
    assert ids == [f"cam-{i:02d}" for i in range(1, CAMERAS + 1)]
    sites = Counter(c.site_id for c in scenario.cameras)
    assert max(sites.values()) >= 2, "two cameras should share a pole"
    caps = [c.capabilities for c in scenario.cameras]
    assert any(Capability.PLATES in c and Capability.FACES not in c for c in caps)
    assert any(Capability.FACES in c and Capability.PLATES not in c for c in caps)
    assert any({Capability.FACES, Capability.PLATES} <= c for c in caps)
    for c in scenario.cameras:
        assert 44.78 < c.latitude < 44.82 and 20.45 < c.longitude < 20.51  # central Belgrade
        assert 0 <= c.heading_deg < 360
    assert [c.distance_m for c in truth.cameras] == sorted(c.distance_m for c in truth.cameras)


def test_truth_boxes_lie_inside_the_frame(truth: GroundTruth) -> None:
    w, h = truth.scenario.width, truth.scenario.height
    assert truth.plates and truth.faces
    appearances: list[PlateAppearance | FaceAppearance] = [*truth.plates, *truth.faces]
    for a in appearances:
        assert a.box.x >= 0 and a.box.y >= 0 and a.box.x + a.box.w <= w and a.box.y + a.box.h <= h
        assert a.time == round(a.frame / truth.scenario.fps, 3)
    assert {f.identity for f in truth.faces} == set(IDENTITIES)
    assert {p.plate for p in truth.plates} <= {v.plate for v in truth.vehicles}


def test_truth_json_round_trip(truth: GroundTruth, tmp_path: Path) -> None:
    path = write_truth(truth, tmp_path / "truth.json")
    loaded = load_truth(path)
    assert loaded == truth
    assert truth_to_json(loaded) == path.read_text(encoding="utf-8")
    assert loaded.scenario.start_time.utcoffset() is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_cameras": 0}, "at least 1"),
        ({"n_cameras": 10_000}, "at most"),
        ({"seconds": 0.0}, "positive"),
        ({"fps": -1.0}, "positive"),
    ],
)
def test_bad_arguments(kwargs: dict[str, float], message: str) -> None:
    args: dict[str, float] = {"n_cameras": 2, "seconds": 1.0, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=message):
        build_scenario(int(args["n_cameras"]), args["seconds"], int(args["seed"]), fps=args.get("fps", 10.0))


def test_roads() -> None:
    assert haversine_m(44.0, 20.0, 45.0, 20.0) == pytest.approx(111_195, rel=1e-3)
    terazije, slavija = NODES["terazije"], NODES["slavija"]
    d = haversine_m(terazije.latitude, terazije.longitude, slavija.latitude, slavija.longitude)
    assert 1_000 < d < 1_400
    route = Route(CORRIDOR)
    start = route.point_at(0.0)
    assert (start.latitude, start.longitude) == pytest.approx(
        (NODES[CORRIDOR[0]].latitude, NODES[CORRIDOR[0]].longitude)
    )
    assert 90 < start.heading_deg < 180  # the boulevard runs south-east
    assert route.point_at(route.length_m).nearest_node == CORRIDOR[-1]
    assert shortest_path("trg_nikole_pasica", "autokomanda")[-1] == "autokomanda"
    assert max_cameras() >= 12


def test_plate_image_and_faces() -> None:
    plate = render_plate("BG 123-AB")
    assert plate.shape == (PLATE_SIZE_MM[1], PLATE_SIZE_MM[0], 3)
    band = plate[10:100, 8:38].reshape(-1, 3).mean(axis=0)
    assert band[0] > 120 and band[2] < 60  # blue band (BGR)
    assert plate[:, 60:].mean() > 150  # mostly white with black characters
    with pytest.raises(ValueError):
        render_plate("XX 123-AB")
    for name in IDENTITIES:
        sprite = face_sprite(name)
        x, y, w, h = sprite.face_box
        assert x >= 0 and y >= 0 and x + w <= sprite.image.shape[1] and y + h <= sprite.image.shape[0]
        assert sprite.alpha.max() == pytest.approx(1.0, abs=0.02) and sprite.alpha.min() < 0.01
        assert reference_image(name).ndim == 3
