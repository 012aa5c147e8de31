"""Where cameras run: worker processes that each decode and analyse some cameras.

Cameras are spread over worker processes (one per core by default: the GIL would serialise
analysers in threads). In a worker, each camera has a reader thread (its `LiveSource`: PyAV decodes
with the GIL released) feeding a bounded drop-oldest queue, and an analysis thread that takes the
newest frames through the camera's `CameraPipeline`. A frame is decoded, analysed and dropped in
the same process, so it is never copied between processes; only observations, face matches and
health reports cross to the main process (`safecity.runtime`), which holds the single database
writer and raises alerts. Analysis in a worker runs one camera at a time (the models are shared
and not all thread-safe); decoding never waits for it, and a camera whose analysis falls behind
loses its oldest frames, counted. Workers die with the main process, even by `kill -9`
(parent-death signal, and a thread that watches the parent), and write no files: a snapshot
travels with its observation and the writer writes it with the row (store/media.py), so nothing
is left that no row refers to.

`WorkerPool` is the protocol the city runtime drives: `ProcessWorkers` here, or Ray actors across
machines (`cluster/ray_pool.RayWorkers`, `serve --cluster`).
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
from safecity.pipeline.health import CameraHealth, RateMeter
from safecity.sources.backoff import Backoff
from safecity.types import Camera, Capability, Observation

if TYPE_CHECKING:
    from safecity.store.media import StagedSnapshots
    from safecity.watch.faces import FaceMatcher, FaceMatchEvent

log = logging.getLogger(__name__)

LIVE_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
POLL_S = 0.2


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
            frame = self.source.get(timeout=POLL_S)
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
            time.sleep(POLL_S)
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
            message = control.get(timeout=POLL_S)
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
                item = self._out.get(timeout=POLL_S)
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
