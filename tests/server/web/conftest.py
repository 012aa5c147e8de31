"""Browser-test fixtures: the app served by uvicorn over a seeded temporary database, and Debian's chromium.

The world: two cameras at one site (cam-1 reads plates and faces, cam-2 plates), a plate read of
BG 123-AB with its hotlist alert, a face-match alert on cam-1 (Grace Hopper's portrait as the
frame), a stored face sighting whose kept vector is the ONNX embedding of her portrait (what a
face search finds), and one user per role plus a second operator for two-person confirmation.

Playwright drives `/usr/bin/chromium` (apt: chromium); Playwright's own browser download is not
used. Missing either skips the tests locally and fails them in CI (CI=true), as `need_service` does.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import pytest
from browsing import Visit
from factories import T0, camera, site, stored_face_alert, stored_plate_alert
from rtsp import RtspServer, unavailable_reason
from services import chromium
from videos import keyframed_clip
from web_names import PASSWORD, ROLES

from safecity.config import Settings
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.server.runner import ApiServer
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.models import FaceSightingRow, FaceVectorRow, utcnow
from safecity.store.recordings import RecordingStore, Segment, segment_path
from safecity.types import BBox, Capability, RecordingMode, new_id

FACE = BBox(160, 137, 216, 216)  # Grace Hopper's face in her portrait
USERS = {name: Role(role) for name, role in ROLES.items()}


@dataclass(frozen=True)
class WebWorld:
    url: str
    settings: Settings
    db: Database
    media: MediaStore
    face_alert: str
    plate_alert: str
    sighting: str
    """The stored face sighting whose vector is Grace Hopper's."""
    portrait: Path
    """Her portrait as a JPEG file, to upload."""
    live: bool
    """Whether cam-1 streams from the RTSP test server (GStreamer present) and records."""


def _seed_searchable_face(db: Database, settings: Settings, portrait: Any) -> str:
    from safecity.analytics.faces.analyser import FaceAnalyser
    from safecity.store.observations import vector_to_bytes

    rgb = cv2.cvtColor(portrait, cv2.COLOR_BGR2RGB)
    face = FaceAnalyser(settings.faces, settings.effective_model_cache_dir).single_face(rgb).face
    assert face.embedding is not None
    sighting_id, ts = new_id(), utcnow() - timedelta(hours=2)
    with db.session() as session:
        session.add(
            FaceSightingRow(
                id=sighting_id,
                camera_id="cam-1",
                ts=ts,
                x=FACE.x,
                y=FACE.y,
                w=FACE.w,
                h=FACE.h,
                confidence=0.9,
                quality=0.8,
                track_id=2,
                snapshot="",
            )
        )
        session.flush()
        session.add(
            FaceVectorRow(
                sighting_id=sighting_id, camera_id="cam-1", ts=ts, embedding=vector_to_bytes(face.embedding)
            )
        )
    return sighting_id


def _seed_last_day(db: Database) -> None:
    """Plate reads and a few alerts over the last 24 hours, for the dashboard's chart."""
    from safecity.store.models import AlertRow, PlateReadRow

    now = utcnow()
    with db.session() as session:
        for i in range(60):
            ts = now - timedelta(minutes=7 + (i * 37) % (23 * 60))
            plate = f"NS{100 + i:03d}CD"
            session.add(
                PlateReadRow(
                    id=new_id(), camera_id="cam-2" if i % 3 else "cam-1", ts=ts, x=0, y=0, w=10, h=10,
                    confidence=0.9, track_id=i, snapshot="", text=plate, normalised=plate,
                    confusion_key="", country="RS", candidates=[],
                )
            )  # fmt: skip
            if i % 9 == 0:
                session.add(
                    AlertRow(
                        id=new_id(), kind="camera_health", camera_id="cam-2", ts=ts, raised_at=ts,
                        message="camera cam-2 stalled for 30 s", status="new",
                    )
                )  # fmt: skip


def _seed_recordings(db: Database, settings: Settings, clip: Path, face_alert_at: datetime) -> None:
    """cam-1 recorded an hour ago (for the timeline) and around its face alert (for the alert's clip);
    something moved in the hour's recording."""
    from safecity.store.models import MotionTrackRow

    moved = utcnow() - timedelta(hours=1)
    with db.session() as session:
        session.add(
            MotionTrackRow(
                id=new_id(), camera_id="cam-1", ts=moved, ended_at=moved + timedelta(seconds=5),
                x=0, y=0, w=10, h=10, confidence=1.0, track_id=1, snapshot="", path=[[0, 0]],
            )
        )  # fmt: skip
    store = RecordingStore(db, settings.effective_recordings_dir)
    for start in (utcnow() - timedelta(hours=1), face_alert_at - timedelta(seconds=4)):
        segment_id = new_id()
        rel = segment_path("cam-1", start, RecordingMode.CONTINUOUS, segment_id)
        store.file(rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(clip, store.file(rel))
        end = start + timedelta(seconds=8)
        store.add(
            Segment(segment_id, "cam-1", start, end, rel, clip.stat().st_size, RecordingMode.CONTINUOUS)
        )


@pytest.fixture(scope="module")
def web_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    root = tmp_path_factory.mktemp("web")
    clip = keyframed_clip(root / "cam.mp4")
    rtsp = RtspServer({"/cam": clip}).start() if unavailable_reason() is None else None
    cam1_url = rtsp.url("/cam") if rtsp is not None else "rtsp://user:secret@10.0.0.1/stream1"
    settings = Settings(data_dir=root / "var", api={"live_poll_s": 0.2, "live_cameras_s": 1.0})
    db = Database.open(settings.effective_database_url, settings.store)
    both = frozenset({Capability.PLATES, Capability.FACES, Capability.MOTION})
    CameraStore(db).save(
        [site()],
        [
            camera("cam-1", capabilities=both, stream_url=cam1_url, recording=RecordingMode.CONTINUOUS),
            camera("cam-2", latitude=44.8061, longitude=20.4731, name="Camera cam-2 (Krunska)"),
        ],
    )
    media = MediaStore(settings.effective_media_dir)
    portrait = reference_image("grace_hopper")
    face_alert = stored_face_alert(db, media, portrait, FACE, "cam-1")
    plate_alert = stored_plate_alert(db, media, portrait, "cam-2")
    sighting = _seed_searchable_face(db, settings, portrait)
    _seed_recordings(db, settings, clip, T0)
    _seed_last_day(db)
    users = UserStore(db)
    for name, role in USERS.items():
        users.add(name, role, PASSWORD)
    photo = root / "grace_hopper.jpg"
    cv2.imwrite(str(photo), portrait)
    server = ApiServer(create_app(settings, db), "127.0.0.1", 0).start()
    try:
        yield WebWorld(
            server.url, settings, db, media, face_alert, plate_alert, sighting, photo, rtsp is not None
        )
    finally:
        server.close()
        db.close()
        if rtsp is not None:
            rtsp.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def screenshots(tmp_path: Path) -> Iterator[Path]:
    """Where a test saves its screenshots; with SAFECITY_SCREENSHOTS set, they are copied there too."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    yield folder
    target = os.environ.get("SAFECITY_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in folder.glob("*.png"):
            shutil.copy(shot, Path(target) / shot.name)


@pytest.fixture
def visit(browser: Any, web_world: Any) -> Iterator[Any]:
    opened: list[Visit] = []

    def open_one() -> Visit:
        v = Visit(browser, web_world.url)
        opened.append(v)
        return v

    yield open_one
    for v in opened:
        v.close()
