"""Counting lines and zones in the registry: the `safecity:counting` property, its checks, its round trip."""

from __future__ import annotations

import dataclasses

import pytest
from factories import camera, site

from safecity.config import CameraDefaults, CountingGeometry, CountingLineConfig, CountingZoneConfig
from safecity.registry.errors import RegistryError
from safecity.registry.geojson import COUNTING, cameras_from_geojson, cameras_to_geojson

GEOMETRY = CountingGeometry(
    lines=(
        CountingLineConfig(
            name="stop", points=((0, 100), (200, 110)), in_direction="north", out_direction="south"
        ),
    ),
    zones=(CountingZoneConfig(name="box", polygon=((0, 0), (50, 0), (50, 50))),),
    method="loop",
)
COUNTED = camera(counting=GEOMETRY)


def _feature(counting: object) -> dict[str, object]:
    props = {"man_made": "surveillance", "ref": "cam-9", "name": "Camera 9", COUNTING: counting}
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [20.46, 44.8]},
        "properties": props,
    }


def test_counting_round_trips_through_the_register() -> None:
    data = cameras_to_geojson([COUNTED], [site()])
    _, (back,) = cameras_from_geojson(data, CameraDefaults())
    assert back.counting == GEOMETRY
    assert back == dataclasses.replace(COUNTED, counting=GEOMETRY)


def test_the_public_register_leaves_counting_geometry_out() -> None:
    data = cameras_to_geojson([COUNTED], [site()], public=True)
    (feature,) = data["features"]  # type: ignore[misc]
    assert COUNTING not in feature["properties"]


def test_a_camera_without_counting_has_no_property() -> None:
    (feature,) = cameras_to_geojson([camera()], [site()])["features"]  # type: ignore[misc]
    assert COUNTING not in feature["properties"]


@pytest.mark.parametrize(
    ("counting", "message"),
    [
        ("lines", "must be an object of lines and zones"),
        ({"lines": [{"name": "a", "points": [[5, 5], [5.5, 5]]}]}, "less than 1 pixel apart"),
        (
            {"lines": [{"name": "a", "points": [[0, 0], [9, 9]], "in_direction": "x", "out_direction": "x"}]},
            "must differ",
        ),
        ({"zones": [{"name": "z", "polygon": [[0, 0], [9, 9]]}]}, "at least 3 corners"),
        ({"zones": [{"name": "z", "polygon": [[0, 0], [5, 5], [9, 9]]}]}, "no area"),
        (
            {"lines": [{"name": "a", "points": [[0, 0], [9, 9]]}, {"name": "a", "points": [[0, 5], [9, 5]]}]},
            "repeated: a",
        ),
        ({"method": "radar"}, "method"),
        ({"lines": [{"name": "a"}]}, "points"),
    ],
)
def test_malformed_counting_is_refused_naming_the_feature(counting: object, message: str) -> None:
    with pytest.raises(RegistryError, match=message) as caught:
        cameras_from_geojson(
            {"type": "FeatureCollection", "features": [_feature(counting)]}, CameraDefaults()
        )
    assert "cam-9" in str(caught.value) and COUNTING in str(caught.value)
