"""A camera's recording mode in the GeoJSON register: exported (also publicly), read back, checked."""

from __future__ import annotations

import pytest

from safecity.config import CameraDefaults
from safecity.registry.errors import RegistryError
from safecity.registry.geojson import cameras_from_geojson, cameras_to_geojson
from safecity.types import Camera, RecordingMode, Site

SITE = Site(id="s1", name="Gate", latitude=44.8, longitude=20.4)


def _camera(mode: RecordingMode) -> Camera:
    return Camera(id="cam-1", name="Gate", site_id="s1", latitude=44.8, longitude=20.4, recording=mode)


@pytest.mark.parametrize("mode", list(RecordingMode))
def test_the_recording_mode_round_trips(mode: RecordingMode) -> None:
    data = cameras_to_geojson([_camera(mode)], [SITE])
    _, (camera,) = cameras_from_geojson(data, CameraDefaults())
    assert camera.recording is mode


def test_the_public_register_says_which_cameras_record() -> None:
    data = cameras_to_geojson([_camera(RecordingMode.MOTION)], [SITE], public=True)
    assert data["features"][0]["properties"]["safecity:recording"] == "motion"  # type: ignore[index]


def test_an_unknown_recording_mode_is_refused_by_name() -> None:
    data = cameras_to_geojson([_camera(RecordingMode.NONE)], [SITE])
    data["features"][0]["properties"]["safecity:recording"] = "always"  # type: ignore[index]
    with pytest.raises(RegistryError, match=r"safecity:recording.*must be one of none, continuous"):
        cameras_from_geojson(data, CameraDefaults())
