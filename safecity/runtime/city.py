"""`safecity serve`: the city-wide composition. Every enabled live camera runs in a worker
(`pipeline/workers.py`, or Ray actors); what workers send is stored, checked for alerts, and
health is served.

The main process holds the single database writer, raises alerts and serves /metrics and
/status. It re-reads the camera register every `streams.reload_interval_s`: cameras added,
enabled, disabled, removed or changed are started or stopped in their worker without touching
the others; the face templates and the watchlist decision rule in force are re-read as well.
Every `retention.sweep_interval_s` (first at start) a thread runs the retention sweep
(governance/retention.py) and, on PostgreSQL, creates the coming months' observation
partitions. `stop()` (SIGTERM in the CLI) stops every camera, decides its open tracks and
passages, and flushes the writer.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from safecity.config import Settings
from safecity.pipeline.health import CameraHealth, OfflineWatch
from safecity.pipeline.workers import POLL_S, ProcessWorkers, WorkerPool, is_live
from safecity.types import Alert, Camera, Observation, PlateRead

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as EventType

    from safecity.store.database import Database
    from safecity.watch.face_decision import OpenSetRule
    from safecity.watch.faces import FaceMatchEvent

log = logging.getLogger(__name__)


class Runtime:
    """Starts the workers, keeps cameras assigned, stores what they send, serves health."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        workers: int | None = None,
        pool: WorkerPool | None = None,
        housekeeping: bool = True,
    ) -> None:
        """`housekeeping` False: no retention sweep (nor partition upkeep) from this runtime; for data
        whose clock is not today's (the demo's city), which a sweep would delete at once."""
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
        self._face_alerter = FaceAlerter(self._faces, settings.faces.alert_repeat_s)
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
        self._next_sweep = 0.0 if housekeeping else math.inf
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

    def step(self, wait_s: float = POLL_S) -> None:
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
