"""The end-to-end demo: synthetic city -> camera register -> pipeline per clip -> store -> summary.

It always runs on the embedded default (SQLite and local files under <data_dir>/demo), which it
recreates on every run so that the summary describes exactly one run. Clips are analysed in
worker processes (the GIL would serialise them in threads); observations come back to this
process, where the single writer stores them.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Protocol

import cv2
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from safecity.analytics.faces.analyser import FaceAnalyser
from safecity.config import Settings
from safecity.demo.traffic import CONFIG_FILE, measure, print_summary, with_sim_traffic, write_config
from safecity.eval.sim_plates import CameraPlateScore, score_sim_plates
from safecity.governance.access import CONSOLE_ROLE
from safecity.governance.list_changes import (
    add_hotlist_entry,
    create_watchlist,
    record_authorisation,
    record_enrolment,
)
from safecity.governance.users import Actor
from safecity.pipeline.process import ProcessingError, process_file
from safecity.registry.geojson import cameras_from_geojson, cameras_to_geojson
from safecity.runtime.city import Runtime
from safecity.sim import SimCity, render_city
from safecity.sim.faces import GRACE_HOPPER, reference_image
from safecity.sim.rtsp import RtspServer, RtspServerError, unavailable_reason
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.face_watchlists import FaceWatchlistStore
from safecity.store.hotlists import HotlistStore
from safecity.store.media import MediaStore
from safecity.store.models import utcnow
from safecity.store.observations import ObservationQueries
from safecity.store.recordings import RecordingStore
from safecity.store.runs import save_run
from safecity.store.writer import ObservationWriter
from safecity.types import (
    Alert,
    AlertKind,
    AuthorisationPurpose,
    Camera,
    Capability,
    Observation,
    RecordingMode,
    RunStats,
)
from safecity.video.hub import VideoHub
from safecity.watch.face_enrolment import FaceAlerter, enrol_photos
from safecity.watch.faces import FaceMatcher, load_rule
from safecity.watch.hotlists import HotlistAlerter

if TYPE_CHECKING:
    from safecity.analytics.plates.reader import PlateReader
    from safecity.watch.faces import FaceMatchEvent


SIM_DIR = "sim"
"""The demo's city under its data folder: a clip `<camera id>.mp4` per camera, and the ground truth."""


DEMO_SEGMENT_S = 10.0
"""Longest recorded segment of the demo's live part (`recording.segment_s`, when set longer)."""


class _ListSink:
    """Collects a worker's observations to send back to the writer process."""

    def __init__(self) -> None:
        self.items: list[Observation] = []

    def submit_many(self, observations: Sequence[Observation]) -> None:
        self.items.extend(observations)


@dataclass(frozen=True)
class _ClipJob:
    clip: Path
    camera: Camera
    settings: Settings
    media_dir: Path
    start_time: datetime
    face_matcher: FaceMatcher | None = None


ProgressEvent = tuple[str, int, int | None]
"""(camera id, frames decoded, frames expected) sent from a worker to the progress bar."""


class _ProgressQueue(Protocol):
    def put(self, item: ProgressEvent) -> None: ...


_worker_reader: PlateReader | None = None
"""One plate reader per worker process: loading the OCR models costs more than reading a plate."""


def _plate_reader(job: _ClipJob) -> PlateReader | None:
    global _worker_reader
    if Capability.PLATES not in job.camera.capabilities:
        return None
    if _worker_reader is None:
        from safecity.analytics.plates.reader import PlateReader

        _worker_reader = PlateReader(job.settings.plates)
    return _worker_reader


_worker_faces: FaceAnalyser | None = None
"""One face analyser per worker process (detector, landmarks and the embedding network)."""


def _face_analyser(job: _ClipJob) -> FaceAnalyser | None:
    global _worker_faces
    if Capability.FACES not in job.camera.capabilities:
        return None
    if _worker_faces is None:
        from safecity.analytics.faces.analyser import FaceAnalyser

        _worker_faces = FaceAnalyser(job.settings.faces, job.settings.effective_model_cache_dir)
    return _worker_faces


class _ListMatches:
    def __init__(self) -> None:
        self.items: list[FaceMatchEvent] = []

    def submit_matches(self, events: Sequence[FaceMatchEvent]) -> None:
        self.items.extend(events)


ClipResult = tuple[RunStats, list[Observation], list["FaceMatchEvent"]]


def _process_clip(job: _ClipJob, progress_queue: _ProgressQueue) -> ClipResult:
    sink = _ListSink()
    matches = _ListMatches()
    media = MediaStore(job.media_dir, job.settings.store.snapshot_jpeg_quality)

    def report(done: int, total: int | None) -> None:
        if done % 10 == 0 or (total is not None and done >= total):
            progress_queue.put((job.camera.id, done, total))

    try:
        stats = process_file(
            job.clip,
            job.camera,
            job.settings,
            sink=sink,
            snapshots=media,
            start_time=job.start_time,
            progress=report,
            plate_reader=_plate_reader(job),
            face_analyser=_face_analyser(job),
            face_matcher=job.face_matcher,
            matches=matches,
        )
    except ProcessingError as exc:
        stats = exc.stats
    return stats, sink.items, matches.items


def write_register(city: SimCity, path: Path) -> Path:
    """The sim's cameras as a GeoJSON register, ready for `safecity camera import`."""
    data = cameras_to_geojson(city.cameras, city.sites)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def render_with_progress(
    out_dir: Path,
    settings: Settings,
    *,
    console: Console,
    cameras: int | None = None,
    seconds: float | None = None,
    seed: int | None = None,
) -> SimCity:
    with Progress(
        TextColumn("render {task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def report(camera_id: str, done: int, total: int) -> None:
            if camera_id not in tasks:
                tasks[camera_id] = bar.add_task(camera_id, total=total)
            bar.update(tasks[camera_id], completed=done)

        return render_city(
            out_dir, settings.sim, cameras=cameras, seconds=seconds, seed=seed, progress=report
        )


def _analyse(
    city: SimCity, cameras: list[Camera], settings: Settings, db: Database, console: Console
) -> tuple[list[RunStats], list[Alert]]:
    media_dir = settings.effective_media_dir
    face_store = FaceWatchlistStore(db, MediaStore(media_dir, settings.store.snapshot_jpeg_quality))
    rule = load_rule(settings.faces, settings.effective_face_calibration_path)
    matcher = FaceMatcher(face_store.templates_in_force(), rule)
    face_alerter = FaceAlerter(face_store, settings.faces.alert_repeat_s)
    jobs = [_ClipJob(city.clips[c.id], c, settings, media_dir, city.start_time, matcher) for c in cameras]
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    results: list[RunStats] = []
    alerts: list[Alert] = []
    alerter = HotlistAlerter(HotlistStore(db, settings.hotlists))
    ctx = mp.get_context("spawn")
    with (
        ctx.Manager() as manager,
        ObservationWriter(db, settings.store) as writer,
        Progress(
            TextColumn("analyse {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as bar,
        ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool,
    ):
        queue = manager.Queue()
        tasks = {job.camera.id: bar.add_task(job.camera.id, total=None) for job in jobs}
        futures: list[Future[ClipResult]] = [pool.submit(_process_clip, job, queue) for job in jobs]
        pending = set(futures)
        while pending:
            try:
                camera_id, done, total = queue.get(timeout=0.2)
                bar.update(tasks[camera_id], completed=done, total=total)
            except Empty:
                pass
            for fut in [f for f in pending if f.done()]:
                pending.discard(fut)
                stats, observations, face_matches = fut.result()
                writer.submit_many(observations)
                writer.flush()  # alerts point at stored reads and sightings
                alerts.extend(alerter.check(observations))
                alerts.extend(face_alerter.save(face_matches))
                bar.update(tasks[stats.camera_id], completed=stats.frames_decoded, total=stats.frames_decoded)
                results.append(stats)
        writer.flush()
    for stats in results:
        save_run(db, stats)
    return sorted(results, key=lambda r: r.camera_id), alerts


def _hotlist_a_sim_vehicle(city: SimCity, db: Database, settings: Settings) -> str | None:
    """Hotlist the vehicle the plate cameras see best, as a city would a car reported stolen."""
    plate_cameras = {c.id for c in city.cameras if Capability.PLATES in c.capabilities}
    widths: dict[str, int] = {}
    for a in city.truth().plates:
        if a.camera in plate_cameras:
            widths[a.plate] = widths.get(a.plate, 0) + a.box.w
    if not widths:
        return None
    plate = max(sorted(widths), key=lambda p: widths[p])
    # No expiry given: the hotlist's default (hotlists.default_expiry_days), as from the CLI.
    add_hotlist_entry(
        db, settings, DEMO_ACTOR, plate, reason="Demo: reported stolen (synthetic vehicle)", owner="demo"
    )
    return plate


DEMO_ACTOR = Actor("demo", CONSOLE_ROLE)
"""Who the demo's own setup steps are recorded as: the console's role, as `safecity` records them. The
steps go through the functions behind `safecity hotlist|authorisation|watchlist` (`list_changes`),
so each is in the audit chain exactly as a city's own would be."""


@dataclass(frozen=True, slots=True)
class _DemoWatchlist:
    label: str
    allowed: tuple[str, ...]
    outside: tuple[str, ...]


def _watchlist_a_sim_person(city: SimCity, db: Database, settings: Settings) -> _DemoWatchlist | None:
    """Enrol one of the sim's people under an authorisation that names some face cameras, not all.

    As a court would authorise a search for a missing person on particular cameras: the person
    walks past the others too, and there nothing may match.
    """
    face_cameras = sorted(c.id for c in city.cameras if Capability.FACES in c.capabilities)
    if len(face_cameras) < 2:
        return None
    allowed, outside = tuple(face_cameras[1:]), tuple(face_cameras[:1])
    start = city.start_time
    expires = datetime.now(UTC) + timedelta(days=1)
    auth = record_authorisation(
        db,
        settings,
        DEMO_ACTOR,
        authority="Demo: Higher Court in Belgrade (synthetic)",
        reference="Kpp-DEMO-1/2026",
        purpose=AuthorisationPurpose.MISSING_PERSON,
        cameras=allowed,
        valid_from=start - timedelta(hours=1),
        # Until it expires, not only the sim's hour: the live part (`serve_demo`) sees her again
        # now, on the same cameras, and must match there too.
        valid_until=max(start + timedelta(hours=1), expires),
        expires_at=expires,
        note="Synthetic authorisation for the demo: two of the three face cameras.",
    )
    media = MediaStore(settings.effective_media_dir, settings.store.snapshot_jpeg_quality)
    store = FaceWatchlistStore(db, media)
    watchlist = create_watchlist(
        store, DEMO_ACTOR, "Demo: missing person", auth, description="The sim's Grace Hopper"
    )
    photo = settings.data_dir / "enrol" / "grace_hopper.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(photo), reference_image(GRACE_HOPPER.name))
    analyser = FaceAnalyser(settings.faces, settings.effective_model_cache_dir)
    person = enrol_photos(analyser, store, watchlist.id, GRACE_HOPPER.display_name, [photo], note="demo")
    record_enrolment(store, DEMO_ACTOR, watchlist, person.id, person.label, 1)
    return _DemoWatchlist(GRACE_HOPPER.display_name, allowed, outside)


def sim_period(city: SimCity) -> str:
    """The period the analysed clips are stamped with, as the summary names it."""
    end = city.start_time + timedelta(seconds=city.scenario.seconds)
    return f"{city.start_time:%Y-%m-%d %H:%M:%S} to {end:%H:%M:%S} UTC"


def _plate_score_text(score: CameraPlateScore | None) -> str:
    """Plates read exactly / readable in the truth, plus false reads when there are any."""
    if score is None or (not score.readable and not score.false_reads):
        return "-"
    text = f"{score.read_exactly}/{score.readable}"
    return f"{text} ({score.false_reads} false)" if score.false_reads else text


def run_demo(settings: Settings, console: Console) -> Settings:
    """Render, register, analyse and summarise; returns the demo's own settings (its data folder)."""
    t0 = time.perf_counter()
    demo_dir = settings.data_dir / "demo"
    if demo_dir.exists():
        shutil.rmtree(demo_dir)
    # Short segments: the recordings timeline of the live part fills within seconds, not minutes.
    recording = settings.recording.model_copy(
        update={"segment_s": min(settings.recording.segment_s, DEMO_SEGMENT_S), "path": None}
    )
    demo_settings = settings.model_copy(
        update={"data_dir": demo_dir, "database_url": "", "media_dir": None, "recording": recording}
    )
    console.print(f"[bold]Open Safe City demo[/] in {demo_dir} (SQLite + local files)")

    city = render_with_progress(demo_dir / SIM_DIR, demo_settings, console=console)
    t_render = time.perf_counter() - t0
    demo_settings = with_sim_traffic(demo_settings, city.scenario)
    config = write_config(demo_settings, demo_dir / CONFIG_FILE)

    db = Database.open(demo_settings.effective_database_url, demo_settings.store)
    register = write_register(city, demo_dir / "cameras.geojson")
    sites, cameras = cameras_from_geojson(
        json.loads(register.read_text("utf-8")), demo_settings.camera_defaults
    )
    store = CameraStore(db)
    store.save(sites, cameras)
    public = demo_dir / "register-public.geojson"
    public_register = cameras_to_geojson(store.all(), store.sites(), public=True)
    public.write_text(json.dumps(public_register, indent=2, ensure_ascii=False), encoding="utf-8")
    console.print(f"registered {len(cameras)} cameras at {len(sites)} sites from {register}")

    hotlisted = _hotlist_a_sim_vehicle(city, db, demo_settings)
    if hotlisted:
        console.print(f"hotlisted {hotlisted} (a synthetic vehicle) to show a plate alert")
    enrolled = _watchlist_a_sim_person(city, db, demo_settings)
    if enrolled:
        console.print(
            f"enrolled {enrolled.label} on a face watchlist authorised for {', '.join(enrolled.allowed)} "
            f"(not {', '.join(enrolled.outside)})"
        )
    t1 = time.perf_counter()
    runs, alerts = _analyse(city, cameras, demo_settings, db, console)
    traffic = measure(db, demo_settings)
    alerts.extend(traffic.alerts)
    t_analyse = time.perf_counter() - t1

    queries = ObservationQueries(db)
    counts = queries.counts_by_camera()
    kinds = sorted({kind for per_camera in counts.values() for kind in per_camera}) or ["motion_tracks"]
    plate_scores = score_sim_plates(city.truth(), queries.plate_reads())
    table = Table(title=f"Demo summary: {len(cameras)} cameras, {len(sites)} sites")
    table.add_column("camera")
    table.add_column("capabilities")
    for col in ("frames", "analysed", "with motion", *(k.replace("_", " ") for k in kinds), "plates exact"):
        table.add_column(col, justify="right")
    by_id = {c.id: c for c in cameras}
    for r in runs:
        stored = counts.get(r.camera_id, {})
        table.add_row(
            r.camera_id,
            ",".join(sorted(c.value for c in by_id[r.camera_id].capabilities)),
            str(r.frames_decoded),
            str(r.frames_analysed),
            str(r.frames_with_motion),
            *(str(stored.get(k, 0)) for k in kinds),
            _plate_score_text(plate_scores.get(r.camera_id)),
        )
    failed = [r for r in runs if r.error]
    console.print(table)
    for r in failed:
        console.print(f"[red]{r.camera_id}: {r.error}[/]")
    print_summary(city, db, demo_settings, traffic, console)
    for alert in sorted(alerts, key=lambda a: a.timestamp):
        console.print(f"[bold yellow]ALERT[/] {alert.timestamp:%H:%M:%S} {alert.camera_id}: {alert.message}")
    if enrolled:
        face_alerts = [a for a in alerts if a.kind == AlertKind.FACE_WATCHLIST]
        outside = [a for a in face_alerts if a.camera_id in enrolled.outside]
        seen_outside = sorted(
            {
                f.camera
                for f in city.truth().faces
                if f.camera in enrolled.outside and f.identity == GRACE_HOPPER.name
            }
        )
        console.print(
            f"face watchlist: {len(face_alerts)} alerts on authorised cameras, {len(outside)} on "
            f"{', '.join(enrolled.outside)} (outside the authorisation"
            + (f"; {enrolled.label} walked past {', '.join(seen_outside)} too)" if seen_outside else ")")
        )
    total = time.perf_counter() - t0
    console.print(
        f"render {t_render:.1f} s, analysis {t_analyse:.1f} s, total {total:.1f} s\n"
        f"stored times: {sim_period(city)} (the sim's clock, burnt into its frames): the dashboard's "
        "last-hour and 24-hour charts show only what the live cameras add from now on\n"
        f"database:     {demo_settings.effective_database_url}\n"
        f"snapshots:    {demo_settings.effective_media_dir}\n"
        f"clips:        {city.out_dir}\n"
        f"ground truth: {city.truth_path}\n"
        f"register:     {register} (public: {public})\n"
        f"explore:      SAFECITY_DATA_DIR={demo_dir} .venv/bin/safecity camera list\n"
        f"traffic:      SAFECITY_CONFIG={config} .venv/bin/safecity traffic report "
        f"--since {city.start_time.isoformat()} --until {(city.start_time + timedelta(hours=1)).isoformat()} "
        "--out traffic.html\n"
        f"face search:  SAFECITY_DATA_DIR={demo_dir} .venv/bin/safecity search face "
        f"{demo_settings.data_dir / 'enrol' / 'grace_hopper.jpg'} --reason 'demo: find the missing person'"
    )
    db.close()
    return demo_settings


DEMO_USERS = (
    ("investigator", "investigator"),
    ("operator", "operator"),
    ("operator2", "operator"),
    ("auditor", "auditor"),
)
"""Accounts the demo creates beside the first admin, so every part of the UI can be tried."""

RTSP_LOG = "rtsp-server.log"
"""The RTSP server's messages, under the demo's data folder (GStreamer warnings stay off the terminal)."""


def demo_clips(settings: Settings, cameras: Sequence[Camera]) -> dict[str, Path]:
    """Camera id -> its rendered clip under `<data_dir>/sim`, for the cameras that have one."""
    folder = settings.data_dir / SIM_DIR
    clips = {c.id: folder / f"{c.id}.mp4" for c in cameras}
    return {camera_id: clip for camera_id, clip in clips.items() if clip.is_file()}


@dataclass
class _LiveCity:
    """The demo's cameras made live: the sim's clips as looping RTSP cameras, the register pointing
    at them (recording continuously), the live runtime analysing them and the recorders."""

    rtsp: RtspServer
    cameras: list[Camera]
    """As registered while live: their RTSP URLs, recording continuously."""
    runtime: Runtime
    hub: VideoHub


def _start_rtsp(settings: Settings, db: Database, console: Console) -> tuple[RtspServer, list[Camera]] | None:
    """Serve the city's clips over RTSP; None (and one line saying why) where that cannot be done."""
    cameras = [c for c in CameraStore(db).all() if c.enabled]
    clips = demo_clips(settings, cameras)
    if not clips:
        console.print(f"no rendered clips under {settings.data_dir / SIM_DIR}: serving without live cameras")
        return None
    if reason := unavailable_reason():
        console.print(f"[yellow]no live cameras: {escape(reason)}[/] (serving the stored results only)")
        return None
    server = RtspServer(clips, log=settings.data_dir / RTSP_LOG)
    try:
        server.start()
    except RtspServerError as exc:
        console.print(f"[yellow]no live cameras: {escape(str(exc))}[/] (serving the stored results only)")
        return None
    return server, [c for c in cameras if c.id in clips]


def _go_live(db: Database, rtsp: RtspServer, registered: list[Camera]) -> list[Camera]:
    """Point the cameras at their RTSP mounts and have them record continuously (the register shows it)."""
    live = [replace(c, stream_url=rtsp.url(c.id), recording=RecordingMode.CONTINUOUS) for c in registered]
    CameraStore(db).save([], live, replace=True)
    return live


def serve_demo(demo_settings: Settings, console: Console, stop: threading.Event) -> None:
    """Serve the API and web UI over the demo's database until `stop` is set; print the logins.

    Where GStreamer's RTSP server can run, the demo's cameras are live meanwhile: their clips loop
    as RTSP cameras, the live runtime analyses them (camera states, alerts) and the recorders keep
    their video. On `stop` the runtime stops first (open tracks decided, observations flushed),
    then the recorders, the API and last the RTSP server, so nothing sees its camera vanish; the
    register gets its cameras' earlier stream URLs and recording modes back.
    """
    from safecity.governance.users import FIRST_ADMIN, UserStore, ensure_first_admin, generate_password
    from safecity.server.app import create_app
    from safecity.server.runner import ApiServer

    db = Database.open(demo_settings.effective_database_url, demo_settings.store)
    with ExitStack() as stack:  # exits run last in, first out: the reverse of the starts below
        stack.callback(db.close)
        users = UserStore(db)
        admin_password = ensure_first_admin(db, store=users)
        if admin_password is None:  # an earlier demo server made it: a new password, shown again
            admin_password = generate_password()
            users.set_password(FIRST_ADMIN, admin_password)
        logins = [(FIRST_ADMIN, "admin", admin_password)]
        for name, role in DEMO_USERS:
            password = generate_password()
            users.add(name, role, password)
            logins.append((name, role, password))

        live: _LiveCity | None = None
        started = _start_rtsp(demo_settings, db, console)
        if started is not None:
            rtsp, registered = started
            stack.callback(rtsp.stop)
            # Stopped, the register names the clips again and records nothing (its recordings stay).
            stack.callback(CameraStore(db).save, [], registered, replace=True)
            cameras = _go_live(db, rtsp, registered)
            # No retention sweep: the batch part's observations and alerts carry the sim's clock
            # (months before today), so the first sweep would delete what the demo has just shown.
            runtime = Runtime(demo_settings, db, housekeeping=False)
            hub = VideoHub(
                demo_settings.recording,
                RecordingStore(db, demo_settings.effective_recordings_dir),
                clock=utcnow,
            )
            live = _LiveCity(rtsp, cameras, runtime, hub)

        app = create_app(
            demo_settings,
            db,
            camera_health=None if live is None else live.runtime.health,
            video=None if live is None else live.hub,
        )
        api = ApiServer(app, demo_settings.api.host, demo_settings.api.port).start()
        stack.callback(api.close)
        if live is not None:
            # The recorders stop before the API: their viewers' streams end, so the API's open
            # responses finish and it stops at once.
            stack.callback(live.hub.stop)
            with _workers_ignore_ctrl_c():
                live.runtime.start()
            stack.callback(live.runtime.stop)
            live.hub.reconcile()
            live.hub.record(live.cameras)

        console.print(f"[bold]web UI: {api.url}/[/]  (public register: {api.url}/register; Ctrl-C stops)")
        for name, role, password in logins:
            console.print(f"  login {name!r} ({role}) password {password}")
        if live is not None:
            _print_live(live, api.url, demo_settings, console)
            live.runtime.run_until(stop)
            console.print(
                "stopping: the live runtime (open tracks, observations), recorders, web UI, cameras"
            )
        else:
            stop.wait()


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start processes with SIGINT ignored (inherited across exec; Python then keeps it ignored).

    Ctrl-C in a terminal signals the whole foreground process group: the analysis workers would
    die mid-frame with a traceback each and lose their open tracks. The demo stops them itself
    (`Runtime.stop`), and they die with this process anyway. Only the main thread may set signal
    handlers; started from another thread (tests), nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def recording_rate(clips: Sequence[Path], clip_seconds: float) -> float:
    """Bytes a second the recorders write for `clips` looping as cameras: their own bitrate (the
    recorders keep the cameras' H.264 as it comes, without re-encoding)."""
    if clip_seconds <= 0:
        raise ValueError(f"clip_seconds must be positive, got {clip_seconds}")
    return sum(clip.stat().st_size for clip in clips) / clip_seconds


def recording_note(rate: float, folder: Path) -> str:
    """One line saying how fast the live demo's recordings grow, and where."""
    per_hour = rate * 3600 / 1e9
    return (
        f"  recordings  about {per_hour:.1f} GB an hour ({rate * 8 / 1e6:.1f} Mbit/s) go to {folder}: "
        "delete that folder after the demo (or set recording.segment_s and retention to keep less)"
    )


def _print_live(live: _LiveCity, url: str, settings: Settings, console: Console) -> None:
    """What a newcomer should look at while the demo is live."""
    ids = [c.id for c in live.cameras]
    clips = demo_clips(settings, live.cameras)
    console.print(
        f"[bold]live:[/] {len(ids)} cameras streaming their clips in a loop at "
        f"rtsp://127.0.0.1:{live.rtsp.port}/<camera id>, analysed as `safecity serve` would and "
        f"recorded in {settings.recording.segment_s:g}-s segments to {settings.effective_recordings_dir}\n"
        f"  dashboard   {url}/  camera states (connecting, then live) and alerts as they arrive\n"
        f"  camera page {url}/cameras/{ids[0]}  live video and the recordings timeline "
        f"(the first segment closes after about {settings.recording.segment_s:g} s)\n"
        f"  register    {url}/register  which cameras record and for how long\n"
        f"  audit log   {url}/audit  (login 'auditor') every step above, the demo's own setup included\n"
        + recording_note(
            recording_rate(list(clips.values()), settings.sim.seconds), settings.effective_recordings_dir
        )
    )
