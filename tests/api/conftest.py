"""API fixtures: an application over a migrated SQLite database, one user and token per role, a small world.

`world` stores what the routes read: two cameras at one site, a plate read with its snapshot, a
plate-hotlist alert on cam-2 and a face-match alert on cam-1 (Grace Hopper's portrait as the
camera frame, so face detection and blurring are real).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from api_world import FACE, PASSWORD, World
from factories import camera, site, stored_face_alert, stored_plate_alert
from fastapi.testclient import TestClient

from safecity.api.app import create_app
from safecity.config import Settings
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.types import Capability


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


@pytest.fixture
def api_db(api_settings: Settings) -> Iterator[Database]:
    db = Database.open(api_settings.effective_database_url, api_settings.store)
    yield db
    db.close()


@pytest.fixture
def client(api_settings: Settings, api_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings, api_db)) as c:
        yield c


@pytest.fixture
def world(api_settings: Settings, api_db: Database) -> World:
    both = frozenset({Capability.PLATES, Capability.FACES, Capability.MOTION})
    CameraStore(api_db).save([site()], [camera("cam-1", capabilities=both), camera("cam-2")])
    media = MediaStore(api_settings.effective_media_dir)
    portrait = reference_image("grace_hopper")
    return World(
        face_alert=stored_face_alert(api_db, media, portrait, FACE, "cam-1"),
        plate_alert=stored_plate_alert(api_db, media, portrait, "cam-2"),
    )


@pytest.fixture
def tokens(api_db: Database, world: World) -> dict[str, str]:
    """A bearer token per role, plus `limited` (an investigator limited to cam-1) and a second operator."""
    users = UserStore(api_db)
    out: dict[str, str] = {}
    for role in Role:
        users.add(f"{role.value}-user", role, PASSWORD)
        out[role.value] = users.issue_token(f"{role.value}-user", timedelta(days=1)).secret
    users.add("operator-2", Role.OPERATOR, PASSWORD)
    out["operator-2"] = users.issue_token("operator-2", timedelta(days=1)).secret
    users.add("limited-user", Role.INVESTIGATOR, PASSWORD, camera_ids=["cam-1"])
    out["limited"] = users.issue_token("limited-user", timedelta(days=1)).secret
    return out
