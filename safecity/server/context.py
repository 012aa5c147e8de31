"""What every request handler shares: settings, database, stores, the access gate, and the models.

One `ApiContext` per application (`app.state.context`), built by `create_app`. The face analyser
is loaded on first use (a face search or an enrolment), not at start-up: most deployments
serve many more list requests than face searches, and loading it costs seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from safecity.config import Settings
from safecity.governance.access import AccessGate
from safecity.governance.users import LoginPolicy, UserStore
from safecity.server.api.live_wakeups import LiveWakeups
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.recordings import RecordingStore
from safecity.video.clips import ClipCache
from safecity.video.hub import VideoHub

if TYPE_CHECKING:
    from safecity.analytics.faces.analyser import FaceAnalyser
    from safecity.pipeline.health import CameraHealth
    from safecity.store.face_index import FaceIndex


@dataclass
class ApiContext:
    settings: Settings
    db: Database
    gate: AccessGate
    users: UserStore
    media: MediaStore
    camera_health: Callable[[], Sequence[CameraHealth]] | None = None
    """Live camera states from the runtime beside the API; None when the API runs alone."""
    live: LiveWakeups | None = None
    """The live feeds waiting for alerts (and the PostgreSQL listener that wakes them)."""
    video: VideoHub | None = None
    """Cameras' live video and recorders (shared with `serve`'s recorders when it runs beside)."""
    owns_video: bool = False
    clips: ClipCache | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _analyser: FaceAnalyser | None = None
    _index: FaceIndex | None = None

    @staticmethod
    def build(
        settings: Settings,
        db: Database,
        *,
        camera_health: Callable[[], Sequence[CameraHealth]] | None = None,
        video: VideoHub | None = None,
    ) -> ApiContext:
        gate = AccessGate(db, min_reason_len=settings.governance.min_reason_len)
        owns = video is None
        if video is None:
            store = RecordingStore(db, settings.effective_recordings_dir)
            video = VideoHub(settings.recording, store, clock=gate.clock)
        return ApiContext(
            settings=settings,
            db=db,
            gate=gate,
            users=UserStore(db, policy=LoginPolicy.of(settings.governance)),
            media=MediaStore(settings.effective_media_dir, settings.store.snapshot_jpeg_quality),
            camera_health=camera_health,
            live=LiveWakeups(db),
            video=video,
            owns_video=owns,
            clips=ClipCache(settings.data_dir / "cache" / "clips", settings.recording.clip_cache_s),
        )

    @property
    def recordings(self) -> RecordingStore:
        assert self.video is not None
        return self.video.store

    def analyser(self) -> FaceAnalyser:
        with self._lock:
            if self._analyser is None:
                from safecity.analytics.faces.analyser import FaceAnalyser

                self._analyser = FaceAnalyser(self.settings.faces, self.settings.effective_model_cache_dir)
            return self._analyser

    def face_index(self) -> FaceIndex:
        with self._lock:
            if self._index is None:
                from safecity.store.face_index import FaceIndex

                f = self.settings.faces
                self._index = FaceIndex(
                    self.db,
                    self.settings.effective_face_index_path,
                    ivf_min_vectors=f.ivf_min_vectors,
                    nprobe=f.nprobe,
                    oversample=f.search_oversample,
                )
            return self._index
