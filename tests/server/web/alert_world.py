"""The alert pages' test world: cameras, alerts of every kind at known times, and users with sessions.

cam-1 reads plates and faces, cam-2 plates. Alerts: a face match on cam-1 (Grace Hopper's
portrait, with the enrolled photo beside the probe), a hotlist alert on cam-2, a speeding alert
measured from cam-1 to cam-2 with both reads' images, and `HEALTH` camera-health alerts on cam-2
and `HEALTH_CAM1` on cam-1, one a minute from `T0`. Users: two operators, a viewer, an
investigator, an auditor (sees alerts, handles none), and an operator limited to cam-2, each with
a session token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from factories import T0, camera, site, stored_face_alert, stored_plate_alert
from fastapi.testclient import TestClient

from safecity.config import Settings
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.server.security import SESSION_COOKIE
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.models import AlertRow, PlateReadRow
from safecity.types import BBox, Capability, new_id

FACE = BBox(160, 137, 216, 216)  # Grace Hopper's face in her portrait
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ORIGIN = "http://testserver"
HEALTH = 7
HEALTH_CAM1 = 3
USERS = {
    "operator-1": (Role.OPERATOR, None),
    "operator-2": (Role.OPERATOR, None),
    "viewer-1": (Role.VIEWER, None),
    "investigator-1": (Role.INVESTIGATOR, None),
    "auditor-1": (Role.AUDITOR, None),
    "limited-op": (Role.OPERATOR, ["cam-2"]),
}


@dataclass(frozen=True)
class AlertWorld:
    settings: Settings
    db: Database
    face_alert: str
    plate_alert: str
    speeding_alert: str
    health: tuple[str, ...]
    """cam-2's camera-health alerts, oldest first."""
    health_cam1: tuple[str, ...]
    tokens: dict[str, str]

    def client(self, username: str, settings: Settings | None = None) -> TestClient:
        """A browser-like client logged in as `username` (session cookie, this server's Origin)."""
        client = TestClient(create_app(settings or self.settings, self.db), headers={"Origin": ORIGIN})
        client.cookies.set(SESSION_COOKIE, self.tokens[username])
        return client


def _plate_read(db: Database, media: MediaStore, frame: object, camera_id: str, minutes: int) -> str:
    read_id = new_id()
    ts = T0 + timedelta(minutes=minutes)
    snapshot = media.save_snapshot(camera_id, ts, read_id, frame)  # type: ignore[arg-type]
    with db.session() as session:
        session.add(
            PlateReadRow(
                id=read_id, camera_id=camera_id, ts=ts, x=0, y=0, w=10, h=10, confidence=0.93,
                track_id=1, snapshot=snapshot, text="NS 456-CD", normalised="NS456CD",
                confusion_key="", country="RS", candidates=[],
            )
        )  # fmt: skip
    return read_id


def speeding_alert(db: Database, media: MediaStore, frame: object) -> str:
    """A speeding alert measured from cam-1 to cam-2 (1.23 km in 60 s), both reads with images."""
    read_a = _plate_read(db, media, frame, "cam-1", 30)
    read_b = _plate_read(db, media, frame, "cam-2", 31)
    alert_id = new_id()

    def read(read_id: str, camera_id: str, minutes: int) -> dict[str, object]:
        return {
            "id": read_id, "camera_id": camera_id,
            "time": (T0 + timedelta(minutes=minutes)).isoformat(), "text": "NS 456-CD",
            "normalised": "NS456CD", "snapshot": f"{camera_id}/x.jpg", "confidence": 0.93,
        }  # fmt: skip

    evidence = {
        "section_id": "krunska", "camera_a": "cam-1", "camera_b": "cam-2", "distance_m": 1234.567,
        "clock_offset_s": 0.0, "speed_limit_kmh": 50.0, "threshold_kmh": 55.0,
        "speed_kmh": 74.0741, "excess_kmh": 19.0741, "travel_s": 60.0, "match": "exact",
        "read_a": read(read_a, "cam-1", 30), "read_b": read(read_b, "cam-2", 31),
    }  # fmt: skip
    with db.session() as session:
        session.add(
            AlertRow(
                id=alert_id, kind="speeding", camera_id="cam-2", ts=T0 + timedelta(minutes=31),
                raised_at=T0 + timedelta(minutes=31),
                message="plate NS 456-CD at 74.1 km/h over section krunska (limit 50 km/h, +19.1)",
                observation_id=read_b, score=1.4815, status="new", evidence=evidence,
            )
        )  # fmt: skip
    return alert_id


def _health(db: Database, camera_id: str, count: int, first_minute: int) -> tuple[str, ...]:
    ids = []
    with db.session() as session:
        for i in range(count):
            ts = T0 + timedelta(minutes=first_minute + i)
            alert_id = new_id()
            ids.append(alert_id)
            session.add(
                AlertRow(
                    id=alert_id, kind="camera_health", camera_id=camera_id, ts=ts, raised_at=ts,
                    message=f"camera {camera_id} stalled for {30 + i} s", status="new",
                )
            )  # fmt: skip
    return tuple(ids)


def build(root: Path, database_url: str | None = None) -> AlertWorld:
    settings = Settings(data_dir=root, database_url=database_url or "")
    db = Database.connect(settings.effective_database_url, settings.store)
    db.upgrade()
    both = frozenset({Capability.PLATES, Capability.FACES, Capability.MOTION})
    CameraStore(db).save(
        [site()],
        [
            camera("cam-1", capabilities=both, heading_deg=90.0),
            camera("cam-2", latitude=44.8061, longitude=20.4731, name="Krunska east"),
        ],
    )
    media = MediaStore(settings.effective_media_dir)
    portrait = reference_image("grace_hopper")
    face_alert = stored_face_alert(db, media, portrait, FACE, "cam-1")
    plate_alert = stored_plate_alert(db, media, portrait, "cam-2")
    speeding = speeding_alert(db, media, portrait)
    health = _health(db, "cam-2", HEALTH, 60)
    health_cam1 = _health(db, "cam-1", HEALTH_CAM1, 120)
    users, tokens = UserStore(db, hasher=FAST_HASHER), {}
    for name, (role, cams) in USERS.items():
        users.add(name, role, "a long enough password", camera_ids=cams)
        tokens[name] = users.issue_token(name, timedelta(hours=1)).secret
    return AlertWorld(settings, db, face_alert, plate_alert, speeding, health, health_cam1, tokens)
