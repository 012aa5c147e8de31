"""A small rendered city: decodable H.264 clips, right frame count and times, truth on the pictures."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import av
import numpy as np
import pytest

from safecity.config import SimSettings
from safecity.sim import SimCity, render_city
from safecity.sim.scenario import build_scenario
from safecity.sim.truth import FaceAppearance, PlateAppearance, build_truth, load_truth, truth_to_json
from safecity.types import Capability

SETTINGS = SimSettings(width=640, height=360, fps=10.0, cameras=3, seconds=3.0, seed=7)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[SimCity, list[tuple[str, int, int]]]:
    calls: list[tuple[str, int, int]] = []
    out = tmp_path_factory.mktemp("city")
    rendered = render_city(out, SETTINGS, progress=lambda cam, done, total: calls.append((cam, done, total)))
    return rendered, calls


def _decode(path: Path) -> tuple[list[np.ndarray], list[float], str]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        frames, times = [], []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="bgr24"))
            times.append(float(frame.time or 0.0))
    return frames, times, codec


def test_clips_are_h264_with_every_frame(city: tuple[SimCity, list[tuple[str, int, int]]]) -> None:
    sim, _ = city
    assert set(sim.clips) == {"cam-01", "cam-02", "cam-03"}
    for path in sim.clips.values():
        frames, times, codec = _decode(path)
        assert codec == "h264"
        assert len(frames) == 30
        assert frames[0].shape == (360, 640, 3)
        assert times == pytest.approx([i / 10 for i in range(30)], abs=1e-3)


def test_city_description(city: tuple[SimCity, list[tuple[str, int, int]]]) -> None:
    sim, calls = city
    assert sim.start_time.tzinfo is not None and sim.start_time.utcoffset() == UTC.utcoffset(None)
    assert [c.id for c in sim.cameras] == ["cam-01", "cam-02", "cam-03"]
    assert {c.site_id for c in sim.cameras} == {s.id for s in sim.sites}
    assert sim.cameras[0].site_id == sim.cameras[1].site_id  # back to back on one pole
    for cam in sim.cameras:
        assert cam.stream_url == sim.clips[cam.id].resolve().as_uri()
        assert cam.operator and cam.legal_basis and cam.retention_days > 0
    assert (
        Capability.FACES in sim.cameras[2].capabilities and Capability.PLATES in sim.cameras[2].capabilities
    )
    assert {(cam, done) for cam, done, total in calls if done == total} == {(c, 30) for c in sim.clips}


def test_truth_file_matches_the_pure_truth(city: tuple[SimCity, list[tuple[str, int, int]]]) -> None:
    sim, _ = city
    scenario = build_scenario(3, 3.0, 7, fps=10.0, width=640, height=360)
    assert sim.truth_path.read_text(encoding="utf-8") == truth_to_json(build_truth(scenario))


def test_truth_boxes_show_plates_and_faces(city: tuple[SimCity, list[tuple[str, int, int]]]) -> None:
    sim, _ = city
    truth = load_truth(sim.truth_path)
    assert truth.plates and truth.faces
    decoded = {cam: _decode(path)[0] for cam, path in sim.clips.items()}
    appearances: list[PlateAppearance | FaceAppearance] = [*truth.plates, *truth.faces]
    for a in appearances:
        assert a.box.x >= 0 and a.box.y >= 0 and a.box.x + a.box.w <= 640 and a.box.y + a.box.h <= 360
    for plate in truth.plates:
        b = plate.box
        region = decoded[plate.camera][plate.frame][b.y : b.y + b.h, b.x : b.x + b.w]
        assert region.mean() > 110, (
            f"plate {plate.plate} should be a bright patch in {plate.camera}#{plate.frame}"
        )
    for face in truth.faces:
        b = face.box
        region = decoded[face.camera][face.frame][b.y : b.y + b.h, b.x : b.x + b.w].astype(float)
        assert region.std() > 8, "a face has texture, not a flat background"


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        render_city(tmp_path, SETTINGS, cameras=0)
    with pytest.raises(ValueError, match="positive"):
        render_city(tmp_path, SETTINGS, seconds=0.0)


def test_clips_carry_the_scenario_start_time(tmp_path: Path) -> None:
    from safecity.sources.probe import guess_start_time

    city = render_city(tmp_path, SimSettings(width=320, height=240), cameras=1, seconds=0.5)
    assert guess_start_time(city.clips["cam-01"]) == city.start_time
