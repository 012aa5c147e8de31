"""The rules a registered camera and site must satisfy, checked in one place.

This module owns what "a valid camera" means: `validate_camera`, `validate_site`,
`parse_capabilities` and `parse_plate_countries`. Importers (GeoJSON, CLI, API) build the typed
records first and then call these, so every way into the registry enforces the same rules.
Every failure is a `RegistryError` naming the record and the field. Text lengths are those of the
table columns (`store.field_limits`), so a value the database would refuse (PostgreSQL) or keep
whatever its size (SQLite) is refused here, the same on both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from safecity.analytics.plates.formats import FORMATS
from safecity.registry.errors import RegistryError
from safecity.store.field_limits import CAMERA, SITE
from safecity.types import Camera, Capability, Site

ID_PATTERN = re.compile(rf"[A-Za-z0-9._:-]{{1,{CAMERA['id']}}}")
"""Camera and site ids: short, URL- and filename-safe, and readable in an audit log."""

STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https", "file"})
"""The sources the pipeline can open; anything else would fail only at run time."""

CAMERA_TYPES = frozenset({"fixed", "dome", "panning"})
"""The values of OpenStreetMap's `camera:type`, which the public register publishes."""

MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 3650
MAX_MOUNT_HEIGHT_M = 200.0

_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_NETWORK_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})
_KNOWN_CAPABILITIES = ", ".join(c.value for c in Capability)


def validate_camera(camera: Camera, *, feature: str | None = None) -> None:
    """Raise `RegistryError` for the first rule `camera` breaks; return None when it is valid.

    `feature` labels the record in the error (default ``"camera '<id>'"``); the error's `field` is
    the `Camera` attribute name.
    """
    try:
        _check_camera(camera)
    except RegistryError as error:
        label = feature if feature is not None else f"camera {shown(camera.id)}"
        raise RegistryError(error.reason, feature=label, field=error.field) from None


def validate_site(site: Site, *, feature: str | None = None) -> None:
    """Raise `RegistryError` for the first rule `site` breaks; return None when it is valid."""
    try:
        check_id(site.id, "id")
        check_text(site.name, "name", required=True, max_len=SITE["name"])
        check_latitude(site.latitude, "latitude")
        check_longitude(site.longitude, "longitude")
        check_text(site.address, "address", required=False, max_len=SITE["address"])
    except RegistryError as error:
        label = feature if feature is not None else f"site {shown(site.id)}"
        raise RegistryError(error.reason, feature=label, field=error.field) from None


def _multi_value(value: object, field: str, what: str) -> list[object]:
    """The items of an OpenStreetMap multi-value text (``"a;b"``) or of a list, for `field`."""
    if isinstance(value, str):
        return list(value.split(";"))
    if isinstance(value, Iterable):
        return list(value)
    raise RegistryError(
        f"must be a ';'-separated text or a list of {what}, got {type(value).__name__}", field=field
    )


def parse_capabilities(value: str | Iterable[str]) -> frozenset[Capability]:
    """Capabilities from ``"faces;plates"`` (OpenStreetMap multi-value style) or ``["faces", "plates"]``.

    Names are case-insensitive and surrounding blanks are ignored. Raises `RegistryError` (field
    ``"capabilities"``) naming an unknown capability, or when the result would be empty.
    """
    names = _multi_value(value, "capabilities", "names")
    found: set[Capability] = set()
    for name in names:
        if isinstance(name, Capability):
            found.add(name)
            continue
        if not isinstance(name, str):
            raise RegistryError(f"capability names must be text, got {shown(name)}", field="capabilities")
        key = name.strip().lower()
        if not key:
            # "faces;;plates" or a trailing ";" is a typing slip, not a capability.
            continue
        try:
            found.add(Capability(key))
        except ValueError:
            raise RegistryError(
                f"unknown capability {shown(name.strip())}; known: {_KNOWN_CAPABILITIES}",
                field="capabilities",
            ) from None
    if not found:
        raise RegistryError(f"must name at least one of: {_KNOWN_CAPABILITIES}", field="capabilities")
    return frozenset(found)


def parse_plate_countries(value: str | Iterable[str]) -> tuple[str, ...]:
    """Plate countries from ``"RS;HR"`` (OpenStreetMap multi-value style) or ``["RS", "HR"]``, in order.

    Codes are case-insensitive, surrounding blanks and empty items are ignored; the result may be
    empty (the deployment's default applies). Raises `RegistryError` (field ``"plate_countries"``)
    naming a code that has no plate format, or one given twice.
    """
    codes: list[str] = []
    for item in _multi_value(value, "plate_countries", "country codes"):
        if not isinstance(item, str):
            raise RegistryError(f"country codes must be text, got {shown(item)}", field="plate_countries")
        if item.strip():
            codes.append(item.strip().upper())
    result = tuple(codes)
    check_plate_countries(result, "plate_countries")
    return result


def _check_camera(camera: Camera) -> None:
    check_id(camera.id, "id")
    check_text(camera.name, "name", required=True, max_len=CAMERA["name"])
    check_id(camera.site_id, "site_id")
    check_latitude(camera.latitude, "latitude")
    check_longitude(camera.longitude, "longitude")
    check_heading(camera.heading_deg, "heading_deg")
    check_mount_height(camera.mount_height_m, "mount_height_m")
    check_text(camera.operator, "operator", required=False, max_len=CAMERA["operator"])
    check_capabilities(camera.capabilities, "capabilities")
    check_stream_url(camera.stream_url, "stream_url")
    check_retention_days(camera.retention_days, "retention_days")
    check_text(camera.legal_basis, "legal_basis", required=False, max_len=CAMERA["legal_basis"])
    if not isinstance(camera.enabled, bool):
        raise RegistryError(f"must be true or false, got {camera.enabled!r}", field="enabled")
    check_text(camera.zone, "zone", required=True, max_len=CAMERA["zone"])
    check_camera_type(camera.camera_type, "camera_type")
    check_plate_countries(camera.plate_countries, "plate_countries")


# The single-value checks below raise RegistryError with `field` set and no `feature`; the
# public validators add the record label, and importers may re-label the field.


def check_id(value: object, field: str) -> None:
    if not isinstance(value, str):
        raise RegistryError(f"must be text, got {shown(value)}", field=field)
    if not value:
        raise RegistryError("must not be empty", field=field)
    if ID_PATTERN.fullmatch(value) is None:
        raise RegistryError(
            f"must be 1-{CAMERA['id']} characters of letters, digits, '.', '_', ':' or '-', "
            f"got {shown(value)}",
            field=field,
        )


def check_text(value: object, field: str, *, required: bool, max_len: int) -> None:
    if not isinstance(value, str):
        raise RegistryError(f"must be text, got {shown(value)}", field=field)
    if required and not value.strip():
        raise RegistryError("must not be empty", field=field)
    check_length(value, field, max_len)


def check_length(value: str, field: str, max_len: int) -> None:
    """Refuse a text longer than its column takes, saying the limit and the length (never the text)."""
    if len(value) > max_len:
        raise RegistryError(f"must be at most {max_len} characters, got {len(value)}", field=field)


def shown(value: object, limit: int = 80) -> str:
    """`repr(value)` cut to `limit` characters, so an error never echoes a megabyte back."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}...({len(text)} characters)"


def check_latitude(value: object, field: str) -> None:
    _check_range(value, field, -90.0, 90.0, low_open=False, high_open=False)


def check_longitude(value: object, field: str) -> None:
    _check_range(value, field, -180.0, 180.0, low_open=False, high_open=False)


def check_heading(value: object, field: str) -> None:
    if value is not None:
        # 360 is excluded so that every direction has exactly one value (north is 0).
        _check_range(value, field, 0.0, 360.0, low_open=False, high_open=True)


def check_mount_height(value: object, field: str) -> None:
    if value is not None:
        _check_range(value, field, 0.0, MAX_MOUNT_HEIGHT_M, low_open=True, high_open=False)


def check_retention_days(value: object, field: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise RegistryError(f"must be a whole number of days, got {value!r}", field=field)
    if not MIN_RETENTION_DAYS <= value <= MAX_RETENTION_DAYS:
        raise RegistryError(
            f"must be between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days, got {value}", field=field
        )


def check_capabilities(value: object, field: str) -> None:
    if not isinstance(value, frozenset):
        raise RegistryError(f"must be a frozenset of Capability, got {type(value).__name__}", field=field)
    if not value:
        raise RegistryError(f"must name at least one of: {_KNOWN_CAPABILITIES}", field=field)
    for item in value:
        if not isinstance(item, Capability):
            raise RegistryError(
                f"unknown capability {shown(item)}; known: {_KNOWN_CAPABILITIES}", field=field
            )


def check_stream_url(value: object, field: str) -> None:
    if not isinstance(value, str):
        raise RegistryError(f"must be text, got {shown(value)}", field=field)
    if not value:
        return  # a camera may be registered (and published) before it is connected
    check_length(value, field, CAMERA["stream_url"])
    if _BLANK_OR_CONTROL.search(value) is not None:
        raise RegistryError("must not contain blanks or control characters; percent-encode them", field=field)
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as error:
        raise RegistryError(f"is not a valid URL ({error})", field=field) from None
    scheme = parts.scheme.lower()
    allowed = ", ".join(sorted(STREAM_SCHEMES))
    if not scheme:
        raise RegistryError(f"must start with a scheme ({allowed}), got no scheme", field=field)
    if scheme not in STREAM_SCHEMES:
        raise RegistryError(f"scheme must be one of {allowed}, got {shown(parts.scheme)}", field=field)
    if scheme in _NETWORK_SCHEMES and not host:
        raise RegistryError(f"a {scheme} URL must name a host", field=field)
    if scheme == "file" and not parts.path:
        raise RegistryError("a file URL must name a path", field=field)


def check_camera_type(value: object, field: str) -> None:
    if not isinstance(value, str) or value not in CAMERA_TYPES:
        raise RegistryError(
            f"must be one of {', '.join(sorted(CAMERA_TYPES))}, got {shown(value)}", field=field
        )


def check_plate_countries(value: object, field: str) -> None:
    """Every code names a plate format (`safecity.analytics.plates.formats.FORMATS`), once each."""
    if not isinstance(value, tuple):
        raise RegistryError(f"must be a tuple of country codes, got {type(value).__name__}", field=field)
    known = ", ".join(FORMATS)
    seen: set[object] = set()
    for code in value:
        if not isinstance(code, str) or code not in FORMATS:
            raise RegistryError(f"no plate format for country {shown(code)}; known: {known}", field=field)
        if code in seen:
            raise RegistryError(f"country {code} is given twice", field=field)
        seen.add(code)
    check_length(";".join(value), field, CAMERA["plate_countries"])


def _check_range(
    value: object, field: str, low: float, high: float, *, low_open: bool, high_open: bool
) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise RegistryError(f"must be a number, got {value!r}", field=field)
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float is out of any range we accept
        number = math.inf
    if not math.isfinite(number):
        raise RegistryError(f"must be a finite number, got {value!r}", field=field)
    too_low = number <= low if low_open else number < low
    too_high = number >= high if high_open else number > high
    if too_low or too_high:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise RegistryError(f"must be in {interval}, got {value!r}", field=field)
