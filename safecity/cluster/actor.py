"""One Ray actor's work: several cameras decoded and analysed, their observations written to the store.

`CameraActor` is a plain class; `cluster/ray_pool.py` makes it a Ray actor with the CPU/GPU
resources the settings declare, and Ray restarts it (a fresh `__init__`, a new `incarnation`)
when its process dies. It runs the same `CameraRun`s as a worker process of `serve` on one
machine, but writes what they observe itself, in batches, through its own `ObservationWriter`:
observations never cross the network to the driver. Writes are idempotent (deterministic ids,
insert-or-ignore), so a recording analysed again after a restart stores nothing twice.

The driver learns what happened from `report`: the plate reads already stored (for hotlist and
speed checks), face match events (sightings stored first), camera health and start errors. A
report is held back up to `cluster.report_wait_s` while there is nothing to send, so polling
many actors costs little. Methods run on a small thread pool (the actor's `max_concurrency`):
a long `analyse_recording` does not hold up `report`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safecity.config import Settings
from safecity.pipeline.health import CameraHealth
from safecity.pipeline.sinks import PlateCollectingSink
from safecity.pipeline.workers import CameraRun, QueueSink, SharedModels
from safecity.types import Camera, Capability, Observation, PlateRead, RunStats, new_id

if TYPE_CHECKING:
    from safecity.store.writer import ObservationWriter
    from safecity.watch.faces import FaceMatcher, FaceMatchEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recording:
    """A video file to analyse as a registered camera, its first frame at `start_time`."""

    camera: Camera
    path: Path
    start_time: datetime


@dataclass(frozen=True, slots=True)
class RecordingResult:
    """What analysing one recording produced: its run, the plate reads stored, its face matches."""

    stats: RunStats
    plates: tuple[PlateRead, ...]
    matches: tuple[FaceMatchEvent, ...]
    incarnation: str


@dataclass(frozen=True, slots=True)
class ActorReport:
    """What an actor has to tell the driver since its last report, in `Runtime._handle`'s message shapes."""

    incarnation: str
    slot: int
    items: tuple[tuple[Any, ...], ...] = field(default=())


class _Outbox:
    """Where an actor's camera runs put their messages: observations go to the writer, the rest wait."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.changed = threading.Condition()
        self.items: list[tuple[Any, ...]] = []

    def put(self, item: tuple[Any, ...]) -> None:
        if item[0] == "obs":
            observations: list[Observation] = item[1]
            self.writer.submit_many(observations, files=item[2] if len(item) > 2 else None)
            plates = [o for o in observations if isinstance(o, PlateRead)]
            if not plates:
                return
            item = ("stored", plates)  # stored by the time a report carries it: reports flush first
        with self.changed:
            self.items.append(item)
            self.changed.notify_all()

    def take(self, wait_s: float) -> list[tuple[Any, ...]]:
        with self.changed:
            self.changed.wait_for(lambda: bool(self.items), timeout=wait_s)
            items, self.items = self.items, []
            return items


class CameraActor:
    """Several cameras in one process, anywhere in the cluster; see the module docstring."""

    def __init__(self, settings: Settings, slot: int) -> None:
        from safecity.store.database import Database
        from safecity.store.media import MediaStore
        from safecity.store.writer import ObservationWriter

        logging.basicConfig(level=logging.WARNING)
        self.settings = settings
        self.slot = slot
        self.incarnation = new_id()
        self.db = Database.connect(settings.effective_database_url, settings.store)
        # Snapshots of live cameras come staged with their observations: written with the rows.
        self.writer = ObservationWriter(
            self.db, settings.store, media=MediaStore(settings.effective_media_dir)
        )
        self.models = SharedModels(settings)
        self.outbox = _Outbox(self.writer)
        self.sink = QueueSink(self.outbox)
        self.runs: dict[str, CameraRun] = {}
        self.matcher: FaceMatcher | None = None
        self._lock = threading.Lock()
        self._next_status = 0.0

    def pid(self) -> int:
        """The actor's process id (fault tests kill it)."""
        return os.getpid()

    def ping(self) -> str:
        return self.incarnation

    def add(self, camera: Camera) -> None:
        """Start analysing a live camera; a camera already running unchanged is left as it is."""
        with self._lock:
            running = self.runs.get(camera.id)
            if running is not None:
                if running.camera == camera:
                    return
                self.runs.pop(camera.id).stop()
            try:
                run = CameraRun(camera, self.settings, self.slot, self.models, self.sink, self.matcher)
                run.start()
                self.runs[camera.id] = run
            except Exception as exc:  # a camera that cannot start is reported, the others go on
                self.outbox.put(("error", camera.id, str(exc)))

    def remove(self, camera_id: str) -> None:
        with self._lock:
            run = self.runs.pop(camera_id, None)
        if run is not None:
            run.stop()

    def set_matcher(self, matcher: FaceMatcher | None) -> None:
        with self._lock:
            self.matcher = matcher
            for run in self.runs.values():
                run.pipeline.set_face_matcher(matcher)

    def cameras(self) -> list[str]:
        with self._lock:
            return sorted(self.runs)

    def report(self) -> ActorReport:
        """What happened since the last report; waits up to `cluster.report_wait_s` for something."""
        items = self.outbox.take(self._until_status())
        if time.monotonic() >= self._next_status:
            self._next_status = time.monotonic() + self.settings.streams.status_interval_s
            items.append(("status", self._health()))
        self.writer.flush()  # the plate reads and sightings the items point at are stored
        return ActorReport(self.incarnation, self.slot, tuple(items))

    def stop(self) -> ActorReport:
        """Stop every camera (open tracks and passages decided), flush, and report the rest."""
        with self._lock:
            runs, self.runs = list(self.runs.values()), {}
        for run in runs:
            run.stop()
        self.writer.flush()
        items = self.outbox.take(0.0)
        items.append(("status", [r.health() for r in runs]))
        self.writer.close()
        self.db.close()
        return ActorReport(self.incarnation, self.slot, tuple(items))

    def analyse_recording(self, recording: Recording) -> RecordingResult:
        """Analyse a video file as its camera and store what it shows; the run's stats are returned.

        Runs on the actor's thread pool and holds the models' lock throughout (they are not all
        thread-safe): live cameras on the same actor decode on but analyse nothing meanwhile, so
        recordings are best given to actors of their own (`analyse_recordings` does). A source
        error ends the recording early: what was analysed is kept and the stats say why (`error`).
        """
        from safecity.pipeline.process import ProcessingError, process_file
        from safecity.store.media import MediaStore

        camera, settings = recording.camera, self.settings
        collected = _Collected(self.writer)
        with self.models.lock:
            plate_reader = self.models.plate_reader() if Capability.PLATES in camera.capabilities else None
            face_analyser = self.models.face_analyser() if Capability.FACES in camera.capabilities else None
            try:
                stats = process_file(
                    recording.path,
                    camera,
                    settings,
                    sink=collected,
                    snapshots=MediaStore(settings.effective_media_dir, settings.store.snapshot_jpeg_quality),
                    start_time=recording.start_time,
                    plate_reader=plate_reader,
                    face_analyser=face_analyser,
                    face_matcher=self.matcher,
                    matches=collected,
                )
            except ProcessingError as exc:
                stats = exc.stats
        self.writer.flush()
        return RecordingResult(
            stats, tuple(collected.plate_reads), tuple(collected.matches), self.incarnation
        )

    def _until_status(self) -> float:
        return max(0.0, min(self.settings.cluster.report_wait_s, self._next_status - time.monotonic()))

    def _health(self) -> list[CameraHealth]:
        with self._lock:
            return [r.health() for r in self.runs.values()]


class _Collected(PlateCollectingSink):
    """A recording's sink: observations to the actor's writer, plate reads and matches kept for the result."""

    def __init__(self, writer: ObservationWriter) -> None:
        super().__init__(writer)
        self.writer = writer
        self.matches: list[FaceMatchEvent] = []

    def submit_matches(self, events: Sequence[FaceMatchEvent]) -> None:
        self.writer.flush()  # an alert must point at a stored sighting
        self.matches.extend(events)
