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
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _analyser: FaceAnalyser | None = None
    _index: FaceIndex | None = None

    @staticmethod
    def build(
        settings: Settings,
        db: Database,
        *,
        camera_health: Callable[[], Sequence[CameraHealth]] | None = None,
    ) -> ApiContext:
        return ApiContext(
            settings=settings,
            db=db,
            gate=AccessGate(db, min_reason_len=settings.governance.min_reason_len),
            users=UserStore(db, policy=LoginPolicy.of(settings.governance)),
            media=MediaStore(settings.effective_media_dir, settings.store.snapshot_jpeg_quality),
            camera_health=camera_health,
            live=LiveWakeups(db),
        )

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
