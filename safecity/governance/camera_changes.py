"""The one function per camera register change behind the API and the web pages (and, for an
import, `safecity camera import`'s rules): a camera added, changed (enabled, disabled, its counting
lines), or a GeoJSON register imported. Each validates through `registry.validation`, saves through
the camera store's all-or-nothing `save` and writes the `camera_change` audit entry, so a change
reads the same in the chain whichever door it came through.

Errors are ValueErrors: `RegistryError` (naming the camera or feature and the field) and
`CameraStoreError` (an id already registered, an unknown camera); nothing is stored after either.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from safecity.config import CountingGeometry, Settings
from safecity.governance.audit import AuditLog
from safecity.governance.users import Actor
from safecity.registry.errors import RegistryError
from safecity.registry.geojson import cameras_from_geojson
from safecity.registry.validation import validate_camera, validate_site
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.types import Camera, Site

CAMERA_CHANGE = "camera_change"
"""Audit action of a register change (who added, changed, removed, imported)."""
IMPORT_IDS_RECORDED = 1000
"""An import's audit target lists at most this many camera ids (the count is always whole)."""


@dataclass(frozen=True, slots=True)
class Imported:
    sites: list[Site]
    cameras: list[Camera]


def record(db: Database, by: Actor, target: str, **details: Any) -> None:
    AuditLog(db).record(CAMERA_CHANGE, username=by.username, role=by.role, target=target, details=details)


def invalid(camera_id: str, exc: Exception) -> NoReturn:
    """`exc` as a RegistryError naming the camera (and the field, where it names one)."""
    if isinstance(exc, RegistryError):
        raise RegistryError(exc.reason, feature=f"camera {camera_id!r}", field=exc.field) from None
    raise RegistryError(str(exc), feature=f"camera {camera_id!r}") from None


def site_for(store: CameraStore, camera: Camera, site_name: str | None) -> list[Site]:
    """The site to create with `camera` ([] when its site is registered already)."""
    if camera.site_id in {s.id for s in store.sites()}:
        return []
    site = Site(
        id=camera.site_id, name=site_name or camera.name, latitude=camera.latitude, longitude=camera.longitude
    )
    try:
        validate_site(site)
    except ValueError as exc:
        invalid(camera.id, exc)
    return [site]


def add_camera(db: Database, by: Actor, camera: Camera, *, site_name: str | None = None) -> Camera:
    """Register `camera` (and its site, when new); CameraStoreError when its id is taken."""
    try:
        validate_camera(camera)
    except ValueError as exc:
        invalid(camera.id, exc)
    store = CameraStore(db)
    store.save(site_for(store, camera, site_name), [camera])
    record(db, by, camera.id, change="added", site_id=camera.site_id)
    return camera


def update_camera(
    db: Database,
    by: Actor,
    camera_id: str,
    changes: Mapping[str, Any],
    *,
    site_name: str | None = None,
) -> Camera:
    """Change the named fields of a registered camera; the audit entry lists the fields given."""
    store = CameraStore(db)
    current = store.get(camera_id)
    try:
        camera = dataclasses.replace(current, **changes)
        validate_camera(camera)
    except (ValueError, TypeError) as exc:
        invalid(camera_id, exc)
    store.save(site_for(store, camera, site_name), [camera], replace=True)
    record(db, by, camera_id, change="updated", fields=sorted(changes))
    return camera


def set_enabled(db: Database, by: Actor, camera_id: str, enabled: bool) -> Camera:
    return update_camera(db, by, camera_id, {"enabled": enabled})


def set_counting(db: Database, by: Actor, camera_id: str, counting: CountingGeometry | None) -> Camera:
    """Replace the camera's counting lines and zones (None: back to those of the settings)."""
    return update_camera(db, by, camera_id, {"counting": counting})


def import_cameras(db: Database, settings: Settings, by: Actor, data: object, *, replace: bool) -> Imported:
    """Import a parsed GeoJSON FeatureCollection, all or nothing, as `safecity camera import` does:
    RegistryError at the first bad feature (naming it and the property), CameraStoreError when an
    id is registered already and `replace` is off (the caller says how to replace); nothing is
    stored after either."""
    sites, cameras = cameras_from_geojson(data, settings.camera_defaults)
    CameraStore(db).save(sites, cameras, replace=replace)
    ids = [c.id for c in cameras]
    record(db, by, ",".join(ids[:IMPORT_IDS_RECORDED]), change="imported", cameras=len(ids), replace=replace)
    return Imported(sites, cameras)
