"""A camera's plate countries: GeoJSON import and export, validation, the store, the command line."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from factories import camera, site
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.config import CameraDefaults
from safecity.registry.errors import RegistryError
from safecity.registry.geojson import PLATE_COUNTRIES, cameras_from_geojson, cameras_to_geojson
from safecity.registry.validation import parse_plate_countries, validate_camera
from safecity.store.cameras import CameraStore
from safecity.store.database import Database

DEFAULTS = CameraDefaults()
BELGRADE = ("RS", "HR", "DE")
"""Ordered, most frequent first; deliberately not in the formats' own priority order."""


def _feature(ref: str = "cam-1", **properties: object) -> dict[str, object]:
    props: dict[str, object] = {"man_made": "surveillance", "ref": ref, "name": f"Camera {ref}"}
    props.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [20.46, 44.80]},
        "properties": props,
    }


def _import(*features: dict[str, object]) -> tuple[str, ...]:
    _, cameras = cameras_from_geojson({"type": "FeatureCollection", "features": list(features)}, DEFAULTS)
    return cameras[-1].plate_countries


def _exported(countries: tuple[str, ...], *, public: bool = False) -> dict[str, object]:
    data = cameras_to_geojson([camera(plate_countries=countries)], [site()], public=public)
    features = data["features"]
    assert isinstance(features, list)
    properties = features[0]["properties"]
    assert isinstance(properties, dict)
    return properties


def test_round_trip_keeps_the_order() -> None:
    cam = camera(plate_countries=BELGRADE)
    assert cameras_from_geojson(cameras_to_geojson([cam], [site()]), DEFAULTS) == ([site()], [cam])


def test_export_writes_osm_multi_value_text() -> None:
    assert _exported(BELGRADE)[PLATE_COUNTRIES] == "RS;HR;DE"


@pytest.mark.parametrize(("countries", "public"), [((), False), (BELGRADE, True)])
def test_export_omits_default_and_public(countries: tuple[str, ...], public: bool) -> None:
    assert PLATE_COUNTRIES not in _exported(countries, public=public)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("RS;HR;DE", BELGRADE),
        (" rs ; hr;de; ", BELGRADE),
        (["RS", "hr", "DE"], BELGRADE),
        ("", ()),
        ([], ()),
    ],
)
def test_import_reads_text_or_list(value: object, expected: tuple[str, ...]) -> None:
    assert _import(_feature(**{PLATE_COUNTRIES: value})) == expected


def test_import_without_the_property_uses_the_deployment_default() -> None:
    assert _import(_feature()) == ()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("RS;XX", "no plate format for country 'XX'; known: "),
        (["RS", 7], "country codes must be text, got 7"),
        ("RS;HR;rs", "country RS is given twice"),
        (42, "must be text like 'RS;HR' or a list, got a number"),
        ({"RS": 1}, "must be text like 'RS;HR' or a list, got an object"),
    ],
)
def test_import_rejects_bad_codes_naming_feature_and_field(value: object, reason: str) -> None:
    with pytest.raises(RegistryError) as caught:
        _import(_feature("cam-0"), _feature("cam-7", **{PLATE_COUNTRIES: value}))
    error = caught.value
    assert (error.feature, error.field) == ("feature #1 (id=cam-7)", PLATE_COUNTRIES)
    assert reason in error.reason
    assert str(error).startswith("feature #1 (id=cam-7), field 'safecity:plate_countries': ")


def test_validate_camera_rejects_unknown_code() -> None:
    with pytest.raises(
        RegistryError, match="camera 'cam-1', field 'plate_countries': no plate format for country 'ZZ'"
    ):
        validate_camera(replace(camera(), plate_countries=("RS", "ZZ")))


def test_parse_refuses_a_number() -> None:
    with pytest.raises(RegistryError, match="must be a ';'-separated text or a list of country codes"):
        parse_plate_countries(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("countries", [(), BELGRADE])
def test_store_round_trip(db: Database, countries: tuple[str, ...]) -> None:
    store = CameraStore(db)
    store.save([site()], [camera(plate_countries=countries)])
    assert store.get("cam-1").plate_countries == countries


# ---------------------------------------------------------------- command line

runner = CliRunner()


def _add(*extra: str) -> tuple[int, str]:
    args = ["camera", "add", "cam-1", "--name", "x", "--lat", "44.8", "--lon", "20.4", *extra]
    result = runner.invoke(app, args)
    return result.exit_code, result.output


@pytest.mark.usefixtures("cli_data_dir")
def test_cli_add_keeps_the_order() -> None:
    assert _add("--plate-countries", "rs,HR;de")[0] == 0
    shown = json.loads(runner.invoke(app, ["camera", "list", "--json"]).output)
    assert shown["plate_countries"] == list(BELGRADE)


@pytest.mark.usefixtures("cli_data_dir")
def test_cli_add_rejects_unknown_code_naming_the_option() -> None:
    code, output = _add("--plate-countries", "RS,XX")
    assert code == 2 and "camera 'cam-1', --plate-countries: no plate format for country 'XX'" in output
