"""`safecity serve`: every enabled live camera decoded, gated and analysed, observations stored, health shown.

Process layout. Cameras are spread over worker processes (one per core by default: the GIL
would serialise analysers in threads). In a worker, each camera has a reader thread (its
`LiveSource`: PyAV decodes with the GIL released) feeding a bounded drop-oldest queue, and an
analysis thread that takes the newest frames through the camera's `CameraPipeline`. A frame is
decoded, analysed and dropped in the same process, so it is never copied between processes;
only observations, face matches and health reports cross to the main process, which holds the
single database writer, raises alerts and serves /metrics and /status. Analysis in a worker
runs one camera at a time (the models are shared and not all thread-safe); decoding never
waits for it, and a camera whose analysis falls behind loses its oldest frames, counted.
Workers die with the main process, even by `kill -9` (parent-death signal, and a thread that
watches the parent), and write no files: a snapshot travels with its observation and the
writer writes it with the row (store/media.py), so nothing is left that no row refers to.

The main process re-reads the camera register every `streams.reload_interval_s`: cameras
added, enabled, disabled, removed or changed are started or stopped in their worker without
touching the others; the face templates in force are re-read as well. Every
`retention.sweep_interval_s` (first at start) a thread runs the retention sweep
(governance/retention.py) and, on PostgreSQL, creates the coming months' observation
partitions. `stop()` (SIGTERM in the CLI) stops every camera, decides its open tracks and
passages, and flushes the writer.

Where cameras run is a `WorkerPool`: worker processes here (`ProcessWorkers`), or Ray actors
across machines (`cluster/ray_pool.RayWorkers`, `serve --cluster`), which store observations
themselves and send the main process only what it checks for alerts.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from safecity.config import Settings
from safecity.pipeline.health import CameraHealth, OfflineWatch, RateMeter
from safecity.sources.backoff import Backoff
from safecity.types import Alert, Camera, Capability, Observation, PlateRead

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as EventType

    from safecity.pipeline.faces import FaceMatchEvent
    from safecity.store.database import Database
    from safecity.store.media import StagedSnapshots
    from safecity.watch.face_decision import OpenSetRule
    from safecity.watch.faces import FaceMatcher

log = logging.getLogger(__name__)

LIVE_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
_POLL_S = 0.2


def is_live(camera: Camera) -> bool:
    return camera.enabled and camera.stream_url.lower().startswith(LIVE_SCHEMES)


# ------------------------------------------------------------------ worker process side


@dataclass(frozen=True)
class _Add:
    camera: Camera


@dataclass(frozen=True)
class _Remove:
    camera_id: str


@dataclass(frozen=True)
class _Matcher:
    matcher: FaceMatcher | None


@dataclass(frozen=True)
class _Stop:
    pass


class QueueSink:
    """What a camera's pipeline hands over, as messages on `out` (anything with `put`).

    Observations go out with the snapshot JPEGs `staged` holds for them: the worker writes no
    file, the writer that stores the rows writes them (see store/media.py), so a worker that
    outlives its `serve` leaves nothing on disk.
    """

    def __init__(self, out: Any, staged: StagedSnapshots | None = None) -> None:
        self.out = out
        self.staged = staged

    def with_snapshots(self, staged: StagedSnapshots) -> QueueSink:
        """A sink on the same queue carrying the snapshots `staged` holds (one per camera)."""
        return QueueSink(self.out, staged)

    def submit_many(self, observations: Sequence[Observation]) -> None:
        files = self.staged.take() if self.staged is not None else {}
        self.out.put(("obs", list(observations), files))

    def submit_matches(self, events: Sequence[FaceMatchEvent]) -> None:
        self.out.put(("match", list(events)))


class SharedModels:
    """Analysers shared by the cameras of one worker, loaded on first use, used under one lock."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self._plates: Any = None
        self._faces: Any = None

    def plate_reader(self) -> Any:
        if self._plates is None:
            from safecity.analytics.plates.reader import PlateReader

            self._plates = PlateReader(self.settings.plates)
        return self._plates

    def face_analyser(self) -> Any:
        if self._faces is None:
            from safecity.analytics.faces.analyser import FaceAnalyser

            self._faces = FaceAnalyser(self.settings.faces, self.settings.effective_model_cache_dir)
        return self._faces


class CameraRun:
    """One camera in a worker: its live source and the thread that analyses what it decodes."""

    def __init__(
        self,
        camera: Camera,
        settings: Settings,
        worker: int,
        models: SharedModels,
        sink: QueueSink,
        matcher: Any,
    ) -> None:
        from safecity.pipeline.process import CameraPipeline
        from safecity.sources.live import LiveSource
        from safecity.store.media import MediaStore, StagedSnapshots

        s = settings.streams
        self.camera = camera
        self.worker = worker
        self.source = LiveSource(
            camera.id,
            camera.stream_url,
            sample_fps=settings.camera_defaults.analysis_fps,
            transport=s.transport,
            queue_size=s.queue_size,
            stall_timeout_s=s.stall_timeout_s,
            open_timeout_s=s.open_timeout_s,
            backoff=Backoff(s.backoff_initial_s, s.backoff_factor, s.backoff_cap_s, s.backoff_jitter),
        )
        staged = StagedSnapshots(
            MediaStore(settings.effective_media_dir, settings.store.snapshot_jpeg_quality)
        )
        with models.lock:
            self.pipeline = CameraPipeline(
                camera,
                settings,
                sink=sink.with_snapshots(staged),
                snapshots=staged,
                plate_reader=models.plate_reader() if Capability.PLATES in camera.capabilities else None,
                face_analyser=models.face_analyser() if Capability.FACES in camera.capabilities else None,
                face_matcher=matcher,
                matches=sink,
            )
        self.models = models
        self.analysed = RateMeter()
        self.decoded = RateMeter()
        self._decoded_before = 0
        self.last_ts: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"analyse-{camera.id}", daemon=True)

    def start(self) -> None:
        self.source.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.source.request_stop()
        self._thread.join(timeout=30)
        self.source.stop(timeout=10)
        with self.models.lock:
            self.pipeline.finish()

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self.source.get(timeout=_POLL_S)
            if frame is None:
                continue
            try:
                with self.models.lock:
                    self.pipeline.feed(frame)
            except Exception:  # one bad frame must not end a camera: log it and go on
                log.exception("camera %s: analysis failed on a frame", self.camera.id)
            self.analysed.add()
            self.last_ts = frame.timestamp

    def health(self) -> CameraHealth:
        st = self.source.status
        self.decoded.add(st.frames_decoded - self._decoded_before)
        self._decoded_before = st.frames_decoded
        now = datetime.now(UTC)
        return CameraHealth(
            camera_id=self.camera.id,
            worker=self.worker,
            state=st.state.value,
            since=st.since,
            url=st.url,
            last_error=st.last_error,
            input_fps=self.decoded.rate(),
            analysed_fps=self.analysed.rate(),
            queue_depth=st.queue_depth,
            dropped=st.dropped,
            reconnects=st.reconnects,
            decode_errors=st.decode_errors,
            frames_analysed=self.pipeline.analysed,
            observations=self.pipeline.observations,
            # Stream clocks are anchored at the first frame's arrival, so jitter can put a frame a
            # little "in the future"; lag is how far behind real time analysis is, never below 0.
            lag_s=max(0.0, (now - self.last_ts).total_seconds()) if self.last_ts is not None else None,
            last_frame_at=st.last_frame_at,
        )


_PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal the kernel sends this process when its parent dies (Linux)."""
_PARENT_GONE_EXIT = 70
"""Exit status of a worker that ended because the process that started it is gone (EX_SOFTWARE)."""


def _set_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that cannot be set.

    SIGKILL, not SIGTERM: an orphaned worker has nothing to save (its observations could only
    reach the parent's writer, and it writes no files itself), and it must not linger. The
    kernel takes the *thread* that started the process as its parent, so `ProcessWorkers.start`
    belongs on a thread that lives as long as the pool (the main thread in `safecity serve`).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _exit_with_parent(parent_pid: int) -> None:
    """Watch the parent and end this worker at once when it is gone, whatever the worker is doing.

    Portable (no prctl needed): the parent's sentinel, a pipe the parent holds open, reads as
    closed when it dies; without one (not started by multiprocessing), a changed parent id
    tells. Runs on a daemon thread so that a worker busy stopping cameras notices as well.
    """
    parent = mp.parent_process()
    if parent is not None:
        parent.join()
    else:
        while os.getppid() == parent_pid:
            time.sleep(_POLL_S)
    log.warning("worker %d: the serve process %d is gone; exiting", os.getpid(), parent_pid)
    os._exit(_PARENT_GONE_EXIT)  # now: no clean-up may wait on queues nobody reads any more


def _worker_main(
    worker: int, settings: Settings, control: Any, out: Any, parent_pid: int, death_signal: bool = True
) -> None:
    logging.basicConfig(level=logging.WARNING)
    if death_signal and not _set_death_signal():
        log.debug("worker %d: no parent-death signal here; the parent watch alone ends it", worker)
    if os.getppid() != parent_pid:  # the parent died before the death signal was set
        os._exit(_PARENT_GONE_EXIT)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), name="parent-watch", daemon=True).start()
    models = SharedModels(settings)
    sink = QueueSink(out)
    runs: dict[str, CameraRun] = {}
    matcher: Any = None
    next_status = 0.0
    while True:
        try:
            message = control.get(timeout=_POLL_S)
        except queue.Empty:
            message = None
        if isinstance(message, _Stop):
            break
        if isinstance(message, _Add):
            if message.camera.id in runs:
                runs.pop(message.camera.id).stop()
            try:
                run = CameraRun(message.camera, settings, worker, models, sink, matcher)
                run.start()
                runs[message.camera.id] = run
            except Exception as exc:  # a camera that cannot start is reported, the others go on
                out.put(("error", message.camera.id, str(exc)))
        elif isinstance(message, _Remove) and message.camera_id in runs:
            runs.pop(message.camera_id).stop()
            out.put(("removed", message.camera_id))
        elif isinstance(message, _Matcher):
            matcher = message.matcher
            for run in runs.values():
                run.pipeline.set_face_matcher(matcher)
        if time.monotonic() >= next_status:
            out.put(("status", [r.health() for r in runs.values()]))
            next_status = time.monotonic() + settings.streams.status_interval_s
    for run in runs.values():
        run.stop()
    out.put(("status", [r.health() for r in runs.values()]))
    out.put(("bye", worker))


class WorkerPool(Protocol):
    """Where cameras are analysed: worker processes on this machine, or Ray actors (safecity/cluster).

    The pool says where a new camera goes (`place`, given the runtime's count of cameras per
    worker 0 … size-1; a pool may grow), carries out additions and removals, and hands back what
    its workers send, as the messages `_worker_main` puts on its queue:
    ("obs", observations, snapshot JPEGs by reference) to be stored (the files with their rows),
    ("stored", plate reads) already stored by the worker, ("match", face match events),
    ("status", health), ("error", camera id, message).
    """

    @property
    def size(self) -> int: ...

    def start(self) -> None: ...

    def place(self, camera: Camera, load: Sequence[int]) -> int:
        """The worker a new camera goes to, given how many cameras each worker runs."""
        ...

    def add(self, worker: int, camera: Camera) -> None: ...

    def remove(self, worker: int, camera_id: str) -> None: ...

    def set_matcher(self, matcher: FaceMatcher | None) -> None: ...

    def receive(self, wait_s: float) -> list[tuple[Any, ...]]:
        """What workers sent, waiting up to `wait_s` for the first message."""
        ...

    def stop(self) -> list[tuple[Any, ...]]:
        """Stop every camera (open tracks decided) and every worker; what they sent while stopping."""
        ...


class ProcessWorkers:
    """Worker processes on this machine, one per core by default (see the module docstring).

    Workers die with the process that started them, even by `kill -9`: on Linux by the parent-death
    signal, everywhere by a thread that watches the parent (`_exit_with_parent`); `death_signal`
    False leaves the signal out (tests of the portable watch).
    """

    def __init__(self, settings: Settings, size: int, *, death_signal: bool = True) -> None:
        self.size = size
        self._ctx = mp.get_context("spawn")
        self._out: Any = self._ctx.Queue()
        self._controls: list[Any] = [self._ctx.Queue() for _ in range(size)]
        self._procs = [
            self._ctx.Process(
                target=_worker_main,
                args=(i, settings, self._controls[i], self._out, os.getpid(), death_signal),
                name=f"safecity-worker-{i}",
            )
            for i in range(size)
        ]

    @property
    def pids(self) -> list[int | None]:
        """The workers' process ids (None before `start`)."""
        return [p.pid for p in self._procs]

    def start(self) -> None:
        for p in self._procs:
            p.start()

    def place(self, camera: Camera, load: Sequence[int]) -> int:
        return min(range(self.size), key=lambda i: load[i])

    def add(self, worker: int, camera: Camera) -> None:
        self._controls[worker].put(_Add(camera))

    def remove(self, worker: int, camera_id: str) -> None:
        self._controls[worker].put(_Remove(camera_id))

    def set_matcher(self, matcher: FaceMatcher | None) -> None:
        for control in self._controls:
            control.put(_Matcher(matcher))

    def receive(self, wait_s: float) -> list[tuple[Any, ...]]:
        items: list[tuple[Any, ...]] = []
        try:
            items.append(self._out.get(timeout=wait_s))
            while True:
                items.append(self._out.get_nowait())
        except queue.Empty:
            pass
        return items

    def stop(self) -> list[tuple[Any, ...]]:
        for control in self._controls:
            control.put(_Stop())
        items: list[tuple[Any, ...]] = []
        alive = set(range(self.size))
        deadline = time.monotonic() + 60
        while alive and time.monotonic() < deadline:
            try:
                item = self._out.get(timeout=_POLL_S)
            except queue.Empty:
                alive = {i for i in alive if self._procs[i].is_alive()}
                continue
            if item[0] == "bye":
                alive.discard(item[1])
            else:
                items.append(item)
        for p in self._procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
        return items


# ------------------------------------------------------------------ main process side


class Runtime:
    """Starts the workers, keeps cameras assigned, stores what they send, serves health."""

    def __init__(
        self, settings: Settings, db: Database, *, workers: int | None = None, pool: WorkerPool | None = None
    ) -> None:
        from safecity.store.face_watchlists import FaceWatchlistStore
        from safecity.store.hotlists import HotlistStore
        from safecity.store.media import MediaStore
        from safecity.store.writer import ObservationWriter
        from safecity.watch.face_enrolment import FaceAlerter
        from safecity.watch.hotlists import HotlistAlerter
        from safecity.watch.speeding import SpeedingWatch

        self.settings = settings
        self.db = db
        n = workers or settings.streams.workers or os.cpu_count() or 1
        self._pool: WorkerPool = pool if pool is not None else ProcessWorkers(settings, n)
        self._assigned: dict[str, tuple[int, Camera]] = {}
        self._health: dict[str, CameraHealth] = {}
        self._lock = threading.Lock()
        self._writer = ObservationWriter(db, settings.store, media=MediaStore(settings.effective_media_dir))
        self._faces = FaceWatchlistStore(db, MediaStore(settings.effective_media_dir))
        self._face_alerter = FaceAlerter(self._faces)
        self._hotlists = HotlistAlerter(HotlistStore(db, settings.hotlists))
        self._speeding = SpeedingWatch(db, settings.traffic) if settings.traffic.sections else None
        self._offline = OfflineWatch(settings.streams.offline_alert_s)
        self._pending_matches: list[FaceMatchEvent] = []
        self.alerts: list[Alert] = []
        self.errors: dict[str, str] = {}
        self._next_reload = 0.0
        self._templates_seen: tuple[Any, ...] | None = None
        self._rule: OpenSetRule | None = None
        self._rule_stamp: int | None = None
        self._next_sweep = 0.0
        self._sweeper: threading.Thread | None = None
        self._next_anchor = time.monotonic() + settings.governance.anchor_check_s

    # -- lifecycle

    def start(self) -> None:
        self._pool.start()
        self.reload()

    def health(self) -> list[CameraHealth]:
        with self._lock:
            return sorted(self._health.values(), key=lambda h: h.camera_id)

    def run_until(self, stop: threading.Event | EventType, deadline: float | None = None) -> None:
        """Store and watch until `stop` is set (or the monotonic `deadline` passes)."""
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            self.step()

    def step(self, wait_s: float = _POLL_S) -> None:
        for item in self._pool.receive(wait_s):
            self._handle(item)
        self._flush_matches()
        if self._speeding is not None:
            self.alerts.extend(self._speeding.advance(datetime.now(UTC)))
        if time.monotonic() >= self._next_reload:
            self.reload()
        if time.monotonic() >= self._next_sweep and not (self._sweeper and self._sweeper.is_alive()):
            self._next_sweep = time.monotonic() + self.settings.retention.sweep_interval_s
            self._sweeper = threading.Thread(target=self._sweep, name="safecity-retention", daemon=True)
            self._sweeper.start()
        if time.monotonic() >= self._next_anchor:
            self._next_anchor = time.monotonic() + self.settings.governance.anchor_check_s
            self.anchor(force=False)

    def anchor(self, *, force: bool = True) -> None:
        """Anchor the audit head (when due, or now with `force`); an error is logged, never fatal."""
        from safecity.governance.audit import anchorer

        try:
            anchorer(self.db, self.settings).anchor(force=force)
        except Exception:
            log.exception("could not append the audit anchor to %s", self.settings.effective_anchor_path)

    def stop(self) -> None:
        for item in self._pool.stop():
            self._handle(item)
        self._flush_matches()
        self._writer.close()
        if self._speeding is not None:
            self.alerts.extend(self._speeding.finish())
        if self._sweeper is not None:
            self._sweeper.join(timeout=60)
        self.anchor()

    # -- register and watchlists

    def reload(self) -> None:
        from safecity.governance.authorisations import enforce_configured
        from safecity.store.cameras import CameraStore
        from safecity.watch.faces import FaceMatcher

        self._next_reload = time.monotonic() + self.settings.streams.reload_interval_s
        if self._speeding is not None:
            self._speeding.reload()  # cameras moved, came or went: the sections' distances with them
        # Lapsed, refused or expired authorisations: matching stops and their data goes now.
        for done in enforce_configured(self.settings, self.db):
            log.warning(
                "authorisation %s %s: its watchlists and matches were deleted", done.reference, done.status
            )
        wanted = {c.id: c for c in CameraStore(self.db).all() if is_live(c)}
        for camera_id, (worker, camera) in list(self._assigned.items()):
            if wanted.get(camera_id) != camera:
                self._pool.remove(worker, camera_id)
                del self._assigned[camera_id]
                with self._lock:
                    self._health.pop(camera_id, None)
                self._offline.forget(camera_id)
        templates = tuple(self._faces.templates_in_force())
        previous = self._rule
        rule = self._face_rule()
        if templates != self._templates_seen or rule is not previous:
            self._templates_seen = templates
            matcher = FaceMatcher(templates, rule) if templates else None
            self._pool.set_matcher(matcher)
        for camera_id, camera in wanted.items():
            if camera_id not in self._assigned:
                try:
                    worker = self._pool.place(camera, self._load())
                except Exception as exc:  # no worker can take it (a cluster too small): tried again at reload
                    if self.errors.get(camera_id) != str(exc):
                        log.error("camera %s has no worker: %s", camera_id, exc)
                    self.errors[camera_id] = str(exc)
                    continue
                self.errors.pop(camera_id, None)
                self._assigned[camera_id] = (worker, camera)
                self._pool.add(worker, camera)

    def _sweep(self) -> None:
        """Housekeeping on its own thread so that storing never waits for it: the retention sweep, and
        (PostgreSQL) the coming months' observation partitions. Errors are logged."""
        from safecity.governance.retention import sweep_configured
        from safecity.store.partitions import ensure_partitions

        try:
            sweep_configured(self.settings, self.db)
        except Exception:
            log.exception(
                "retention sweep failed; next try in %.0f s", self.settings.retention.sweep_interval_s
            )
        try:
            with self.db.engine.begin() as conn:
                ensure_partitions(conn, self.settings.store.partition_months_ahead)
        except Exception:
            log.exception("could not create the coming months' observation partitions")

    def _face_rule(self) -> OpenSetRule:
        """The watchlist decision rule, read again when `safecity faces calibrate` wrote a new one."""
        from safecity.watch.faces import load_rule

        path = self.settings.effective_face_calibration_path
        stamp = path.stat().st_mtime_ns if path.exists() else None
        if self._rule is None or stamp != self._rule_stamp:
            self._rule = load_rule(self.settings.faces, path)
            self._rule_stamp = stamp
        return self._rule

    def _load(self) -> list[int]:
        """Cameras per worker."""
        load = [0] * self._pool.size
        for worker, _ in self._assigned.values():
            load[worker] += 1
        return load

    # -- what workers send

    def _handle(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind in ("obs", "stored"):
            observations: list[Observation] = item[1]
            if kind == "obs":
                self._writer.submit_many(observations, files=item[2] if len(item) > 2 else None)
            plates = [o for o in observations if isinstance(o, PlateRead)]
            if plates:
                if kind == "obs":
                    self._writer.flush()  # alerts point at stored reads
                self.alerts.extend(self._hotlists.check(plates))
                if self._speeding is not None:
                    self.alerts.extend(self._speeding.check(plates))
        elif kind == "match":
            self._pending_matches.extend(item[1])
        elif kind == "status":
            from safecity.store.alerts import save_alerts

            health: list[CameraHealth] = item[1]
            raised = []
            with self._lock:
                for h in health:
                    if h.camera_id in self._assigned:
                        self._health[h.camera_id] = h
            for h in health:
                alert = self._offline.check(h)
                if alert is not None:
                    raised.append(alert)
            if raised:
                save_alerts(self.db, raised)
                self.alerts.extend(raised)
        elif kind == "error":
            self.errors[item[1]] = item[2]
            log.error("camera %s could not start: %s", item[1], item[2])

    def _flush_matches(self) -> None:
        if self._pending_matches:
            self._writer.flush()  # the sightings the alerts point at
            events, self._pending_matches = self._pending_matches, []
            self.alerts.extend(self._face_alerter.save(events))
