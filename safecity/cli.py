"""Command line (typer): config, db, camera, sim, process, demo, hotlist, search plate, eval.

Face commands (authorisation, watchlist, search face) are in `cli_faces`, `serve` and `status` in
`cli_serve`; both register on import.

Bad input exits with code 2 and a message on stderr that names what was wrong; nothing is
written in that case. Unexpected failures exit with code 1.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import tomli_w
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from safecity.config import Settings, load_settings, redact_url
from safecity.registry.errors import RegistryError
from safecity.registry.geojson import cameras_from_geojson, cameras_to_geojson, load_geojson_file
from safecity.registry.validation import (
    parse_capabilities,
    parse_plate_countries,
    shown,
    validate_camera,
    validate_site,
)
from safecity.store.cameras import CameraStore, CameraStoreError
from safecity.store.database import Database, StoreError
from safecity.store.hotlists import HotlistStore
from safecity.store.writer import ObservationWriter
from safecity.types import Alert, Camera, Capability, Site
from safecity.watch.hotlists import HotlistAlerter

if TYPE_CHECKING:
    from safecity.governance.access import AccessGate, Caller, GatedRead
    from safecity.governance.audit import AuditAction
    from safecity.governance.permissions import Permission
    from safecity.store.media import MediaStore
    from safecity.store.plate_search import PlateQuery, PlateSearchHit
    from safecity.watch.faces import FaceMatchEvent

app = typer.Typer(help="Open Safe City: open, accountable city video analytics.", no_args_is_help=True)
config_app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
camera_app = typer.Typer(help="The camera register.", no_args_is_help=True)
sim_app = typer.Typer(help="The synthetic city.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(camera_app, name="camera")
app.add_typer(sim_app, name="sim")

# Piped or logged output gets a fixed width instead of rich's 80-column fallback.
PIPED_WIDTH = 120
out = Console() if sys.stdout.isatty() else Console(width=PIPED_WIDTH)
err = Console(stderr=True)

EXIT_BAD_INPUT = 2
EXIT_DENIED = 3
"""Refused: the caller's role, camera limits or token do not allow the command."""


class _State:
    config_file: Path | None = None


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _about(path: Path, problem: object) -> str:
    """`path: problem`, unless the problem already names the file."""
    text = str(problem)
    return text if str(path) in text else f"{path}: {text}"


def write_text_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a failed write never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def settings() -> Settings:
    try:
        return load_settings(_State.config_file)
    except ValidationError as exc:
        fail(f"invalid configuration: {exc}")
    except ValueError as exc:
        fail(str(exc))


def open_db(s: Settings | None = None) -> Database:
    s = s or settings()
    try:
        return Database.open(s.effective_database_url, s.store)
    except StoreError as exc:
        fail(str(exc), code=1)


@app.callback()
def _root(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="TOML settings file (default ./safecity.toml).")
    ] = None,
) -> None:
    _State.config_file = config


# ---------------------------------------------------------------- config


@config_app.command("show")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of TOML.")] = False,
) -> None:
    """Print the effective settings (defaults + safecity.toml + SAFECITY_* environment)."""
    s = settings()
    data = json.loads(s.model_dump_json())
    # Relative paths depend on where the command runs, so show what they resolve to here.
    data["data_dir"] = str(s.data_dir.resolve())
    data["database_url"] = redact_url(s.effective_database_url)
    data["media_dir"] = str(s.effective_media_dir.resolve())
    data["faces"]["model_cache_dir"] = str(s.effective_model_cache_dir.resolve())
    data["faces"]["index_path"] = str(s.effective_face_index_path.resolve())
    data["governance"]["anchor_path"] = str(s.effective_anchor_path.resolve())
    if as_json:
        out.print_json(data=data)
    else:
        print(tomli_w.dumps(_without_none(data)), end="")


def _without_none(value: Any) -> Any:
    """TOML has no null: unset optional settings are left out of the printed file."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value


# ---------------------------------------------------------------- db


def _migration_db() -> tuple[Database, str]:
    s = settings()
    try:
        return Database.reach(s.effective_database_url, s.store), redact_url(s.effective_database_url)
    except StoreError as exc:
        fail(str(exc), code=1)


def _migrate(step: Callable[[Database], None]) -> None:
    from alembic.util import CommandError

    db, shown = _migration_db()
    try:
        step(db)
    except CommandError as exc:
        fail(f"migration failed on {shown}: {exc}")
    out.print(f"database {shown} at revision {db.current_revision() or 'empty (base)'}")
    db.close()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database schema up (to the latest by default)."""
    _migrate(lambda db: db.upgrade(revision))


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")]) -> None:
    """Migrate the database schema down (destroys data in dropped tables)."""
    _migrate(lambda db: db.downgrade(revision))


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and of the code."""
    db, shown = _migration_db()
    out.print(f"{shown}: database at {db.current_revision() or 'empty'}, code expects {db.head_revision()}")
    db.close()


@db_app.command("partitions")
def db_partitions(
    ensure: Annotated[
        bool,
        typer.Option(
            "--ensure", help="First create this month's and the next `store.partition_months_ahead` months'."
        ),
    ] = False,
    estimate: Annotated[
        bool, typer.Option("--estimate", help="Planner estimates of the row counts instead of counting.")
    ] = False,
) -> None:
    """PostgreSQL: the monthly partitions of the observation tables, with their rows."""
    from safecity.store.partitions import ensure_partitions, list_partitions

    db, shown = _migration_db()
    try:
        if db.is_sqlite:
            out.print(f"{shown}: SQLite, the observation tables are not partitioned")
            return
        if ensure:
            created = ensure_partitions(db.engine, db.settings.partition_months_ahead)
            out.print(f"created {len(created)} partition(s){': ' + ', '.join(created) if created else ''}")
        partitions = list_partitions(db.engine, exact=not estimate)
    finally:
        db.close()
    if not partitions:
        out.print(f"{shown}: the observation tables are not partitioned; run `safecity db upgrade`")
        return
    table = Table(title=f"{len(partitions)} partition(s)")
    for col in ("table", "partition", "from", "to", "rows"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for p in partitions:
        bounds = (
            ("default", "")
            if p.start is None or p.end is None
            else (f"{p.start:%Y-%m-%d}", f"{p.end:%Y-%m-%d}")
        )
        table.add_row(p.table, p.name, *bounds, str(p.rows))
    out.print(table)


# ---------------------------------------------------------------- camera


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
    store = CameraStore(open_db(s))
    existing_sites = {x.id for x in store.sites()}
    try:
        store.save([] if site_id in existing_sites else [new_site], [camera])
    except CameraStoreError as exc:
        fail(f"{exc}; use `safecity camera remove` first, or `camera import --replace` to update it")
    out.print(f"registered camera {camera_id} at site {site_id}")


@camera_app.command("list")
def camera_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    enabled_only: Annotated[bool, typer.Option("--enabled", help="Only enabled cameras.")] = False,
) -> None:
    """List registered cameras."""
    cameras = CameraStore(open_db()).all(enabled_only=enabled_only)
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
        "counting": None if c.counting is None else c.counting.model_dump(mode="json"),
    }


RECENT_RUNS_SHOWN = 5


@camera_app.command("show")
def camera_show(camera_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Show one camera with its observation counts and its latest processing runs."""
    store = CameraStore(open_db())
    try:
        camera = store.get(camera_id)
    except CameraStoreError as exc:
        fail(str(exc))
    from safecity.store.runs import list_runs

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
        sites, cameras = cameras_from_geojson(load_geojson_file(path), s.camera_defaults)
    except RegistryError as exc:
        fail(_about(path, exc))
    try:
        CameraStore(open_db(s)).save(sites, cameras, replace=replace)
    except CameraStoreError as exc:
        fail(_about(path, f"{exc}; nothing was imported (use --replace to update existing cameras)"))
    out.print(f"imported {len(cameras)} camera(s) at {len(sites)} site(s) from {path}")


@camera_app.command("export")
def camera_export(
    path: Annotated[Path | None, typer.Argument(help="Output file; standard output when omitted.")] = None,
    public: Annotated[
        bool, typer.Option("--public", help="Transparency register: leave out stream URLs.")
    ] = False,
) -> None:
    """Export the register as GeoJSON (OSM surveillance tags plus safecity: properties)."""
    store = CameraStore(open_db())
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


# ---------------------------------------------------------------- sim


@sim_app.command("render")
def sim_render(
    out_dir: Annotated[Path, typer.Argument(help="Folder for clips, ground truth and cameras.geojson.")],
    cameras: Annotated[int | None, typer.Option(help="Number of cameras.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Clip length in seconds.")] = None,
    seed: Annotated[int | None, typer.Option(help="Scenario seed.")] = None,
) -> None:
    """Render the synthetic city: one H.264 clip per camera plus ground truth."""
    from safecity.demo.run import render_with_progress, write_register

    s = settings()
    try:
        city = render_with_progress(out_dir, s, cameras=cameras, seconds=seconds, seed=seed, console=out)
        register = write_register(city, out_dir / "cameras.geojson")
    except ValueError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{out_dir}: cannot write: {exc.strerror or exc}")
    out.print(
        f"rendered {len(city.clips)} clip(s) to {out_dir}; ground truth {city.truth_path}; "
        f"register {register} (load it with `safecity camera import {register}`)"
    )


# ---------------------------------------------------------------- process / demo


@app.command("process")
def process(
    video: Annotated[Path, typer.Argument(help="Video file to analyse.")],
    camera: Annotated[str, typer.Option("--camera", help="Registered camera id the video comes from.")],
    start: Annotated[
        datetime | None,
        typer.Option(
            help="Wall-clock time of the first frame, ISO 8601 with offset (2026-03-02T08:30:00+01:00); "
            "default: the file's creation_time, else its mtime minus its duration."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Analyse a disabled camera, or a file already analysed.")
    ] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            help="Analyse on a Ray actor of this cluster (ray://HOST:10001, HOST:6379, auto, local); "
            "the file must be at the same path on the node. Default: here."
        ),
    ] = None,
) -> None:
    """Analyse a video file as one camera and store the observations."""
    from safecity.pipeline.process import ProcessingError, process_file
    from safecity.pipeline.sinks import PlateCollectingSink
    from safecity.sources.probe import guess_start_time
    from safecity.store.media import MediaStore
    from safecity.store.runs import list_runs, save_run

    s = settings()
    db = open_db(s)
    try:
        cam = CameraStore(db).get(camera)
    except CameraStoreError as exc:
        fail(str(exc))
    if not video.is_file():
        fail(f"{video}: no such file")
    video = video.resolve()
    if not cam.enabled and not force:
        fail(f"camera {camera} is disabled (registered but not to be analysed); --force overrides")
    if not force and any(r.source == str(video) for r in list_runs(db, camera)):
        fail(f"{video} was already analysed as {camera}; --force analyses it again (nothing is stored twice)")
    if start is not None and start.tzinfo is None:
        fail(f"--start {start.isoformat()} has no UTC offset; write e.g. {start.isoformat()}+01:00")
    if not cam.capabilities & {Capability.MOTION, Capability.TRAFFIC}:
        err.print(f"note: {camera} has no motion or traffic capability, so no motion tracks are stored")
    start_time = start.astimezone(UTC) if start is not None else guess_start_time(video)
    media = MediaStore(s.effective_media_dir, s.store.snapshot_jpeg_quality)
    alerter = HotlistAlerter(HotlistStore(db, s.hotlists))
    faces = _FaceMatching(db, s, media) if Capability.FACES in cam.capabilities else None
    if cluster is not None:
        _process_on_cluster(s, db, cam, video, start_time, cluster, alerter, faces)
        return
    with (
        ObservationWriter(db, s.store) as writer,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=out,
        ) as bar,
    ):
        task = bar.add_task(f"{camera}", total=None)
        sink = PlateCollectingSink(writer)
        try:
            stats = process_file(
                video,
                cam,
                s,
                sink=sink,
                snapshots=media,
                start_time=start_time,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                face_matcher=faces.matcher if faces is not None else None,
                matches=faces,
            )
        except ProcessingError as exc:
            writer.flush()
            save_run(db, exc.stats)
            _print_alerts(alerter.check(sink.plate_reads))
            if faces is not None:
                _print_alerts(faces.save())
            kept = exc.stats.observations
            fail(_about(video, f"{exc} ({kept} observation(s) analysed before the error were kept)"))
        writer.flush()
    save_run(db, stats)
    out.print(
        f"{camera}: {stats.frames_decoded} frames decoded, {stats.frames_analysed} analysed, "
        f"{stats.frames_with_motion} with motion, {stats.observations} observation(s) stored"
    )
    _print_alerts(alerter.check(sink.plate_reads))
    if faces is not None:
        _print_alerts(faces.save())


def _process_on_cluster(
    s: Settings,
    db: Database,
    cam: Camera,
    video: Path,
    start_time: datetime,
    address: str,
    alerter: HotlistAlerter,
    faces: _FaceMatching | None,
) -> None:
    """`process --cluster`: the file analysed by a Ray actor, which writes what it sees; alerts here."""
    from safecity.cluster.actor import Recording
    from safecity.cluster.ray_pool import ClusterError, analyse_recordings
    from safecity.store.runs import save_run

    s = s.model_copy(update={"cluster": s.cluster.model_copy(update={"address": address})})
    matcher = faces.matcher if faces is not None else None
    try:
        [result] = analyse_recordings(s, [Recording(cam, video, start_time)], matcher=matcher)
    except ClusterError as exc:
        fail(str(exc), code=1)
    stats = result.stats
    save_run(db, stats)
    _print_alerts(alerter.check(list(result.plates)))
    if faces is not None:
        faces.submit_matches(result.matches)
        _print_alerts(faces.save())
    if stats.error:
        fail(
            _about(video, f"{stats.error} ({stats.observations} observation(s) analysed before it were kept)")
        )
    out.print(
        f"{cam.id}: {stats.frames_decoded} frames decoded, {stats.frames_analysed} analysed, "
        f"{stats.frames_with_motion} with motion, {stats.observations} observation(s) stored (on the cluster)"
    )


class _FaceMatching:
    """The face templates in force for a run, and the matches it reports, saved as alerts afterwards."""

    def __init__(self, db: Database, s: Settings, media: MediaStore) -> None:
        from safecity.store.face_watchlists import FaceWatchlistStore
        from safecity.watch.face_enrolment import FaceAlerter
        from safecity.watch.faces import FaceMatcher, load_rule

        store = FaceWatchlistStore(db, media)
        rule = load_rule(s.faces, s.effective_face_calibration_path)
        self.matcher = FaceMatcher(store.templates_in_force(), rule)
        self.alerter = FaceAlerter(store)
        self.events: list[FaceMatchEvent] = []

    def submit_matches(self, events: Sequence[FaceMatchEvent]) -> None:
        self.events.extend(events)

    def save(self) -> list[Alert]:
        """Alerts for the matches, once the writer has stored the sightings they point at."""
        events, self.events = self.events, []
        return self.alerter.save(events)


def _print_alerts(alerts: Sequence[Alert]) -> None:
    for alert in alerts:
        out.print(f"[bold yellow]ALERT[/] {alert.timestamp.isoformat()} {alert.camera_id}: {alert.message}")


@app.command("demo")
def demo() -> None:
    """Render the synthetic city, register its cameras, analyse every clip, print a summary, then serve
    the web UI until Ctrl-C (SAFECITY_DEMO_NO_SERVE=1: exit after the summary)."""
    import signal
    import threading

    from safecity.demo.run import run_demo, serve_demo
    from safecity.server.runner import ApiServerError

    demo_settings = run_demo(settings(), out)
    if os.environ.get("SAFECITY_DEMO_NO_SERVE", "") == "1":
        return
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        serve_demo(demo_settings, out, stop)
    except ApiServerError as exc:
        fail(f"{exc} (another program on port {demo_settings.api.port}? set SAFECITY_API__PORT)", code=1)


# ---------------------------------------------------------------- hotlist / search

hotlist_app = typer.Typer(
    help="Plate hotlists: plates and patterns that raise an alert whenever a camera reads them.",
    no_args_is_help=True,
)
search_app = typer.Typer(help="Retrospective search of stored observations.", no_args_is_help=True)
app.add_typer(hotlist_app, name="hotlist")
app.add_typer(search_app, name="search")


def _aware_time(option: str, value: str | None) -> datetime | None:
    """An ISO 8601 time with a UTC offset, in UTC; exits 2 naming the option otherwise."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not an ISO 8601 time; write e.g. 2026-03-02T08:30:00+01:00")
    if parsed.tzinfo is None:
        fail(f"{option} {value} has no UTC offset; write e.g. {value}+01:00")
    return parsed.astimezone(UTC)


def _shown_time(value: datetime | None) -> str:
    """A time for tables: UTC to the second ("2026-03-02 07:30:00"); JSON output keeps full ISO 8601."""
    return "never" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@hotlist_app.command("add")
def hotlist_add(
    plate: Annotated[
        str,
        typer.Argument(
            metavar="PLATE_OR_PATTERN", help="Plate (BG 123-AB) or pattern: * any run, ? one character."
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why the plate is wanted; shown with every alert.")],
    owner: Annotated[str, typer.Option(help="Who answers for the entry (person or unit).")],
    expires: Annotated[
        str | None,
        typer.Option(help="When the entry lapses, ISO 8601 with offset (2026-04-01T00:00:00+02:00)."),
    ] = None,
    days: Annotated[int | None, typer.Option(help="Lapse after this many days.")] = None,
) -> None:
    """Put a plate or pattern on the hotlist (default expiry: hotlists.default_expiry_days)."""
    from datetime import timedelta

    from safecity.store.hotlists import HotlistError, HotlistStore, default_expiry
    from safecity.store.models import utcnow

    s = settings()
    now = utcnow()
    if expires is not None and days is not None:
        fail("give --expires or --days, not both")
    if days is not None and days < 1:
        fail(f"--days must be at least 1, got {days}")
    expires_at = _aware_time("--expires", expires)
    if days is not None:
        expires_at = now + timedelta(days=days)
    elif expires is None:
        expires_at = default_expiry(now, s.hotlists)
    db = open_db(s)
    store = HotlistStore(db, s.hotlists)
    try:
        entry = store.add(plate, reason=reason, owner=owner, expires_at=expires_at, now=now)
    except HotlistError as exc:
        fail(str(exc))
    _audit(
        db,
        "hotlist_change",
        target=entry.id,
        justification=reason,
        details={"change": "added", "plate": entry.plate, "owner": owner},
    )
    kind = "pattern" if entry.is_pattern else "plate"
    out.print(f"hotlisted {kind} {entry.plate} as {entry.id}, expires {_shown_time(entry.expires_at)}")


def _audit(
    db: Database,
    action: str,
    *,
    user: str | None = None,
    target: str,
    justification: str = "",
    details: dict[str, object],
) -> None:
    """Record a CLI action in the audit chain as `user`, default the OS user, with the role `cli`
    (a login puts a person behind each action once the API exists)."""
    import getpass

    from safecity.governance.audit import AuditLog

    AuditLog(db).record(
        action,
        username=user or getpass.getuser(),
        role="cli",
        target=target,
        justification=justification,
        details=details,
    )


TOKEN_ENV = "SAFECITY_TOKEN"


def cli_caller(db: Database) -> Caller:
    """Who runs this command: the user whose API token is in `SAFECITY_TOKEN`, else the console.

    The console is the operating-system user with the role `cli` (see `governance.access`); a
    token puts a person with their role and camera limits behind the command.
    """
    from safecity.governance.access import Caller
    from safecity.governance.users import AuthError, UserStore

    secret = os.environ.get(TOKEN_ENV, "").strip()
    if not secret:
        return Caller.console()
    try:
        return Caller.of(UserStore(db).authenticate_token(secret))
    except AuthError as exc:
        fail(f"{TOKEN_ENV}: {exc or 'token refused'}", code=EXIT_DENIED)


def access_gate(db: Database, s: Settings) -> AccessGate:
    from safecity.governance.access import AccessGate

    return AccessGate(db, min_reason_len=s.governance.min_reason_len)


@contextmanager
def gated_read(
    db: Database, s: Settings, action: AuditAction, permission: Permission, **options: Any
) -> Iterator[GatedRead]:
    """`AccessGate.read` for the command's caller; a refusal exits 3, a missing reason 2."""
    from safecity.governance.access import AccessDenied, ReasonRequired

    try:
        with access_gate(db, s).read(cli_caller(db), action, permission, **options) as read:
            yield read
    except AccessDenied as exc:
        fail(str(exc), code=EXIT_DENIED)
    except ReasonRequired as exc:
        fail(str(exc))


def _hotlist_status(active: bool, in_force: bool) -> str:
    if not active:
        return "removed"
    return "active" if in_force else "expired"


@hotlist_app.command("list")
def hotlist_list(
    show_all: Annotated[bool, typer.Option("--all", help="Also expired and removed entries.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List the hotlist entries in force (with --all: every entry ever added)."""
    from safecity.governance.audit import AuditAction
    from safecity.governance.permissions import Permission
    from safecity.store.hotlists import HotlistStore
    from safecity.store.models import utcnow

    s = settings()
    db = open_db(s)
    store = HotlistStore(db, s.hotlists)
    now = utcnow()
    with gated_read(db, s, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as read:
        entries = store.all() if show_all else store.in_force(now)
        read.record([e.id for e in entries], what="hotlist", all=show_all)
    if as_json:
        for e in entries:
            row = {
                "id": e.id,
                "plate": e.plate,
                "pattern": e.is_pattern,
                "reason": e.reason,
                "owner": e.owner,
                "created_at": e.created_at.isoformat(),
                "expires_at": None if e.expires_at is None else e.expires_at.isoformat(),
                "removed_at": None if e.removed_at is None else e.removed_at.isoformat(),
                "status": _hotlist_status(e.active, e.in_force(now)),
            }
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title=f"{len(entries)} hotlist entr{'y' if len(entries) == 1 else 'ies'}")
    table.add_column("id", no_wrap=True)
    for col in ("plate", "reason", "owner", "created (UTC)", "expires (UTC)", "status"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            e.id,
            e.plate,
            e.reason,
            e.owner,
            _shown_time(e.created_at),
            _shown_time(e.expires_at),
            _hotlist_status(e.active, e.in_force(now)),
        )
    out.print(table)


@hotlist_app.command("remove")
def hotlist_remove(entry_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Take an entry off the hotlist: it stops matching at once and stays on record for its alerts."""
    from safecity.store.hotlists import HotlistError, HotlistStore

    s = settings()
    db = open_db(s)
    try:
        entry = HotlistStore(db, s.hotlists).remove(entry_id)
    except HotlistError as exc:
        fail(str(exc))
    _audit(db, "hotlist_change", target=entry.id, details={"change": "removed", "plate": entry.plate})
    out.print(f"removed hotlist entry {entry.id} ({entry.plate})")


@search_app.command("plate")
def search_plate(
    query: Annotated[
        str, typer.Argument(metavar="QUERY", help="Plate (BG 123-AB) or pattern (BG*AB, ?G12?AB).")
    ],
    mode: Annotated[
        str | None,
        typer.Option(
            help="exact, wildcard or fuzzy (OCR confusions, one edit); default: wildcard if * or ? in QUERY."
        ),
    ] = None,
    camera: Annotated[
        list[str] | None, typer.Option("--camera", help="Only this camera (repeatable).")
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Only cameras at this site.")] = None,
    since: Annotated[str | None, typer.Option(help="Reads at or after, ISO 8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Reads before, ISO 8601 with offset.")] = None,
    limit: Annotated[int | None, typer.Option(help="Most results (default search.default_limit).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    reason: Annotated[
        str, typer.Option(help="Why (case number, purpose); required, recorded in the audit log.")
    ] = "",
) -> None:
    """Search stored plate reads, newest first (fuzzy: closest first); the search is audited."""
    from safecity.store.plate_search import PlateQuery, SearchMode

    s = settings()
    modes = [m.value for m in SearchMode]
    if mode is not None and mode not in modes:
        fail(f"--mode {mode!r}: choose one of {', '.join(modes)}")
    limit = limit if limit is not None else s.search.default_limit
    if not 1 <= limit <= s.search.max_limit:
        fail(f"--limit must be between 1 and {s.search.max_limit} (search.max_limit), got {limit}")
    try:
        plate_query = PlateQuery.parse(
            query,
            SearchMode(mode) if mode is not None else None,
            camera_ids=camera or (),
            site_id=site,
            since=_aware_time("--since", since),
            until=_aware_time("--until", until),
            limit=limit,
        )
    except ValueError as exc:
        fail(str(exc))
    db = open_db(s)
    store = CameraStore(db)
    for camera_id in plate_query.camera_ids:
        try:
            store.get(camera_id)
        except CameraStoreError as exc:
            fail(f"--camera: {exc}")
    if site is not None and site not in {x.id for x in store.sites()}:
        fail(f"--site: no site with id {site!r}")
    hits = _gated_plate_search(db, s, plate_query, reason, query=query, mode=mode, site=site)
    if as_json:
        for h in hits:
            row = {
                "id": h.id,
                "timestamp": h.timestamp.isoformat(),
                "camera_id": h.camera_id,
                "site_id": h.site_id,
                "text": h.text,
                "normalised": h.normalised,
                "country": h.country,
                "confidence": h.confidence,
                "match": h.match.value,
                "snapshot": h.snapshot,
            }
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title=f"{len(hits)} read(s) for {plate_query.plate} ({plate_query.mode.value})")
    if len(hits) == plate_query.limit:
        table.caption = f"first {limit} shown; narrow the search or raise --limit"
    # The snapshot path is in --json; the table keeps to what fits a terminal.
    for col in ("time (UTC)", "camera", "site", "plate", "cc", "conf.", "match", "id"):
        table.add_column(col, no_wrap=col in ("time (UTC)", "plate", "id"))
    for h in hits:
        table.add_row(
            _shown_time(h.timestamp),
            h.camera_id,
            h.site_id,
            h.normalised,
            h.country,
            f"{h.confidence:.2f}",
            h.match.value,
            h.id,
        )
    out.print(table)


def _gated_plate_search(
    db: Database, s: Settings, plate_query: PlateQuery, reason: str, **asked: str | None
) -> list[PlateSearchHit]:
    """Run a plate search through the access gate: refused without a reason or the permission."""
    from dataclasses import replace

    from safecity.governance.access import AccessDenied, ReasonRequired
    from safecity.governance.audit import AuditAction
    from safecity.governance.permissions import Permission
    from safecity.store.plate_search import search_plates

    gate = access_gate(db, s)
    caller = cli_caller(db)
    try:
        with gate.read(
            caller,
            AuditAction.SEARCH_PLATE,
            Permission.SEARCH_PLATE,
            justification=reason,
            reason_required=True,
            cameras=plate_query.camera_ids,
            details={**asked, "since": _iso(plate_query.since), "until": _iso(plate_query.until)},
        ) as read:
            narrowed = replace(plate_query, camera_ids=read.cameras or ())
            hits = search_plates(db, narrowed, read.session)
            read.record([h.id for h in hits])
    except ReasonRequired as exc:
        fail(f"--reason: {exc}")
    except AccessDenied as exc:
        fail(str(exc), code=EXIT_DENIED)
    return hits


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# ---------------------------------------------------------------- eval

eval_app = typer.Typer(help="Accuracy evaluation on labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("plates")
def eval_plates(
    directories: Annotated[
        list[Path],
        typer.Argument(
            help="Folders with images and labels.csv: file,plate_text,x,y,w,h (scenes) or "
            "file,state,plate_text (crops: the image is the plate)."
        ),
    ],
    baseline: Annotated[
        bool,
        typer.Option("--baseline", help="Also run the naive reader (plain rapidocr) on the same images."),
    ] = False,
    details: Annotated[bool, typer.Option("--details", help="Also print each set's misread images.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Also print one JSON object as the last line of stdout.")
    ] = False,
) -> None:
    """Run the plate reader on every labelled image of each set (one thread; labels never used to read)."""
    from safecity.analytics.plates.ocr import OcrModelError
    from safecity.eval.plates import (
        details_table,
        evaluate_sets,
        load_plate_set,
        naive_reader,
        ours_reader,
        results_json,
        summary_table,
    )

    s = settings()
    sets = []
    for directory in directories:  # every folder checked before minutes of reading
        try:
            sets.append(load_plate_set(directory))
        except ValueError as exc:
            fail(_about(directory, exc))
    try:
        ours = ours_reader(s.plates.model_copy(update={"ocr_threads": 1}))
        naive = naive_reader() if baseline else None
    except OcrModelError as exc:
        fail(str(exc), code=1)
    with Progress(
        TextColumn("eval {task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as bar:
        tasks = [bar.add_task(p.name, total=len(p.labels)) for p in sets]
        results = evaluate_sets(
            sets,
            ours,
            naive,
            progress=lambda index, done, total: bar.update(tasks[index], completed=done, total=total),
        )
    if details:
        for result in results:
            out.print(details_table(result))
    out.print(summary_table(results))
    if as_json:
        print(json.dumps(results_json(results)))


@eval_app.command("faces")
def eval_faces(
    directory: Annotated[
        Path, typer.Argument(help="Folder of <person>/<image>.jpg with pairs.csv and identities.csv.")
    ],
    detection: Annotated[
        Path | None,
        typer.Option(
            "--detection", help="Folder of images with labels.csv (file,x,y,w,h) for detection recall."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Also print one JSON object as the last line of stdout.")
    ] = False,
    detector: Annotated[
        str | None, typer.Option(help="Override faces.detector for this run: hog or cnn.")
    ] = None,
    upsample: Annotated[
        int | None, typer.Option(help="Override faces.photo_upsample (the still-photo path) for this run.")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="Override faces.embed_backend for this run: onnx or dlib.")
    ] = None,
    enrol: Annotated[
        int | None,
        typer.Option(help="Photos each person is enrolled from (default faces.calibration_enrol)."),
    ] = None,
    gallery_size: Annotated[
        int | None,
        typer.Option(help="Enrol only the first N people; the others' photos become strangers."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the DET curves into this PNG file.")
    ] = None,
) -> None:
    """Score the face recogniser: verification, open-set identification (DET table and the watchlist
    rule at its default), detection, speed (one thread)."""
    from dataclasses import replace as dc_replace
    from statistics import median

    from safecity.analytics.faces.analyser import FaceAnalyser
    from safecity.eval.face_recogniser import EvalRecogniser
    from safecity.eval.faces import evaluate_faces, load_detection_set, load_face_set, render_table

    s = settings()
    update: dict[str, object] = {"embed_threads": 1}
    if detector is not None:
        update["detector"] = detector
    if upsample is not None:
        update["photo_upsample"] = upsample
    if backend is not None:
        update["embed_backend"] = backend
    try:
        face_settings = type(s.faces).model_validate({**s.faces.model_dump(), **update})
    except ValueError as exc:
        fail(f"invalid option: {exc}")
    if enrol is not None and enrol < 1:
        fail(f"--enrol must be at least 1, got {enrol}")
    if gallery_size is not None and gallery_size < 1:
        fail(f"--gallery-size must be at least 1, got {gallery_size}")
    if plot is not None and plot.suffix.lower() != ".png":
        fail(f"--plot must name a .png file, got {plot}")
    try:
        face_set = load_face_set(directory)
        detection_set = load_detection_set(detection) if detection is not None else None
    except ValueError as exc:
        fail(str(exc))
    recogniser = EvalRecogniser(FaceAnalyser(face_settings, s.effective_model_cache_dir))
    with Progress(
        TextColumn("eval {task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as bar:
        task = bar.add_task(directory.name, total=len(face_set.images))
        report = evaluate_faces(
            face_set,
            recogniser.embed,
            face_settings.match_threshold,
            detection_set,
            recogniser.detect if detection_set is not None else None,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            target_fpir=face_settings.target_fpir,
            enrol=enrol if enrol is not None else face_settings.calibration_enrol,
            gallery_size=gallery_size,
            cohort_k=face_settings.cohort_k,
            cohort_weight=face_settings.cohort_weight,
        )
    if recogniser.embed_ms:
        # The embedding alone, per face: detection has its own figure (ms_detect).
        report = dc_replace(report, ms_embed=median(recogniser.embed_ms))
    out.print(render_table(report))
    out.print(
        f"detector {face_settings.detector} (photo upsample {face_settings.photo_upsample}), embedding "
        f"{face_settings.embed_backend}, flip average {face_settings.flip_average}; "
        f"{recogniser.retried} images found only by the CNN fallback"
    )
    if plot is not None and report.openset is not None:
        from safecity.eval.face_det_plot import write_det_plot

        try:
            write_det_plot(report.openset, plot)
        except ValueError as exc:
            fail(str(exc))
        out.print(f"DET plot written to {plot}")
    if as_json:
        print(json.dumps(report.to_json_dict()))


# Face commands (authorisation, watchlist, search face) live in their own module.
from safecity import (  # noqa: E402, F401
    cli_alerts,
    cli_audit,
    cli_faces,
    cli_governance,
    cli_load,
    cli_retention,
    cli_serve,
    cli_traffic,
    cli_users,
)


def main() -> None:
    app()
