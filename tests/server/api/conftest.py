"""API fixtures: a small world built once per test module and copied for each test, one token per role.

`template` stores what the routes read: two cameras at one site, a plate read with its snapshot,
a plate-hotlist alert on cam-2 and a face-match alert on cam-1 (Grace Hopper's portrait as the
camera frame, so face detection and blurring are real), and users: one per role, a second
operator, and an investigator limited to cam-1. Each test gets a copy of that data folder, so
tests may change it freely. Passwords are hashed with cheap argon2 parameters: the default ones
cost a third of a second per hash, and a test of the API is not a test of argon2.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_world import FACE, PASSWORD, Template, World
from argon2 import PasswordHasher
from factories import camera, site, stored_face_alert, stored_plate_alert
from fastapi.testclient import TestClient

import safecity.governance.users as user_module
from safecity.config import Settings
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.types import Capability

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user_module, "PasswordHasher", lambda: FAST_HASHER)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    root = tmp_path_factory.mktemp("template") / "var"
    settings = Settings(data_dir=root)
    db = Database.open(settings.effective_database_url, settings.store)
    both = frozenset({Capability.PLATES, Capability.FACES, Capability.MOTION})
    CameraStore(db).save([site()], [camera("cam-1", capabilities=both), camera("cam-2")])
    media, portrait = MediaStore(settings.effective_media_dir), reference_image("grace_hopper")
    world = World(
        face_alert=stored_face_alert(db, media, portrait, FACE, "cam-1"),
        plate_alert=stored_plate_alert(db, media, portrait, "cam-2"),
    )
    users, tokens = UserStore(db, hasher=FAST_HASHER), {}
    accounts = [(f"{r.value}-user", r, None) for r in Role] + [
        ("operator-2", Role.OPERATOR, None),
        ("limited-user", Role.INVESTIGATOR, ["cam-1"]),
    ]
    for name, role, cams in accounts:
        users.add(name, role, PASSWORD, camera_ids=cams)
        key = "limited" if name == "limited-user" else name.removesuffix("-user")
        tokens[key] = users.issue_token(name, timedelta(days=1)).secret
    db.close()
    return Template(root, tokens, world)


@pytest.fixture
def api_settings(tmp_path: Path, template: Template) -> Settings:
    shutil.copytree(template.root, tmp_path / "var")
    return Settings(data_dir=tmp_path / "var")


@pytest.fixture
def api_db(api_settings: Settings) -> Iterator[Database]:
    db = Database.open(api_settings.effective_database_url, api_settings.store, migrate=False)
    yield db
    db.close()


@pytest.fixture
def client(api_settings: Settings, api_db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings, api_db)) as c:
        yield c


@pytest.fixture
def world(template: Template) -> World:
    return template.world


@pytest.fixture
def tokens(template: Template) -> dict[str, str]:
    """A bearer token per role, plus `operator-2` and `limited` (an investigator limited to cam-1)."""
    return dict(template.tokens)


@pytest.fixture
def client_with(api_settings: Settings, api_db: Database) -> Iterator[Callable[..., TestClient]]:
    """A client over the same data with some `api.*` settings changed (e.g. a small upload limit)."""
    opened: list[TestClient] = []

    def make(**api: Any) -> TestClient:
        settings = api_settings.model_copy(update={"api": api_settings.api.model_copy(update=api)})
        c = TestClient(create_app(settings, api_db))
        opened.append(c.__enter__())
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)
