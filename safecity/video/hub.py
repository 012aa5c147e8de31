"""The video of a city: one `PacketFeed` per camera, opened while something needs it (a recorder, a
live viewer), with the recorder and the live stream as its sinks.

`record` starts the recorders of the cameras whose registry entry says they record (after
`reconcile` has adopted what a killed recorder left); `live` hands out a camera's shared live
stream, opening its connection on the first viewer and closing it `recording.live_idle_s` after
the last one left (unless it records).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from safecity.config import RecordingSettings
from safecity.store.recordings import ReconcileReport, RecordingStore
from safecity.types import Camera, RecordingMode
from safecity.video.feed import FeedStatus, PacketFeed
from safecity.video.live import JpegSettings, LiveStream, Viewer
from safecity.video.segments import SegmentRecorder, probe_seconds

log = logging.getLogger(__name__)


class NoStream(LookupError):
    """The camera has no stream URL to watch or record."""


class TooManyViewers(RuntimeError):
    """The camera has `recording.live_max_viewers` viewers already."""


@dataclass
class _Camera:
    feed: PacketFeed
    recorder: SegmentRecorder | None = None
    live: LiveStream | None = None
    idle_timer: threading.Timer | None = None


class VideoHub:
    """Feeds, recorders and live streams of every camera of one process."""

    def __init__(
        self,
        settings: RecordingSettings,
        store: RecordingStore,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._cameras: dict[str, _Camera] = {}
        self._lock = threading.Lock()

    # -- recording ------------------------------------------------------------------------------

    def reconcile(self, cameras: Iterable[str] | None = None) -> ReconcileReport:
        """Adopt or delete what a killed recorder left (see `store.recordings`)."""
        return self.store.reconcile(probe_seconds, cameras)

    def record(self, cameras: Iterable[Camera]) -> list[str]:
        """Start recording every enabled camera with a stream whose mode is not `none`; the ids."""
        started: list[str] = []
        for camera in cameras:
            if camera.recording is RecordingMode.NONE or not camera.enabled or not camera.stream_url:
                continue
            with self._lock:
                entry = self._entry(camera)
                if entry.recorder is not None:
                    continue
                entry.recorder = SegmentRecorder(
                    self.store,
                    camera.id,
                    camera.recording,
                    segment_s=self.settings.segment_s,
                    fragment_ms=self.settings.fragment_ms,
                )
                entry.feed.add(entry.recorder)
                entry.feed.start()
            started.append(camera.id)
        return started

    # -- live view ------------------------------------------------------------------------------

    def live(self, camera: Camera) -> Viewer:
        """A new viewer of the camera's live stream (opening its connection if need be)."""
        if not camera.stream_url:
            raise NoStream(f"camera {camera.id} has no stream URL")
        with self._lock:
            entry = self._entry(camera)
            if entry.idle_timer is not None:
                entry.idle_timer.cancel()
                entry.idle_timer = None
            if entry.live is None:
                entry.live = LiveStream(
                    camera.id,
                    fragment_ms=self.settings.live_fragment_ms,
                    max_viewers=self.settings.live_max_viewers,
                    jpeg=JpegSettings.of(self.settings),
                )
                entry.feed.add(entry.live)
            entry.feed.start()
            viewer = entry.live.join()
        if viewer is None:
            raise TooManyViewers(
                f"camera {camera.id} has {self.settings.live_max_viewers} viewers already "
                "(recording.live_max_viewers)"
            )
        return viewer

    def left(self, camera_id: str) -> None:
        """A viewer left: close the live stream once nobody watched for `live_idle_s`."""
        with self._lock:
            entry = self._cameras.get(camera_id)
            if entry is None or entry.live is None or entry.live.viewers:
                return
            if entry.idle_timer is not None:
                entry.idle_timer.cancel()
            entry.idle_timer = threading.Timer(self.settings.live_idle_s, self._idle, (camera_id,))
            entry.idle_timer.daemon = True
            entry.idle_timer.start()

    def _idle(self, camera_id: str) -> None:
        with self._lock:
            entry = self._cameras.get(camera_id)
            if entry is None or entry.live is None or entry.live.viewers:
                return
            entry.feed.remove(entry.live)
            entry.live = None
            entry.idle_timer = None
            if entry.recorder is None:
                entry.feed.stop(timeout=0)
                del self._cameras[camera_id]

    # -- state ----------------------------------------------------------------------------------

    def status(self) -> dict[str, FeedStatus]:
        with self._lock:
            return {camera_id: entry.feed.status() for camera_id, entry in self._cameras.items()}

    def stop(self) -> None:
        with self._lock:
            entries = list(self._cameras.values())
            self._cameras.clear()
        for entry in entries:
            if entry.idle_timer is not None:
                entry.idle_timer.cancel()
            entry.feed.stop()
            if entry.live is not None:
                entry.live.end_all()

    def _entry(self, camera: Camera) -> _Camera:
        entry = self._cameras.get(camera.id)
        if entry is None:
            entry = _Camera(
                PacketFeed(
                    camera.stream_url,
                    open_timeout_s=self.settings.open_timeout_s,
                    stall_timeout_s=self.settings.stall_timeout_s,
                    clock=self.clock,
                )
            )
            self._cameras[camera.id] = entry
        return entry
