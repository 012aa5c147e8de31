"""The camera register as GeoJSON with OpenStreetMap surveillance tags: export, import, file loading.

This module owns the register's file format. Each camera is one Point feature ([longitude,
latitude]) tagged as OpenStreetMap maps cameras (https://wiki.openstreetmap.org/wiki/Key:surveillance):
``man_made=surveillance``, ``surveillance=public``, ``surveillance:type=camera|ALPR``,
``surveillance:zone``, ``camera:type``, ``camera:direction``, ``height``, ``operator``, ``ref``
(the camera id) and ``name``. What OSM has no tag for is kept under our own ``safecity:`` prefix:

=========================  ==============================================================
``safecity:site``          site id; features sharing it share one `Site`
``safecity:site_name``     site name
``safecity:site_address``  site address (omitted when empty)
``safecity:site_latitude`` site position, written only where it differs from the camera's
``safecity:site_longitude``
``safecity:capabilities``  ``;``-separated, OSM multi-value style: ``"faces;plates"``
``safecity:stream_url``    omitted from the public export (credentials, network addresses)
``safecity:retention_days``  integer
``safecity:legal_basis``   text
``safecity:enabled``       boolean; disabled cameras stay in the public register
``safecity:retain_face_vectors``  boolean; keep embeddings of faces matching no watchlist (default no)
``safecity:counting``      object: counting ``lines`` (``name``, two ``points`` [x, y] in the
                           camera's pixels, ``in_direction``, ``out_direction``), ``zones``
                           (``name``, ``polygon``), ``method`` (tracks/loop), ``anchor``;
                           omitted from the public export
``safecity:plate_countries``  plate countries the camera expects, most frequent first:
                           ``;``-separated ISO codes (``"RS;HR"``) or a list; omitted when
                           empty (the deployment's ``plates.countries`` apply) and from the
                           public export (reader tuning, not what or where it records)
=========================  ==============================================================

OSM tag values are written as text, as OSM stores them (``"camera:direction": "90"``); on import
both text and JSON numbers are accepted. Import parses straight into `Site` and `Camera` and runs
the same validation as every other way into the registry; any problem is a `RegistryError`
naming the feature (``"feature #12 (id=cam-0012)"``, index counted from 0 as in
``features[12]``) and the property.

Round trip: ``cameras_from_geojson(cameras_to_geojson(cameras, sites), d) == (sites, cameras)``
whenever every site holds at least one camera and `sites` is in the order the cameras first use
them (the file has no place for a site without a camera, and sites come back in that order).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeGuard, TypeVar

from pydantic import ValidationError

from safecity.config import CameraDefaults, CountingGeometry, counting_from_json, counting_to_json
from safecity.registry.errors import RegistryError
from safecity.registry.validation import (
    ID_PATTERN,
    check_id,
    check_latitude,
    check_longitude,
    parse_capabilities,
    parse_plate_countries,
    validate_camera,
    validate_site,
)
from safecity.store.field_limits import SITE as SITE_LIMITS
from safecity.types import Camera, Capability, RecordingMode, Site

_T = TypeVar("_T")

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
"""Largest register file `load_geojson_file` reads: 50 MiB, about 50,000 cameras at ~1 KiB each."""

# OpenStreetMap keys.
MAN_MADE = "man_made"
SURVEILLANCE = "surveillance"
SURVEILLANCE_TYPE = "surveillance:type"
SURVEILLANCE_ZONE = "surveillance:zone"
CAMERA_TYPE = "camera:type"
CAMERA_DIRECTION = "camera:direction"
CAMERA_MOUNT = "camera:mount"
HEIGHT = "height"
OPERATOR = "operator"
REF = "ref"
NAME = "name"
# Our own keys.
SITE = "safecity:site"
SITE_NAME = "safecity:site_name"
SITE_ADDRESS = "safecity:site_address"
SITE_LATITUDE = "safecity:site_latitude"
SITE_LONGITUDE = "safecity:site_longitude"
CAPABILITIES = "safecity:capabilities"
STREAM_URL = "safecity:stream_url"
RETENTION_DAYS = "safecity:retention_days"
LEGAL_BASIS = "safecity:legal_basis"
ENABLED = "safecity:enabled"
RETAIN_FACE_VECTORS = "safecity:retain_face_vectors"
COUNTING = "safecity:counting"
PLATE_COUNTRIES = "safecity:plate_countries"
RECORDING = "safecity:recording"
GEOMETRY = "geometry"
COORDINATES = "geometry.coordinates"

_SAFECITY_KEYS = frozenset(
    {
        SITE,
        SITE_NAME,
        SITE_ADDRESS,
        SITE_LATITUDE,
        SITE_LONGITUDE,
        CAPABILITIES,
        STREAM_URL,
        RETENTION_DAYS,
        LEGAL_BASIS,
        ENABLED,
        RETAIN_FACE_VECTORS,
        COUNTING,
        PLATE_COUNTRIES,
        RECORDING,
        # Derived, for readers of the public register (governance/register.py); ignored on import,
        # since `safecity:capabilities` already says it.
        "safecity:analyses_faces",
        "safecity:analyses_plates",
    }
)
_SURVEILLANCE_VALUES = ("public", "outdoor", "indoor")

# Which property to blame when validation rejects a Camera/Site field built from it.
_CAMERA_FIELD_KEYS = {
    "id": REF,
    "name": NAME,
    "site_id": SITE,
    "latitude": COORDINATES,
    "longitude": COORDINATES,
    "heading_deg": CAMERA_DIRECTION,
    "mount_height_m": HEIGHT,
    "operator": OPERATOR,
    "capabilities": CAPABILITIES,
    "stream_url": STREAM_URL,
    "retention_days": RETENTION_DAYS,
    "legal_basis": LEGAL_BASIS,
    "enabled": ENABLED,
    "retain_face_vectors": RETAIN_FACE_VECTORS,
    "counting": COUNTING,
    "plate_countries": PLATE_COUNTRIES,
    "recording": RECORDING,
    "zone": SURVEILLANCE_ZONE,
    "camera_type": CAMERA_TYPE,
}
_SITE_FIELD_KEYS = {
    "id": SITE,
    "name": SITE_NAME,
    "address": SITE_ADDRESS,
    "latitude": SITE_LATITUDE,
    "longitude": SITE_LONGITUDE,
}

# OSM allows camera:direction as a compass point as well as degrees.
_COMPASS = {
    name: index * 22.5
    for index, name in enumerate(
        ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
    )
}
_DECIMAL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_TEXT = re.compile(rf"\s*({_DECIMAL})\s*")
_METRES_TEXT = re.compile(rf"\s*({_DECIMAL})\s*(?:m)?\s*")
_INTEGER_TEXT = re.compile(r"\s*([+-]?\d+)\s*")
_WGS84_CRS_NAMES = frozenset(
    {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326"}
)


# ---------------------------------------------------------------------------------------------
# Export


def cameras_to_geojson(
    cameras: Sequence[Camera], sites: Sequence[Site], *, public: bool = False
) -> dict[str, object]:
    """The register as a GeoJSON FeatureCollection (a JSON-ready dict), one Point per camera, in order.

    With ``public=True`` the stream URL is left out, since it may hold credentials and internal
    network addresses; everything else stays, disabled cameras included, because the public
    must see every camera. Raises `RegistryError` for an invalid camera or site, a duplicate id,
    or a camera whose site is not in `sites`. Sites without cameras are not written.
    """
    site_by_id: dict[str, Site] = {}
    for site in sites:
        validate_site(site)
        if site.id in site_by_id:
            raise RegistryError("duplicate site id", feature=f"site {site.id!r}", field="id")
        site_by_id[site.id] = site
    seen: set[str] = set()
    features: list[dict[str, object]] = []
    for camera in cameras:
        validate_camera(camera)
        if camera.id in seen:
            raise RegistryError("duplicate camera id", feature=f"camera {camera.id!r}", field="id")
        seen.add(camera.id)
        camera_site = site_by_id.get(camera.site_id)
        if camera_site is None:
            raise RegistryError(
                f"site {camera.site_id!r} is not among the sites given",
                feature=f"camera {camera.id!r}",
                field="site_id",
            )
        features.append(_camera_feature(camera, camera_site, public=public))
    return {"type": "FeatureCollection", "features": features}


def _camera_feature(camera: Camera, site: Site, *, public: bool) -> dict[str, object]:
    properties: dict[str, object] = {
        MAN_MADE: "surveillance",
        # A city register lists cameras that watch public space; `Camera` has no indoor/outdoor flag.
        SURVEILLANCE: "public",
        SURVEILLANCE_TYPE: "ALPR" if Capability.PLATES in camera.capabilities else "camera",
        SURVEILLANCE_ZONE: camera.zone,
        CAMERA_TYPE: camera.camera_type,
    }
    if camera.heading_deg is not None:
        properties[CAMERA_DIRECTION] = _osm_number(camera.heading_deg)
    if camera.mount_height_m is not None:
        properties[HEIGHT] = _osm_number(camera.mount_height_m)
    # operator and legal_basis are written even when empty: on import a missing key means "take
    # the configured default", so omitting an empty value would not round-trip.
    properties[OPERATOR] = camera.operator
    properties[REF] = camera.id
    properties[NAME] = camera.name
    properties[SITE] = site.id
    properties[SITE_NAME] = site.name
    if site.address:
        properties[SITE_ADDRESS] = site.address
    if (site.latitude, site.longitude) != (camera.latitude, camera.longitude):
        properties[SITE_LATITUDE] = site.latitude
        properties[SITE_LONGITUDE] = site.longitude
    # Enum order, so the same camera always exports the same text.
    properties[CAPABILITIES] = ";".join(c.value for c in Capability if c in camera.capabilities)
    if not public and camera.stream_url:
        properties[STREAM_URL] = camera.stream_url
    properties[RETENTION_DAYS] = camera.retention_days
    properties[LEGAL_BASIS] = camera.legal_basis
    properties[ENABLED] = camera.enabled
    # Written only when on (absent means off), and in the public register too: it is policy.
    if camera.retain_face_vectors:
        properties[RETAIN_FACE_VECTORS] = True
    if not public and camera.counting is not None:
        properties[COUNTING] = counting_to_json(camera.counting)
    if not public and camera.plate_countries:
        properties[PLATE_COUNTRIES] = ";".join(camera.plate_countries)
    # Public: whether a camera records its video is a fact a city publishes (with how long, below).
    if camera.recording is not RecordingMode.NONE:
        properties[RECORDING] = str(camera.recording)
    return {
        "type": "Feature",
        "id": camera.id,
        "geometry": {"type": "Point", "coordinates": [camera.longitude, camera.latitude]},
        "properties": properties,
    }


def _osm_number(value: float) -> str:
    """OSM-style text: "90" rather than "90.0"; otherwise repr, which float() reads back exactly."""
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


# ---------------------------------------------------------------------------------------------
# Import


def cameras_from_geojson(data: object, defaults: CameraDefaults) -> tuple[list[Site], list[Camera]]:
    """Sites and cameras from a parsed GeoJSON FeatureCollection, in file order, fully validated.

    Missing ``safecity:retention_days``, ``operator`` and ``safecity:legal_basis`` take `defaults`;
    missing ``safecity:capabilities`` follow ``surveillance:type`` (ALPR: plates and motion;
    camera: motion). A feature without ``safecity:site`` gets a site of its own, ``site-<ref>``,
    named after the camera. A shared site takes its position from ``safecity:site_latitude`` /
    ``safecity:site_longitude`` if some feature gives them, else from its first camera; its name
    and address may be given on any of its features, but not differently on two of them.
    Raises `RegistryError` naming the feature and the property at the first problem.
    """
    if not isinstance(data, dict):
        raise RegistryError(f"expected a GeoJSON FeatureCollection object, got {_json_type(data)}")
    if data.get("type") != "FeatureCollection":
        raise RegistryError(
            f"expected a GeoJSON FeatureCollection, got type {_short(data.get('type'))}", field="type"
        )
    _check_crs(data.get("crs"))
    features = data.get("features")
    if not isinstance(features, list):
        raise RegistryError(f"must be a list of features, got {_json_type(features)}", field="features")

    cameras: list[Camera] = []
    first_use: dict[str, str] = {}
    sites: dict[str, _SiteDraft] = {}
    for index, raw in enumerate(features):
        reader = _FeatureReader(index, raw)
        camera, claim = reader.camera(defaults)
        if camera.id in first_use:
            reader.fail(REF, f"duplicate camera id, first used by {first_use[camera.id]}")
        first_use[camera.id] = reader.label
        _add_to_site(sites, claim, camera, reader)
        cameras.append(camera)
    return [draft.build() for draft in sites.values()], cameras


@dataclass(slots=True)
class _SiteClaim:
    """What one feature says about its site; several claims are merged into one `Site`."""

    site_id: str
    derived: bool
    name: str | None
    address: str | None
    position: tuple[float, float] | None


@dataclass(slots=True)
class _SiteDraft:
    site_id: str
    derived: bool
    first_label: str
    latitude: float
    longitude: float
    explicit_position: bool
    name: str | None = None
    name_label: str = ""
    address: str | None = None
    address_label: str = ""
    fallback_name: str = ""

    def build(self) -> Site:
        site = Site(
            id=self.site_id,
            name=self.name if self.name is not None else self.fallback_name,
            latitude=self.latitude,
            longitude=self.longitude,
            address=self.address if self.address is not None else "",
        )
        try:
            validate_site(site)
        except RegistryError as error:  # every part was checked on its own; this is a safety net
            field = _SITE_FIELD_KEYS.get(error.field or "", error.field)
            raise RegistryError(error.reason, feature=self.first_label, field=field) from None
        return site


def _add_to_site(
    sites: dict[str, _SiteDraft], claim: _SiteClaim, camera: Camera, reader: _FeatureReader
) -> None:
    draft = sites.get(claim.site_id)
    if draft is None:
        position = claim.position if claim.position is not None else (camera.latitude, camera.longitude)
        draft = _SiteDraft(
            site_id=claim.site_id,
            derived=claim.derived,
            first_label=reader.label,
            latitude=position[0],
            longitude=position[1],
            explicit_position=claim.position is not None,
            # A camera's own site is best known by the camera's name; a shared one by its id.
            fallback_name=camera.name if claim.derived else claim.site_id,
        )
        sites[claim.site_id] = draft
    elif draft.derived or claim.derived:
        # Without this check a camera's own site would silently absorb an unrelated camera.
        if claim.derived:
            reader.fail(
                SITE,
                f"is missing, and the site id derived from the ref, {claim.site_id!r}, is already used by "
                f"{draft.first_label}; give this feature a safecity:site",
            )
        reader.fail(
            SITE,
            f"{claim.site_id!r} is the site id derived for {draft.first_label}, which has no "
            "safecity:site; choose another id or give that feature a safecity:site",
        )
    elif claim.position is not None and not draft.explicit_position:
        # An explicit site position wins over the first camera's position; conflicting explicit
        # positions are tolerated and the first one kept.
        draft.latitude, draft.longitude = claim.position
        draft.explicit_position = True

    if claim.name is not None:
        if draft.name is not None and draft.name != claim.name:
            reader.fail(
                SITE_NAME,
                f"{_short(claim.name)} conflicts with {_short(draft.name)} given by {draft.name_label} "
                f"for site {claim.site_id!r}",
            )
        if draft.name is None:
            draft.name, draft.name_label = claim.name, reader.label
    if claim.address is not None:
        if draft.address is not None and draft.address != claim.address:
            reader.fail(
                SITE_ADDRESS,
                f"{_short(claim.address)} conflicts with {_short(draft.address)} given by "
                f"{draft.address_label} for site {claim.site_id!r}",
            )
        if draft.address is None:
            draft.address, draft.address_label = claim.address, reader.label


class _FeatureReader:
    """Reads one feature's JSON into typed values; every failure names this feature and the key."""

    def __init__(self, index: int, raw: object) -> None:
        self.label = f"feature #{index}"
        if not isinstance(raw, dict):
            self.fail(None, f"must be a GeoJSON Feature object, got {_json_type(raw)}")
        if raw.get("type") != "Feature":
            self.fail("type", f"must be 'Feature', got {_short(raw.get('type'))}")
        properties = raw.get("properties")
        if not isinstance(properties, dict):
            self.fail("properties", f"must be an object of tags, got {_json_type(properties)}")
        self.raw: dict[str, object] = raw
        self.props: dict[str, object] = properties
        ref = self.props.get(REF)
        if isinstance(ref, int) and not isinstance(ref, bool):
            ref = str(ref)
        if isinstance(ref, str) and ID_PATTERN.fullmatch(ref):
            self.label = f"feature #{index} (id={ref})"
        elif ref is None:
            self.label = f"feature #{index} (no ref)"
        else:
            self.label = f"feature #{index} (ref={str(ref)[:70]!r})"

    def fail(self, field: str | None, reason: str) -> NoReturn:
        raise RegistryError(reason, feature=self.label, field=field)

    def camera(self, defaults: CameraDefaults) -> tuple[Camera, _SiteClaim]:
        ref = self._ref()
        longitude, latitude = self._point()
        self._check_osm_tags()
        capabilities = self._capabilities()
        site_text = self._text(SITE)
        if site_text is None:
            site_id, derived = _derived_site_id(ref), True
        else:
            self._check(SITE, lambda: check_id(site_text, SITE))
            site_id, derived = site_text, False
        camera = Camera(
            id=ref,
            name=self._required_text(NAME),
            site_id=site_id,
            latitude=latitude,
            longitude=longitude,
            heading_deg=self._direction(),
            mount_height_m=self._height(),
            operator=self._text_or(OPERATOR, defaults.operator),
            capabilities=capabilities,
            stream_url=self._text_or(STREAM_URL, ""),
            retention_days=self._retention_days(defaults.retention_days),
            legal_basis=self._text_or(LEGAL_BASIS, defaults.legal_basis),
            enabled=self._flag(ENABLED, default=True),
            retain_face_vectors=self._flag(RETAIN_FACE_VECTORS, default=False),
            counting=self._counting(),
            plate_countries=self._plate_countries(),
            recording=self._recording(),
            zone=self._text_or(SURVEILLANCE_ZONE, "town"),
            camera_type=self._text_or(CAMERA_TYPE, "fixed"),
        )
        try:
            validate_camera(camera)
        except RegistryError as error:
            self.fail(_CAMERA_FIELD_KEYS.get(error.field or "", error.field), error.reason)
        site_name = self._text(SITE_NAME)
        if site_name is not None and not site_name.strip():
            self.fail(SITE_NAME, "must not be empty")
        address = self._text(SITE_ADDRESS)
        # Checked here, not only when the site is built: the conflict messages below quote them.
        limits = (
            (SITE_NAME, site_name, SITE_LIMITS["name"]),
            (SITE_ADDRESS, address, SITE_LIMITS["address"]),
        )
        for key, text, limit in limits:
            if text is not None and len(text) > limit:
                self.fail(key, f"must be at most {limit} characters, got {len(text)}")
        claim = _SiteClaim(
            site_id=site_id,
            derived=derived,
            name=site_name,
            address=address,
            position=self._site_position(),
        )
        return camera, claim

    # -- single properties -------------------------------------------------------------------

    def _ref(self) -> str:
        ref = self.props.get(REF)
        if ref is None:
            self.fail(REF, "is missing; every camera needs its id in 'ref'")
        if isinstance(ref, int) and not isinstance(ref, bool):
            ref = str(ref)  # OSM refs are often plain numbers
        if not isinstance(ref, str):
            self.fail(REF, f"must be text, got {_json_type(ref)}")
        self._check(REF, lambda: check_id(ref, REF))
        return ref

    def _point(self) -> tuple[float, float]:
        geometry = self.raw.get(GEOMETRY)
        if geometry is None:
            self.fail(GEOMETRY, "is missing or null; a camera needs a Point")
        if not isinstance(geometry, dict):
            self.fail(GEOMETRY, f"must be a GeoJSON geometry object, got {_json_type(geometry)}")
        if geometry.get("type") != "Point":
            self.fail(GEOMETRY, f"must be a Point, got {_short(geometry.get('type'))}")
        coordinates = geometry.get("coordinates")
        if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
            self.fail(COORDINATES, f"must be [longitude, latitude], got {_short(coordinates)}")
        lon, lat = coordinates[0], coordinates[1]
        # The error says which of the two is wrong: swapped coordinates are the usual mistake.
        self._check(COORDINATES, lambda: check_longitude(lon, "longitude"), "longitude (first value) ")
        self._check(COORDINATES, lambda: check_latitude(lat, "latitude"), "latitude (second value) ")
        return float(lon), float(lat)

    def _check_osm_tags(self) -> None:
        man_made = self.props.get(MAN_MADE)
        if man_made is not None and man_made != "surveillance":
            self.fail(MAN_MADE, f"must be 'surveillance' for a camera, got {_short(man_made)}")
        surveillance = self.props.get(SURVEILLANCE)
        if surveillance is not None and surveillance not in _SURVEILLANCE_VALUES:
            self.fail(
                SURVEILLANCE, f"must be one of {', '.join(_SURVEILLANCE_VALUES)}, got {_short(surveillance)}"
            )
        # camera:mount (pole, wall, ...) is accepted but not kept: `Camera` has no field for it.
        self._text(CAMERA_MOUNT)
        for key in self.props:
            if key.startswith("safecity:") and key not in _SAFECITY_KEYS:
                self.fail(key, f"unknown safecity property; known: {', '.join(sorted(_SAFECITY_KEYS))}")

    def _capabilities(self) -> frozenset[Capability]:
        surveillance_type = self.props.get(SURVEILLANCE_TYPE)
        alpr: bool | None = None
        if surveillance_type is not None:
            kind = surveillance_type.lower() if isinstance(surveillance_type, str) else None
            if kind == "guard":
                self.fail(SURVEILLANCE_TYPE, "'guard' is a human guard, not a camera")
            if kind not in ("camera", "alpr"):
                self.fail(SURVEILLANCE_TYPE, f"must be 'camera' or 'ALPR', got {_short(surveillance_type)}")
            alpr = kind == "alpr"
        raw = self.props.get(CAPABILITIES)
        if raw is None:
            if alpr:
                return frozenset({Capability.PLATES, Capability.MOTION})
            return frozenset({Capability.MOTION})
        if not isinstance(raw, str | list):
            self.fail(CAPABILITIES, f"must be text like 'faces;plates' or a list, got {_json_type(raw)}")
        capabilities = self._check(CAPABILITIES, lambda: parse_capabilities(raw))
        # The two would disagree in the published register: OSM readers see surveillance:type.
        if alpr is not None and alpr != (Capability.PLATES in capabilities):
            self.fail(
                SURVEILLANCE_TYPE,
                f"{_short(surveillance_type)} contradicts safecity:capabilities {_short(raw)}: ALPR if and "
                "only if the camera reads plates",
            )
        return capabilities

    def _plate_countries(self) -> tuple[str, ...]:
        raw = self.props.get(PLATE_COUNTRIES)
        if raw is None:
            return ()
        if not isinstance(raw, str | list):
            self.fail(PLATE_COUNTRIES, f"must be text like 'RS;HR' or a list, got {_json_type(raw)}")
        return self._check(PLATE_COUNTRIES, lambda: parse_plate_countries(raw))

    def _direction(self) -> float | None:
        value = self.props.get(CAMERA_DIRECTION)
        if value is None:
            return None
        if _is_number(value):
            return float(value)
        if isinstance(value, str):
            match = _NUMBER_TEXT.fullmatch(value)
            if match:
                return float(match.group(1))
            compass = _COMPASS.get(value.strip().upper())
            if compass is not None:
                return compass
        self.fail(
            CAMERA_DIRECTION, f"must be degrees (0 to <360) or a compass point like NE, got {_short(value)}"
        )

    def _height(self) -> float | None:
        value = self.props.get(HEIGHT)
        if value is None:
            return None
        if _is_number(value):
            return float(value)
        if isinstance(value, str):
            match = _METRES_TEXT.fullmatch(value)
            if match:
                return float(match.group(1))
        self.fail(HEIGHT, f"must be metres like '6' or '6.5 m', got {_short(value)}")

    def _retention_days(self, default: int) -> int:
        value = self.props.get(RETENTION_DAYS)
        if value is None:
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)  # some writers emit 30.0 for 30
        if isinstance(value, str):
            match = _INTEGER_TEXT.fullmatch(value)
            if match:
                return int(match.group(1))
        self.fail(RETENTION_DAYS, f"must be a whole number of days, got {_short(value)}")

    def _counting(self) -> CountingGeometry | None:
        value = self.props.get(COUNTING)
        if value is None:
            return None
        try:
            return counting_from_json(value)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'counting'}: {e['msg']}" for e in exc.errors()
            )
            self.fail(COUNTING, problems)
        except ValueError as exc:
            self.fail(COUNTING, str(exc))

    def _flag(self, key: str, *, default: bool) -> bool:
        value = self.props.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            # OSM writes booleans as yes/no.
            word = value.strip().lower()
            if word in ("yes", "true"):
                return True
            if word in ("no", "false"):
                return False
        self.fail(key, f"must be true or false, got {_short(value)}")

    def _site_position(self) -> tuple[float, float] | None:
        lat, lon = self.props.get(SITE_LATITUDE), self.props.get(SITE_LONGITUDE)
        if lat is None and lon is None:
            return None
        if lat is None or lon is None:
            missing = SITE_LATITUDE if lat is None else SITE_LONGITUDE
            self.fail(missing, "is missing; give both site coordinates or neither")
        self._check(SITE_LATITUDE, lambda: check_latitude(lat, SITE_LATITUDE))
        self._check(SITE_LONGITUDE, lambda: check_longitude(lon, SITE_LONGITUDE))
        if not (_is_number(lat) and _is_number(lon)):  # unreachable after the checks; narrows types
            self.fail(SITE_LATITUDE, "must be numbers")
        return float(lat), float(lon)

    def _text(self, key: str) -> str | None:
        value = self.props.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(key, f"must be text, got {_json_type(value)} {_short(value)}")
        return value

    def _recording(self) -> RecordingMode:
        value = self._text_or(RECORDING, "none")
        modes = [m.value for m in RecordingMode]
        if value not in modes:
            self.fail(RECORDING, f"must be one of {', '.join(modes)}, got {_short(value)}")
        return RecordingMode(value)

    def _text_or(self, key: str, default: str) -> str:
        value = self._text(key)
        return default if value is None else value

    def _required_text(self, key: str) -> str:
        value = self._text(key)
        if value is None:
            self.fail(key, "is missing")
        return value

    def _check(self, key: str, check: Callable[[], _T], prefix: str = "") -> _T:
        """Run a validation check and re-raise its error under this feature and `key`."""
        try:
            return check()
        except RegistryError as error:
            self.fail(key, prefix + error.reason)


def _derived_site_id(ref: str) -> str:
    site_id = f"site-{ref}"
    if len(site_id) <= SITE_LIMITS["id"]:
        return site_id
    # Long refs: a stable digest keeps the id within the 64-character limit and unique.
    return "site-" + hashlib.sha256(ref.encode()).hexdigest()[:24]


def _check_crs(crs: object) -> None:
    """Reject the pre-RFC 7946 `crs` member when it names anything but WGS 84 longitude/latitude."""
    if crs is None:
        return
    name = None
    if isinstance(crs, dict):
        properties = crs.get("properties")
        if isinstance(properties, dict):
            name = properties.get("name")
    if name not in _WGS84_CRS_NAMES:
        raise RegistryError(
            f"coordinates must be WGS 84 longitude/latitude (RFC 7946), got crs {_short(crs)}; "
            "reproject the file, e.g. ogr2ogr -t_srs EPSG:4326",
            field="crs",
        )


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------------------------------------
# Files


def load_geojson_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> object:
    """Read and parse a register file (UTF-8 JSON) without interpreting it.

    Raises `RegistryError` for a missing or unreadable file, a file larger than `max_bytes`
    (default `DEFAULT_MAX_BYTES`, 50 MiB: the limit keeps an upload from exhausting memory),
    text that is not UTF-8, and invalid JSON (with line and column). NaN and Infinity, which
    Python's json module would otherwise accept, are rejected as the JSON standard requires.
    """
    path = Path(path)
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > max_bytes:
                raise RegistryError(f"{path}: file is {size:,} bytes, larger than the limit of {max_bytes:,}")
            # Read one byte past the limit: st_size is 0 for pipes and may be stale for growing files.
            raw = stream.read(max_bytes + 1)
    except FileNotFoundError:
        raise RegistryError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RegistryError(f"{path}: is a directory, not a GeoJSON file") from None
    except OSError as error:
        raise RegistryError(f"{path}: cannot read ({error.strerror or error})") from None
    if len(raw) > max_bytes:
        raise RegistryError(f"{path}: file is larger than the limit of {max_bytes:,} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RegistryError(f"{path}: not UTF-8 text (invalid byte at offset {error.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise RegistryError(
            f"{path}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except _NonStandardConstant as error:
        raise RegistryError(f"{path}: invalid JSON: {error.args[0]} is not a JSON value") from None
    except (ValueError, RecursionError) as error:  # e.g. a 5,000-digit number, or nesting too deep
        raise RegistryError(f"{path}: invalid JSON: {error}") from None


class _NonStandardConstant(Exception):
    pass


def _reject_constant(name: str) -> NoReturn:
    raise _NonStandardConstant(name)
