"""Rules for a registered camera and site, and capability parsing."""

from __future__ import annotations

import math
import pickle
from dataclasses import replace

import pytest

from safecity.registry.errors import RegistryError
from safecity.registry.validation import parse_capabilities, validate_camera, validate_site
from safecity.types import Camera, Capability, Site

CAMERA = Camera(
    id="cam-1",
    name="Trg bana Jelačića north",
    site_id="site-1",
    latitude=45.8131,
    longitude=15.9772,
    heading_deg=180.0,
    mount_height_m=6.5,
    operator="City of Zagreb",
    capabilities=frozenset({Capability.PLATES, Capability.MOTION}),
    stream_url="rtsp://10.0.0.5:554/live",
    retention_days=30,
    legal_basis="Public Gatherings Act, art. 12",
)
SITE = Site(id="site-1", name="Pole 17", latitude=45.8131, longitude=15.9772, address="Trg bana Jelačića 1")


def test_valid_camera_passes() -> None:
    validate_camera(CAMERA)


@pytest.mark.parametrize(
    "changes",
    [
        {"heading_deg": None, "mount_height_m": None},
        {"heading_deg": 0.0},
        {"heading_deg": 359.9},
        {"mount_height_m": 200.0},
        {"retention_days": 1},
        {"retention_days": 3650},
        {"stream_url": ""},
        {"stream_url": "rtsps://user:secret@cam.example:322/stream1"},
        {"stream_url": "http://10.0.0.5/mjpeg"},
        {"stream_url": "https://cam.example/live.m3u8"},
        {"stream_url": "file:///var/video/cam1.mp4"},
        {"id": "A-z_0.9:" + "x" * 56},
        {"latitude": -90.0, "longitude": 180.0},
        {"latitude": 90, "longitude": -180},
        {"capabilities": frozenset(Capability)},
        {"camera_type": "dome"},
        {"camera_type": "panning"},
    ],
    ids=repr,
)
def test_boundary_values_are_accepted(changes: dict[str, object]) -> None:
    validate_camera(replace(CAMERA, **changes))  # type: ignore[arg-type]


BAD_CAMERAS: list[tuple[str, object]] = [
    ("id", ""),
    ("id", "cam 1"),
    ("id", "cam/1"),
    ("id", "x" * 65),
    ("name", ""),
    ("name", "   "),
    ("site_id", ""),
    ("latitude", 90.0001),
    ("latitude", -91.0),
    ("latitude", math.nan),
    ("latitude", math.inf),
    ("latitude", "45.8"),
    ("latitude", True),
    ("longitude", 180.5),
    ("longitude", math.nan),
    ("heading_deg", 360.0),
    ("heading_deg", -0.5),
    ("heading_deg", math.nan),
    ("mount_height_m", 0.0),
    ("mount_height_m", -2.0),
    ("mount_height_m", 200.1),
    ("mount_height_m", math.inf),
    ("retention_days", 0),
    ("retention_days", 3651),
    ("retention_days", 30.0),
    ("retention_days", True),
    ("stream_url", "ftp://cam.example/stream"),
    ("stream_url", "cam.example/stream"),
    ("stream_url", "rtsp:///live"),
    ("stream_url", "rtsp://cam.example/live stream"),
    ("stream_url", "file://"),
    ("stream_url", "http://[::1/x"),
    ("capabilities", frozenset()),
    ("capabilities", frozenset({"faces"})),
    ("capabilities", {Capability.FACES}),
    ("enabled", "yes"),
    ("zone", ""),
    ("camera_type", "ptz"),
    ("operator", None),
    ("legal_basis", 12),
]


@pytest.mark.parametrize(("field", "value"), BAD_CAMERAS, ids=[f"{f}={v!r}" for f, v in BAD_CAMERAS])
def test_invalid_camera_field_is_named(field: str, value: object) -> None:
    with pytest.raises(RegistryError) as caught:
        validate_camera(replace(CAMERA, **{field: value}))  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.feature is not None
    assert f"'{field}'" in str(caught.value)
    assert caught.value.feature in str(caught.value)


def test_camera_error_names_camera_by_default() -> None:
    with pytest.raises(RegistryError) as caught:
        validate_camera(replace(CAMERA, latitude=95.0))
    assert caught.value.feature == "camera 'cam-1'"


def test_camera_error_uses_given_feature_label() -> None:
    with pytest.raises(RegistryError) as caught:
        validate_camera(replace(CAMERA, latitude=95.0), feature="feature #3 (id=cam-1)")
    assert str(caught.value).startswith("feature #3 (id=cam-1), field 'latitude': ")


def test_out_of_range_message_states_range_and_value() -> None:
    with pytest.raises(RegistryError, match=r"must be in \[0, 360\), got 360\.0"):
        validate_camera(replace(CAMERA, heading_deg=360.0))


def test_valid_site_passes() -> None:
    validate_site(SITE)


BAD_SITES: list[tuple[str, object]] = [
    ("id", ""),
    ("id", "site one"),
    ("name", ""),
    ("latitude", -90.5),
    ("longitude", math.nan),
    ("address", None),
]


@pytest.mark.parametrize(("field", "value"), BAD_SITES, ids=[f"{f}={v!r}" for f, v in BAD_SITES])
def test_invalid_site_field_is_named(field: str, value: object) -> None:
    with pytest.raises(RegistryError) as caught:
        validate_site(replace(SITE, **{field: value}))  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.feature is not None
    assert caught.value.feature.startswith("site ")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("faces;plates", {Capability.FACES, Capability.PLATES}),
        (" Faces ; PLATES ;", {Capability.FACES, Capability.PLATES}),
        (["traffic", "motion"], {Capability.TRAFFIC, Capability.MOTION}),
        ("motion;motion", {Capability.MOTION}),
        ((c.value for c in Capability), set(Capability)),
    ],
    ids=["osm-text", "case-and-blanks", "list", "duplicates", "generator"],
)
def test_parse_capabilities_accepts_text_and_lists(given: object, expected: set[Capability]) -> None:
    assert parse_capabilities(given) == frozenset(expected)  # type: ignore[arg-type]


def test_parse_capabilities_names_unknown_capability() -> None:
    with pytest.raises(RegistryError, match=r"unknown capability 'lpr'; known: faces, plates") as caught:
        parse_capabilities("faces;lpr")
    assert caught.value.field == "capabilities"


@pytest.mark.parametrize("given", ["", " ; ", []], ids=repr)
def test_parse_capabilities_rejects_empty(given: object) -> None:
    with pytest.raises(RegistryError, match="at least one"):
        parse_capabilities(given)  # type: ignore[arg-type]


def test_parse_capabilities_rejects_non_text_items() -> None:
    with pytest.raises(RegistryError, match="must be text"):
        parse_capabilities(["faces", 3])  # type: ignore[list-item]


def test_registry_error_message_names_feature_and_field() -> None:
    error = RegistryError("must be a number", feature="feature #2 (id=c)", field="height")
    assert str(error) == "feature #2 (id=c), field 'height': must be a number"


def test_registry_error_is_a_value_error() -> None:
    assert issubclass(RegistryError, ValueError)


def test_registry_error_survives_pickling() -> None:
    error = RegistryError("bad", feature="feature #1", field="ref")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, copy.feature, copy.field, str(copy)) == ("bad", "feature #1", "ref", str(error))
