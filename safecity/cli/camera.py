"""`safecity camera add | list | show | remove | import | export`: the camera register.

Errors name the `camera add` option the user typed (`--lat`, `--capabilities`), not the registry
field behind it. Imports are all or nothing. `add` and `import` go through
`governance.camera_changes`, as the API and the admin pages do, and are audited (`camera_change`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safecity.cli.common import (
    about,
    command_group,
    err,
    fail,
    host_actor,
    open_db,
    out,
    settings,
    write_text_atomic,
)
from safecity.config import redact_url
from safecity.governance import camera_changes
from safecity.registry.errors import RegistryError
from safecity.registry.geojson import cameras_to_geojson, load_geojson_file
from safecity.registry.validation import (
    parse_capabilities,
    parse_plate_countries,
    shown,
    validate_camera,
    validate_site,
)
from safecity.store.cameras import CameraStore, CameraStoreError
from safecity.store.runs import list_runs
from safecity.types import Camera, RecordingMode, Site

# `camera remove` imports the media store (cv2) inside the function: `safecity --help` stays light.

camera_app = command_group("The camera register.")


def _camera_table(cameras: list[Camera]) -> Table:
    table = Table(title=f"{len(cameras)} camera(s)")
    for col in ("id", "name", "site", "lat", "lon", "capabilities", "operator", "retention", "enabled"):
        table.add_column(col)
    for c in cameras:
        table.add_row(
            c.id,
            c.name,
            c.site_id,
            f"{c.latitude:.6f}",
            f"{c.longitude:.6f}",
            ",".join(sorted(x.value for x in c.capabilities)),
            c.operator,
            f"{c.retention_days} d",
            "yes" if c.enabled else "no",
        )
    return table


# Registry fields as the `camera add` options that set them, so errors name what the user typed.
_SITE_OPTIONS = {"id": "--site", "name": "--site-name", "latitude": "--lat", "longitude": "--lon"}
"""The `camera add` option each `Site` field of the new site comes from."""
_ADD_OPTIONS = {
    "id": "ID",
    "name": "--name",
    "latitude": "--lat",
    "longitude": "--lon",
    "heading_deg": "--heading",
    "mount_height_m": "--height",
    "operator": "--operator",
    "capabilities": "--capabilities",
    "stream_url": "--stream-url",
    "retention_days": "--retention-days",
    "legal_basis": "--legal-basis",
    "zone": "--zone",
    "camera_type": "--type",
    "plate_countries": "--plate-countries",
}


@camera_app.command("add")
def camera_add(
    camera_id: Annotated[str, typer.Argument(metavar="ID", help="Unique camera id, e.g. cam-0001.")],
    name: Annotated[str, typer.Option(help="Human-readable name.")],
    lat: Annotated[float, typer.Option(help="Latitude (WGS84).")],
    lon: Annotated[float, typer.Option(help="Longitude (WGS84).")],
    site: Annotated[str | None, typer.Option(help="Site id; several cameras may share one.")] = None,
    site_name: Annotated[str | None, typer.Option(help="Name for a new site.")] = None,
    heading: Annotated[float | None, typer.Option(help="Viewing direction, degrees from north.")] = None,
    height: Annotated[float | None, typer.Option(help="Mounting height in metres.")] = None,
    operator: Annotated[str | None, typer.Option(help="Organisation running the camera.")] = None,
    capabilities: Annotated[
        str, typer.Option(help="List of faces, plates, traffic, motion (',' or ';' between).")
    ] = "motion",
    stream_url: Annotated[str, typer.Option(help="rtsp://, http(s):// or file:// URL.")] = "",
    retention_days: Annotated[int | None, typer.Option(help="Days observations are kept.")] = None,
    legal_basis: Annotated[str | None, typer.Option(help="Law or decision it operates under.")] = None,
    zone: Annotated[str, typer.Option(help="OSM surveillance:zone (town, traffic, street, ...).")] = "town",
    camera_type: Annotated[
        str, typer.Option("--type", help="OSM camera:type (fixed, dome, panning).")
    ] = "fixed",
    disabled: Annotated[bool, typer.Option("--disabled", help="Register but do not analyse.")] = False,
    retain_face_vectors: Annotated[
        bool,
        typer.Option(
            "--retain-face-vectors",
            help="Keep embeddings of faces that match no watchlist.",
        ),
    ] = False,
    plate_countries: Annotated[
        str,
        typer.Option(
            help="Plate countries it expects, most frequent first (RS,HR; ',' or ';' between); "
            "default: the settings' plates.countries."
        ),
    ] = "",
    recording: Annotated[
        RecordingMode,
        typer.Option(
            help="Record its video: continuous, motion (kept where something moved) or events (kept "
            "where a plate, face or alert was seen); each mode keeps recordings for its own days "
            "(settings [recording])."
        ),
    ] = RecordingMode.NONE,
) -> None:
    """Register one camera."""
    s = settings()
    defaults = s.camera_defaults
    site_id = site or f"site-{camera_id}"
    try:
        caps = parse_capabilities(capabilities.replace(",", ";"))
        countries = parse_plate_countries(plate_countries.replace(",", ";"))
        new_site = Site(id=site_id, name=site_name or name, latitude=lat, longitude=lon)
        camera = Camera(
            id=camera_id,
            name=name,
            site_id=site_id,
            latitude=lat,
            longitude=lon,
            heading_deg=heading,
            mount_height_m=height,
            operator=operator if operator is not None else defaults.operator,
            capabilities=caps,
            stream_url=stream_url,
            retention_days=retention_days if retention_days is not None else defaults.retention_days,
            legal_basis=legal_basis if legal_basis is not None else defaults.legal_basis,
            enabled=not disabled,
            zone=zone,
            camera_type=camera_type,
            retain_face_vectors=retain_face_vectors,
            plate_countries=countries,
            recording=recording,
        )
        validate_camera(camera)
    except RegistryError as exc:
        option = _ADD_OPTIONS.get(exc.field or "", exc.field or "")
        fail(f"camera {shown(camera_id)}, {option}: {exc.reason}")
    except ValueError as exc:
        fail(f"camera {shown(camera_id)}: {exc}")
    try:
        validate_site(new_site)
    except RegistryError as exc:
        option = _SITE_OPTIONS.get(exc.field or "", exc.field or "")
        fail(f"camera {camera_id!r}, {option}: {exc.reason}")
    try:
        camera_changes.add_camera(open_db(s), host_actor(), camera, site_name=new_site.name)
    except CameraStoreError as exc:
        fail(f"{exc}; use `safecity camera remove` first, or `camera import --replace` to update it")
    out.print(f"registered camera {camera_id} at site {site_id}")


@camera_app.command("list")
def camera_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    enabled_only: Annotated[bool, typer.Option("--enabled", help="Only enabled cameras.")] = False,
) -> None:
    """List registered cameras."""
    cameras = CameraStore(open_db(reading=True)).all(enabled_only=enabled_only)
    if as_json:
        for c in cameras:
            print(json.dumps(_camera_json(c)))
    else:
        out.print(_camera_table(cameras))


def _camera_json(c: Camera) -> dict[str, object]:
    return {
        "id": c.id,
        "name": c.name,
        "site_id": c.site_id,
        "latitude": c.latitude,
        "longitude": c.longitude,
        "heading_deg": c.heading_deg,
        "mount_height_m": c.mount_height_m,
        "operator": c.operator,
        "capabilities": sorted(x.value for x in c.capabilities),
        "stream_url": redact_url(c.stream_url),
        "retention_days": c.retention_days,
        "legal_basis": c.legal_basis,
        "enabled": c.enabled,
        "zone": c.zone,
        "camera_type": c.camera_type,
        "retain_face_vectors": c.retain_face_vectors,
        "plate_countries": list(c.plate_countries),
        "recording": c.recording.value,
        "counting": None if c.counting is None else c.counting.model_dump(mode="json"),
    }


RECENT_RUNS_SHOWN = 5


@camera_app.command("show")
def camera_show(camera_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Show one camera with its observation counts and its latest processing runs."""
    store = CameraStore(open_db(reading=True))
    try:
        camera = store.get(camera_id)
    except CameraStoreError as exc:
        fail(str(exc))
    data = _camera_json(camera)
    data["observations"] = store.observation_counts(camera_id)
    data["recent_runs"] = [
        {
            "source": r.source,
            "started_at": r.started_at.isoformat(),
            "frames_decoded": r.frames_decoded,
            "frames_analysed": r.frames_analysed,
            "observations": r.observations,
            "error": r.error,
        }
        for r in list_runs(store.db, camera_id)[-RECENT_RUNS_SHOWN:]
    ]
    out.print_json(data=data)


@camera_app.command("remove")
def camera_remove(
    camera_id: Annotated[str, typer.Argument(metavar="ID")],
    purge: Annotated[
        bool, typer.Option("--purge", help="Also delete its observations and snapshots.")
    ] = False,
) -> None:
    """Remove a camera from the register."""
    from safecity.store.media import MediaStore

    s = settings()
    store = CameraStore(open_db(s))
    try:
        refs = store.remove(camera_id, purge=purge)
    except CameraStoreError as exc:
        fail(str(exc))
    media = MediaStore(s.effective_media_dir)
    deleted = sum(media.delete(r) for r in refs)
    out.print(f"removed camera {camera_id}" + (f" and {deleted} snapshot(s)" if purge else ""))


@camera_app.command("import")
def camera_import(
    path: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection of cameras.")],
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite cameras with the same id.")] = False,
) -> None:
    """Import cameras from GeoJSON (OSM surveillance tags); all or nothing."""
    s = settings()
    try:
        data = load_geojson_file(path)
        done = camera_changes.import_cameras(open_db(s), s, host_actor(), data, replace=replace)
    except RegistryError as exc:
        fail(about(path, exc))
    except CameraStoreError as exc:
        fail(about(path, f"{exc}; nothing was imported (use --replace to update existing cameras)"))
    out.print(f"imported {len(done.cameras)} camera(s) at {len(done.sites)} site(s) from {path}")


@camera_app.command("export")
def camera_export(
    path: Annotated[Path | None, typer.Argument(help="Output file; standard output when omitted.")] = None,
    public: Annotated[
        bool, typer.Option("--public", help="Transparency register: leave out stream URLs.")
    ] = False,
) -> None:
    """Export the register as GeoJSON (OSM surveillance tags plus safecity: properties)."""
    store = CameraStore(open_db(reading=True))
    data = cameras_to_geojson(store.all(), store.sites(), public=public)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if path is None:
        sys.stdout.write(text)
        return
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror or exc}")
    err.print(f"wrote {path}")
