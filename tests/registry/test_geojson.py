"""The camera register as GeoJSON with OpenStreetMap surveillance tags: export, import, files."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from safecity.config import CameraDefaults
from safecity.registry.errors import RegistryError
from safecity.registry.geojson import cameras_from_geojson, cameras_to_geojson, load_geojson_file
from safecity.types import Camera, Capability, Site

DEFAULTS = CameraDefaults(retention_days=14, operator="Grad Zagreb", legal_basis="Zakon o zaštiti podataka")

SITES = [
    Site("jelacic", "Trg bana Jelačića", 45.81317, 15.97713, "Trg bana Jelačića 1, Zagreb"),
    Site("site-vuk-1", "Vukovarska x Držićeva", 45.80123, 15.99876),
    # Its position differs from its first camera's: a pole a few metres from the camera.
    Site("savski", "Savski most", 45.7921, 15.9512, "Savska cesta"),
]
CAMERAS = [
    Camera(
        id="cam-0001",
        name="Jelačić north",
        site_id="jelacic",
        latitude=45.81317,
        longitude=15.97713,
        heading_deg=0.0,
        mount_height_m=6.5,
        operator="Grad Zagreb",
        capabilities=frozenset({Capability.FACES, Capability.MOTION}),
        stream_url="rtsp://viewer:s3cret@10.20.0.11:554/stream1",
        retention_days=30,
        legal_basis="Decision KLASA 023-01/24-01/12",
        zone="town",
        camera_type="dome",
    ),
    Camera(
        id="cam-0002",
        name="Jelačić south",
        site_id="jelacic",
        latitude=45.81301,
        longitude=15.97720,
        capabilities=frozenset(Capability),
        stream_url="https://10.20.0.12/live.m3u8",
        enabled=False,
    ),
    Camera(
        id="cam-0003",
        name="Vukovarska ALPR",
        site_id="site-vuk-1",
        latitude=45.80123,
        longitude=15.99876,
        mount_height_m=8.0,
        operator="MUP",
        capabilities=frozenset({Capability.PLATES, Capability.TRAFFIC}),
        retention_days=3650,
        zone="traffic",
    ),
    Camera(
        id="cam-0004",
        name="Savski most east",
        site_id="savski",
        latitude=45.79215,
        longitude=15.95131,
        heading_deg=359.9999,
        capabilities=frozenset({Capability.TRAFFIC}),
        stream_url="file:///srv/video/savski.mp4",
        retention_days=1,
        zone="street",
        camera_type="panning",
    ),
]


def _feature(ref: str = "cam-1", **properties: object) -> dict[str, object]:
    """A minimal valid feature, as a hand-written register would have it."""
    props: dict[str, object] = {"man_made": "surveillance", "ref": ref, "name": f"Camera {ref}"}
    props.update(properties)
    return {"type": "Feature", "geometry": _point(15.97, 45.81), "properties": props}


def _collection(*features: object) -> dict[str, object]:
    return {"type": "FeatureCollection", "features": list(features)}


def _properties(data: dict[str, object], index: int) -> dict[str, object]:
    features = data["features"]
    assert isinstance(features, list)
    props = features[index]["properties"]
    assert isinstance(props, dict)
    return props


# --- round trip ---------------------------------------------------------------------------------


def test_round_trip_returns_the_same_sites_and_cameras() -> None:
    assert cameras_from_geojson(cameras_to_geojson(CAMERAS, SITES), DEFAULTS) == (SITES, CAMERAS)


def test_round_trip_through_json_text_is_exact() -> None:
    text = json.dumps(cameras_to_geojson(CAMERAS, SITES))
    assert cameras_from_geojson(json.loads(text), DEFAULTS) == (SITES, CAMERAS)


def test_round_trip_keeps_empty_operator_against_a_non_empty_default() -> None:
    camera = Camera("c1", "C1", "s1", 45.0, 15.0, operator="", legal_basis="")
    site = Site("s1", "S1", 45.0, 15.0)
    assert cameras_from_geojson(cameras_to_geojson([camera], [site]), DEFAULTS) == ([site], [camera])


# --- export -------------------------------------------------------------------------------------


def test_export_is_a_feature_collection_of_lon_lat_points() -> None:
    data = cameras_to_geojson(CAMERAS[:1], SITES[:1])
    assert data["type"] == "FeatureCollection"
    features = data["features"]
    assert isinstance(features, list)
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [15.97713, 45.81317]}


def test_export_writes_osm_surveillance_tags() -> None:
    props = _properties(cameras_to_geojson(CAMERAS[:1], SITES[:1]), 0)
    assert {k: props[k] for k in props if not k.startswith("safecity:")} == {
        "man_made": "surveillance",
        "surveillance": "public",
        "surveillance:type": "camera",
        "surveillance:zone": "town",
        "camera:type": "dome",
        "camera:direction": "0",
        "height": "6.5",
        "operator": "Grad Zagreb",
        "ref": "cam-0001",
        "name": "Jelačić north",
    }


def test_export_tags_plate_readers_as_alpr() -> None:
    props = _properties(cameras_to_geojson(CAMERAS[2:3], SITES[1:2]), 0)
    assert props["surveillance:type"] == "ALPR"


def test_export_lists_capabilities_osm_style() -> None:
    props = _properties(cameras_to_geojson(CAMERAS[1:2], SITES[:1]), 0)
    assert props["safecity:capabilities"] == "faces;plates;traffic;motion"


def test_export_omits_direction_and_height_when_unknown() -> None:
    props = _properties(cameras_to_geojson(CAMERAS[1:2], SITES[:1]), 0)
    assert "camera:direction" not in props
    assert "height" not in props


def test_private_export_includes_stream_url() -> None:
    props = _properties(cameras_to_geojson(CAMERAS[:1], SITES[:1]), 0)
    assert props["safecity:stream_url"] == "rtsp://viewer:s3cret@10.20.0.11:554/stream1"


def test_public_export_omits_stream_url() -> None:
    text = json.dumps(cameras_to_geojson(CAMERAS, SITES, public=True))
    assert "safecity:stream_url" not in text
    assert "s3cret" not in text
    assert "10.20.0.1" not in text


def test_public_export_lists_disabled_cameras_with_their_flag() -> None:
    data = cameras_to_geojson(CAMERAS, SITES, public=True)
    assert [_properties(data, i)["safecity:enabled"] for i in range(4)] == [True, False, True, True]


def test_export_rejects_camera_whose_site_is_not_given() -> None:
    with pytest.raises(RegistryError) as caught:
        cameras_to_geojson(CAMERAS[:1], SITES[1:])
    assert (caught.value.feature, caught.value.field) == ("camera 'cam-0001'", "site_id")


def test_export_rejects_invalid_camera() -> None:
    bad = Camera("c1", "C1", "jelacic", 45.0, 15.0, heading_deg=400.0)
    with pytest.raises(RegistryError) as caught:
        cameras_to_geojson([bad], SITES)
    assert caught.value.field == "heading_deg"


def test_export_rejects_duplicate_camera_ids() -> None:
    with pytest.raises(RegistryError, match="duplicate camera id"):
        cameras_to_geojson([CAMERAS[0], CAMERAS[0]], SITES)


# --- import -------------------------------------------------------------------------------------


def test_feature_without_site_gets_a_site_of_its_own() -> None:
    sites, cameras = cameras_from_geojson(_collection(_feature("cam-7", **{"name": "Ilica 7"})), DEFAULTS)
    assert sites == [Site("site-cam-7", "Ilica 7", 45.81, 15.97)]
    assert cameras[0].site_id == "site-cam-7"


def test_own_site_id_of_a_long_ref_stays_within_64_characters() -> None:
    sites, _ = cameras_from_geojson(_collection(_feature("c" * 64)), DEFAULTS)
    assert sites[0].id.startswith("site-")
    assert len(sites[0].id) <= 64


def test_features_sharing_a_site_share_one_site() -> None:
    first = _feature("cam-1", **{"safecity:site": "pole-9", "safecity:site_name": "Pole 9"})
    second = _feature("cam-2", **{"safecity:site": "pole-9"})
    second["geometry"] = {"type": "Point", "coordinates": [16.0, 45.9]}
    sites, cameras = cameras_from_geojson(_collection(first, second), DEFAULTS)
    assert sites == [Site("pole-9", "Pole 9", 45.81, 15.97)]
    assert [c.site_id for c in cameras] == ["pole-9", "pole-9"]


def test_site_name_may_come_from_a_later_feature() -> None:
    first = _feature("cam-1", **{"safecity:site": "pole-9"})
    second = _feature("cam-2", **{"safecity:site": "pole-9", "safecity:site_name": "Pole 9"})
    sites, _ = cameras_from_geojson(_collection(first, second), DEFAULTS)
    assert sites[0].name == "Pole 9"


def test_missing_optional_fields_take_defaults() -> None:
    _, cameras = cameras_from_geojson(_collection(_feature("cam-1")), DEFAULTS)
    assert cameras[0] == Camera(
        id="cam-1",
        name="Camera cam-1",
        site_id="site-cam-1",
        latitude=45.81,
        longitude=15.97,
        operator="Grad Zagreb",
        retention_days=14,
        legal_basis="Zakon o zaštiti podataka",
    )


@pytest.mark.parametrize(
    ("surveillance_type", "expected"),
    [
        ("ALPR", {Capability.PLATES, Capability.MOTION}),
        ("alpr", {Capability.PLATES, Capability.MOTION}),
        ("camera", {Capability.MOTION}),
        (None, {Capability.MOTION}),
    ],
)
def test_capabilities_follow_surveillance_type_when_absent(
    surveillance_type: str | None, expected: set[Capability]
) -> None:
    feature = (
        _feature("cam-1")
        if surveillance_type is None
        else _feature("cam-1", **{"surveillance:type": surveillance_type})
    )
    _, cameras = cameras_from_geojson(_collection(feature), DEFAULTS)
    assert cameras[0].capabilities == frozenset(expected)


def test_capabilities_may_be_a_json_list() -> None:
    feature = _feature("cam-1", **{"safecity:capabilities": ["faces", "motion"]})
    _, cameras = cameras_from_geojson(_collection(feature), DEFAULTS)
    assert cameras[0].capabilities == {Capability.FACES, Capability.MOTION}


@pytest.mark.parametrize(
    ("properties", "heading", "height"),
    [
        ({"camera:direction": "NE", "height": "6 m"}, 45.0, 6.0),
        ({"camera:direction": "wsw", "height": "7.5m"}, 247.5, 7.5),
        ({"camera:direction": 90, "height": 4}, 90.0, 4.0),
        ({"camera:direction": " 12.5 ", "height": " 3 "}, 12.5, 3.0),
    ],
    ids=["compass-and-metres", "lowercase-compass", "json-numbers", "blanks"],
)
def test_osm_direction_and_height_values_are_understood(
    properties: dict[str, object], heading: float, height: float
) -> None:
    _, cameras = cameras_from_geojson(_collection(_feature("cam-1", **properties)), DEFAULTS)
    assert (cameras[0].heading_deg, cameras[0].mount_height_m) == (heading, height)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"safecity:retention_days": "90", "safecity:enabled": "no"}, (90, False)),
        ({"safecity:retention_days": 90.0, "safecity:enabled": "yes"}, (90, True)),
    ],
    ids=["text", "float-and-yes"],
)
def test_retention_and_enabled_accept_osm_style_text(
    given: dict[str, object], expected: tuple[int, bool]
) -> None:
    _, cameras = cameras_from_geojson(_collection(_feature("cam-1", **given)), DEFAULTS)
    assert (cameras[0].retention_days, cameras[0].enabled) == expected


def test_numeric_ref_is_read_as_text() -> None:
    _, cameras = cameras_from_geojson(_collection(_feature(ref=12)), DEFAULTS)  # type: ignore[arg-type]
    assert cameras[0].id == "12"


def test_unrelated_osm_tags_are_ignored() -> None:
    feature = _feature("cam-1", **{"camera:mount": "pole", "@id": "node/123", "surveillance": "outdoor"})
    _, cameras = cameras_from_geojson(_collection(feature), DEFAULTS)
    assert cameras[0].id == "cam-1"


def test_wgs84_crs_member_is_accepted() -> None:
    data = _collection(_feature("cam-1"))
    data["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    _, cameras = cameras_from_geojson(data, DEFAULTS)
    assert len(cameras) == 1


def test_import_does_not_modify_its_input() -> None:
    data = cameras_to_geojson(CAMERAS, SITES)
    before = copy.deepcopy(data)
    cameras_from_geojson(data, DEFAULTS)
    assert data == before


# --- bad input: every case names the feature and the field ------------------------------------

_DELETE = object()
"""In a case's changes: remove this key."""
CAM2 = "feature #2 (id=cam-2)"


def _case(
    case_id: str,
    field: str | None,
    *,
    props: dict[str, object] | None = None,
    members: dict[str, object] | None = None,
    feature: str = CAM2,
) -> object:
    """One bad input: changes to the third feature's properties and members, and what to blame."""
    return pytest.param(props or {}, members or {}, feature, field, id=case_id)


def _point(*coordinates: object) -> dict[str, object]:
    return {"type": "Point", "coordinates": list(coordinates)}


BAD_FEATURES = [
    _case("geometry-missing", "geometry", members={"geometry": _DELETE}),
    _case("geometry-null", "geometry", members={"geometry": None}),
    _case("geometry-not-point", "geometry", members={"geometry": {"type": "LineString", "coordinates": []}}),
    _case("coordinates-missing", "geometry.coordinates", members={"geometry": {"type": "Point"}}),
    _case("coordinates-one-value", "geometry.coordinates", members={"geometry": _point(15.9)}),
    _case("coordinates-text", "geometry.coordinates", members={"geometry": _point("15.9", "45.8")}),
    _case("coordinates-bool", "geometry.coordinates", members={"geometry": _point(True, 45.8)}),
    _case("coordinates-nan", "geometry.coordinates", members={"geometry": _point(math.nan, 45.8)}),
    _case("latitude-out-of-range", "geometry.coordinates", members={"geometry": _point(15.9, 95.0)}),
    _case("longitude-out-of-range", "geometry.coordinates", members={"geometry": _point(181.0, 45.8)}),
    _case("ref-missing", "ref", props={"ref": _DELETE}, feature="feature #2 (no ref)"),
    _case("ref-invalid", "ref", props={"ref": "cam 2"}, feature="feature #2 (ref='cam 2')"),
    _case("ref-duplicate", "ref", props={"ref": "cam-1"}, feature="feature #2 (id=cam-1)"),
    _case("name-missing", "name", props={"name": _DELETE}),
    _case("name-empty", "name", props={"name": " "}),
    _case("capability-unknown", "safecity:capabilities", props={"safecity:capabilities": "faces;lpr"}),
    _case("capabilities-empty", "safecity:capabilities", props={"safecity:capabilities": ""}),
    _case("capabilities-number", "safecity:capabilities", props={"safecity:capabilities": 3}),
    _case("retention-text", "safecity:retention_days", props={"safecity:retention_days": "abc"}),
    _case("retention-fraction", "safecity:retention_days", props={"safecity:retention_days": 2.5}),
    _case("retention-zero", "safecity:retention_days", props={"safecity:retention_days": 0}),
    _case("enabled-unclear", "safecity:enabled", props={"safecity:enabled": "maybe"}),
    _case("direction-360", "camera:direction", props={"camera:direction": "360"}),
    _case("direction-words", "camera:direction", props={"camera:direction": "towards the church"}),
    _case("direction-nan-text", "camera:direction", props={"camera:direction": "nan"}),
    _case("height-zero", "height", props={"height": "0"}),
    _case("height-feet", "height", props={"height": "20'"}),
    _case("stream-url-scheme", "safecity:stream_url", props={"safecity:stream_url": "ftp://10.0.0.1/x"}),
    _case("type-guard", "surveillance:type", props={"surveillance:type": "guard"}),
    _case("type-unknown", "surveillance:type", props={"surveillance:type": "dome"}),
    _case(
        "alpr-without-plates",
        "surveillance:type",
        props={"surveillance:type": "ALPR", "safecity:capabilities": "faces"},
    ),
    _case(
        "camera-with-plates",
        "surveillance:type",
        props={"surveillance:type": "camera", "safecity:capabilities": "plates"},
    ),
    _case("camera-type-unknown", "camera:type", props={"camera:type": "ptz"}),
    _case("zone-empty", "surveillance:zone", props={"surveillance:zone": ""}),
    _case("man-made-other", "man_made", props={"man_made": "mast"}),
    _case("surveillance-other", "surveillance", props={"surveillance": "private"}),
    _case("safecity-key-unknown", "safecity:retention", props={"safecity:retention": 30}),
    _case("operator-number", "operator", props={"operator": 5}),
    _case("site-id-invalid", "safecity:site", props={"safecity:site": "pole 9"}),
    _case("site-name-empty", "safecity:site_name", props={"safecity:site_name": ""}),
    _case(
        "site-name-conflict",
        "safecity:site_name",
        props={"safecity:site": "pole-1", "safecity:site_name": "Other pole"},
    ),
    _case(
        "site-address-conflict",
        "safecity:site_address",
        props={"safecity:site": "pole-1", "safecity:site_address": "Elsewhere 2"},
    ),
    _case("site-latitude-alone", "safecity:site_longitude", props={"safecity:site_latitude": 45.8}),
    _case(
        "site-latitude-out-of-range",
        "safecity:site_latitude",
        props={"safecity:site_latitude": 100.0, "safecity:site_longitude": 15.9},
    ),
    _case("site-id-is-own-site-of-another", "safecity:site", props={"safecity:site": "site-cam-0"}),
    _case("properties-null", "properties", members={"properties": None}, feature="feature #2"),
    _case("feature-type", "type", members={"type": "Point"}, feature="feature #2"),
]


def _apply(target: dict[str, object], changes: dict[str, object]) -> None:
    for key, value in changes.items():
        if value is _DELETE:
            del target[key]
        else:
            target[key] = value


def _three_features(props: dict[str, object], members: dict[str, object]) -> dict[str, object]:
    """A valid own-site feature, a valid shared-site feature, then the feature under test."""
    own_site = _feature("cam-0")  # no safecity:site: its site is "site-cam-0"
    shared = _feature(
        "cam-1",
        **{"safecity:site": "pole-1", "safecity:site_name": "Pole 1", "safecity:site_address": "Ilica 1"},
    )
    under_test = _feature("cam-2")
    under_test_props = under_test["properties"]
    assert isinstance(under_test_props, dict)
    _apply(under_test_props, props)
    _apply(under_test, members)
    return _collection(own_site, shared, under_test)


@pytest.mark.parametrize(("props", "members", "feature", "field"), BAD_FEATURES)
def test_bad_feature_is_named_with_its_field(
    props: dict[str, object], members: dict[str, object], feature: str, field: str | None
) -> None:
    with pytest.raises(RegistryError) as caught:
        cameras_from_geojson(_three_features(props, members), DEFAULTS)
    assert (caught.value.feature, caught.value.field) == (feature, field)
    assert str(caught.value).startswith(f"{feature}, field {field!r}: ")


def test_own_site_id_clashing_with_an_earlier_shared_site_is_named() -> None:
    shared = _feature("cam-1", **{"safecity:site": "site-cam-2"})
    with pytest.raises(RegistryError) as caught:
        cameras_from_geojson(_collection(shared, _feature("cam-2")), DEFAULTS)
    assert (caught.value.feature, caught.value.field) == ("feature #1 (id=cam-2)", "safecity:site")


def test_unknown_capability_is_named_in_the_message() -> None:
    with pytest.raises(RegistryError, match="unknown capability 'lpr'"):
        cameras_from_geojson(_collection(_feature("cam-1", **{"safecity:capabilities": "lpr"})), DEFAULTS)


def test_swapped_coordinates_message_says_which_value() -> None:
    feature = _feature("cam-1")
    feature["geometry"] = {"type": "Point", "coordinates": [45.8, 95.9]}
    with pytest.raises(RegistryError, match=r"latitude \(second value\) must be in \[-90, 90\]"):
        cameras_from_geojson(_collection(feature), DEFAULTS)


def test_feature_that_is_not_an_object_is_named() -> None:
    with pytest.raises(RegistryError) as caught:
        cameras_from_geojson(_collection("cam-1"), DEFAULTS)
    assert (caught.value.feature, caught.value.field) == ("feature #0", None)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], None),
        ("FeatureCollection", None),
        ({"type": "Feature", "features": []}, "type"),
        ({"type": "FeatureCollection"}, "features"),
        ({"type": "FeatureCollection", "features": {"0": {}}}, "features"),
        (
            {
                "type": "FeatureCollection",
                "features": [],
                "crs": {"type": "name", "properties": {"name": "EPSG:3765"}},
            },
            "crs",
        ),
    ],
    ids=["list", "text", "feature", "features-missing", "features-object", "projected-crs"],
)
def test_document_that_is_not_a_wgs84_feature_collection_is_rejected(data: object, field: str | None) -> None:
    with pytest.raises(RegistryError) as caught:
        cameras_from_geojson(data, DEFAULTS)
    assert (caught.value.feature, caught.value.field) == (None, field)


def test_empty_feature_collection_is_an_empty_register() -> None:
    assert cameras_from_geojson(_collection(), DEFAULTS) == ([], [])


# --- files --------------------------------------------------------------------------------------


def test_load_reads_a_register_file(tmp_path: Path) -> None:
    path = tmp_path / "cameras.geojson"
    path.write_text(json.dumps(cameras_to_geojson(CAMERAS, SITES)), encoding="utf-8")
    assert cameras_from_geojson(load_geojson_file(path), DEFAULTS) == (SITES, CAMERAS)


def test_load_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "cameras.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_collection()).encode())
    assert load_geojson_file(path) == _collection()


def test_load_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"nope\.geojson: no such file"):
        load_geojson_file(tmp_path / "nope.geojson")


def test_load_rejects_a_directory(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="is a directory"):
        load_geojson_file(tmp_path)


def test_load_reports_line_and_column_of_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{\n  "type": "FeatureCollection",\n  "features": [,]\n}\n', encoding="utf-8")
    with pytest.raises(RegistryError, match=r"invalid JSON at line 3, column 16"):
        load_geojson_file(path)


def test_load_rejects_nan_literal(tmp_path: Path) -> None:
    path = tmp_path / "nan.geojson"
    path.write_text('{"coordinates": [NaN, 45]}', encoding="utf-8")
    with pytest.raises(RegistryError, match="NaN is not a JSON value"):
        load_geojson_file(path)


def test_load_rejects_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin2.geojson"
    path.write_bytes('{"name": "Jelačić"}'.encode("cp1250"))
    with pytest.raises(RegistryError, match="not UTF-8"):
        load_geojson_file(path)


def test_load_rejects_a_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.geojson"
    path.write_text(json.dumps(_collection()), encoding="utf-8")
    with pytest.raises(RegistryError, match="larger than the limit of 10"):
        load_geojson_file(path, max_bytes=10)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, False), (True, True), ("yes", True), ("no", False), (False, False)]
)
def test_import_reads_the_face_vector_policy(value: object, expected: bool) -> None:
    props = {} if value is None else {"safecity:retain_face_vectors": value}
    _, (cam,) = cameras_from_geojson(_collection(_feature(**props)), CameraDefaults())
    assert cam.retain_face_vectors is expected


def test_import_rejects_a_face_vector_policy_that_is_not_boolean() -> None:
    with pytest.raises(RegistryError, match="retain_face_vectors"):
        cameras_from_geojson(
            _collection(_feature(**{"safecity:retain_face_vectors": "maybe"})), CameraDefaults()
        )


def test_export_states_a_kept_face_vector_policy_in_the_public_register() -> None:
    import dataclasses

    kept = [dataclasses.replace(CAMERAS[0], retain_face_vectors=True), *CAMERAS[1:]]
    data = cameras_to_geojson(kept, SITES, public=True)
    assert _properties(data, 0)["safecity:retain_face_vectors"] is True
    assert "safecity:retain_face_vectors" not in _properties(data, 1)
    assert cameras_from_geojson(data, CameraDefaults())[1][0].retain_face_vectors
