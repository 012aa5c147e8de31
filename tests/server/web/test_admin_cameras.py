"""The camera admin screens (`/admin/cameras`): add, edit, enable/disable, GeoJSON import with the
feature and field of each refusal, the upload limit, counting lines, refusals for other roles and
cross-site posts, each change audited as the API audits it (one function behind both), and two
admins adding and editing at once without losing anything."""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from factories import camera, site
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from safecity.cli.app import app as cli_app
from safecity.config import Settings
from safecity.governance.audit import AuditLog
from safecity.governance.camera_changes import CAMERA_CHANGE
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.server.security import SESSION_COOKIE
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import AuditEntryRow

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ORIGIN = "http://testserver"
USERS = {"admin-1": Role.ADMIN, "admin-2": Role.ADMIN, "operator-1": Role.OPERATOR}
UPLOAD_LIMIT = 4096


@dataclass(frozen=True)
class World:
    settings: Settings
    db: Database
    tokens: dict[str, str]

    def client(self, username: str, origin: str = ORIGIN) -> TestClient:
        client = TestClient(create_app(self.settings, self.db), headers={"Origin": origin})
        client.cookies.set(SESSION_COOKIE, self.tokens[username])
        return client

    def changes(self) -> list[AuditEntryRow]:
        with self.db.session() as session:
            rows = session.query(AuditEntryRow).filter(AuditEntryRow.action == CAMERA_CHANGE)
            return list(rows.order_by(AuditEntryRow.seq))


def _world(settings: Settings) -> Iterator[World]:
    db = Database.open(settings.effective_database_url, settings.store)
    CameraStore(db).save([site()], [camera("cam-1", stream_url="rtsp://user:s3cret-pw@10.0.0.1/stream1")])
    users, tokens = UserStore(db, hasher=FAST_HASHER), {}
    for name, role in USERS.items():
        users.add(name, role, "a long enough password")
        tokens[name] = users.issue_token(name, timedelta(hours=1)).secret
    try:
        yield World(settings, db, tokens)
    finally:
        db.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from _world(Settings(data_dir=tmp_path / "var", api={"max_upload_bytes": UPLOAD_LIMIT}))


NEW = {
    "id": "cam-9",
    "name": "Knez Mihailova 9",
    "latitude": "44.8170",
    "longitude": "20.4570",
    "heading_deg": "90",
    "capabilities": ["plates", "motion"],
    "recording": "motion",
    "retention_days": "14",
    "legal_basis": "Decision 12/2026",
    "enabled": "yes",
    "stream_url": "rtsp://admin:hunter2-long@10.0.0.9/live",
}


def test_the_list_shows_every_camera_and_never_a_password(world: World) -> None:
    page = world.client("admin-1").get("/admin/cameras")
    assert page.status_code == 200
    assert 'data-camera="cam-1"' in page.text
    detail = world.client("admin-1").get("/admin/cameras/cam-1")
    assert detail.status_code == 200 and "s3cret-pw" not in detail.text and "10.0.0.1" in detail.text


def test_adding_a_camera_stores_it_and_audits_it_as_the_api_does(world: World) -> None:
    r = world.client("admin-1").post("/admin/cameras", data=NEW, follow_redirects=False)
    assert r.status_code == 303
    stored = CameraStore(world.db).get("cam-9")
    assert stored.recording.value == "motion" and stored.retention_days == 14
    assert stored.stream_url == NEW["stream_url"]
    entry = world.changes()[-1]
    assert (entry.username, entry.target) == ("admin-1", "cam-9")
    assert entry.details["change"] == "added" and entry.details["site_id"] == "site-cam-9"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("latitude", "north", "is not a number"),
        ("latitude", "123", "latitude"),
        ("heading_deg", "400", ""),
        ("retention_days", "two weeks", "whole days"),
        ("recording", "always", "not a recording mode"),
        ("capabilities", ["x-ray"], ""),
    ],
)
def test_a_bad_field_is_named_beside_it_with_the_values_kept(
    world: World, field: str, value: object, words: str
) -> None:
    r = world.client("admin-1").post("/admin/cameras", data={**NEW, field: value})
    assert r.status_code == 422
    assert f'id="err-{field}"' in r.text and words in r.text
    assert 'value="Knez Mihailova 9"' in r.text
    assert "hunter2-long" not in r.text
    assert [c.id for c in CameraStore(world.db).all()] == ["cam-1"]


def test_a_taken_id_is_refused_409(world: World) -> None:
    r = world.client("admin-1").post("/admin/cameras", data={**NEW, "id": "cam-1"})
    assert r.status_code == 409 and "cam-1" in r.text


def test_editing_keeps_the_stored_stream_url_when_left_empty(world: World) -> None:
    data = {**NEW, "id": "cam-1", "name": "Renamed", "stream_url": ""}
    r = world.client("admin-1").post("/admin/cameras/cam-1", data=data, follow_redirects=False)
    assert r.status_code == 303
    stored = CameraStore(world.db).get("cam-1")
    assert stored.name == "Renamed" and stored.stream_url == "rtsp://user:s3cret-pw@10.0.0.1/stream1"
    entry = world.changes()[-1]
    assert entry.details["change"] == "updated" and "name" in entry.details["fields"]
    assert "stream_url" not in entry.details["fields"]


@pytest.mark.parametrize(("enabled", "stored"), [("no", False), ("yes", True)])
def test_enable_and_disable(world: World, enabled: str, stored: bool) -> None:
    r = world.client("admin-1").post("/admin/cameras/cam-1/enabled", data={"enabled": enabled})
    assert r.status_code == 200 and CameraStore(world.db).get("cam-1").enabled is stored
    assert world.changes()[-1].details == {"change": "updated", "fields": ["enabled"]}


def _feature(ref: str, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [20.46, 44.81]},
        "properties": {
            "man_made": "surveillance",
            "surveillance:type": "camera",
            "ref": ref,
            "name": f"Camera {ref}",
            **props,
        },
    }


def test_a_malformed_import_names_the_feature_and_field_and_stores_nothing(world: World) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [_feature("cam-20"), _feature("cam-21", **{"camera:direction": "up"})],
    }
    files = {"file": ("cams.geojson", json.dumps(doc).encode(), "application/geo+json")}
    r = world.client("admin-1").post("/admin/cameras/import", files=files)
    assert r.status_code == 422
    assert "feature #1" in r.text and "camera:direction" in r.text and "Nothing was imported" in r.text
    assert [c.id for c in CameraStore(world.db).all()] == ["cam-1"]
    assert world.changes() == []


def test_a_good_import_stores_all_and_audits_as_the_api(world: World) -> None:
    doc = {"type": "FeatureCollection", "features": [_feature("cam-20"), _feature("cam-21")]}
    files = {"file": ("cams.geojson", json.dumps(doc).encode(), "application/geo+json")}
    r = world.client("admin-1").post("/admin/cameras/import", files=files, follow_redirects=False)
    assert r.status_code == 303
    assert {c.id for c in CameraStore(world.db).all()} == {"cam-1", "cam-20", "cam-21"}
    assert world.changes()[-1].details == {"change": "imported", "cameras": 2, "replace": False}


def test_an_oversized_upload_is_refused_413_in_words(world: World) -> None:
    files = {"file": ("big.geojson", b" " * (UPLOAD_LIMIT + 1), "application/geo+json")}
    r = world.client("admin-1").post("/admin/cameras/import", files=files)
    assert r.status_code == 413 and "larger than" in r.text and "Nothing was imported" in r.text


def test_counting_lines_are_saved_and_audited(world: World) -> None:
    lines = {
        "lines": [
            {
                "name": "stop",
                "points": [[10, 200], [600, 210]],
                "in_direction": "north",
                "out_direction": "south",
            }
        ]
    }
    r = world.client("admin-1").post("/admin/cameras/cam-1/counting", data={"counting": json.dumps(lines)})
    assert r.status_code == 200
    counting = CameraStore(world.db).get("cam-1").counting
    assert counting is not None and counting.lines[0].in_direction == "north"
    assert world.changes()[-1].details == {"change": "updated", "fields": ["counting"]}


def test_lines_from_the_configuration_file_are_shown_and_said_to_be(tmp_path: Path) -> None:
    configured = {
        "camera_id": "cam-1",
        "lines": [{"name": "file line", "points": [[5, 50], [300, 60]]}],
    }
    settings = Settings(data_dir=tmp_path / "var", counting={"cameras": [configured]})
    for w in _world(settings):
        page = w.client("admin-1").get("/admin/cameras/cam-1")
        assert page.status_code == 200 and 'id="counting-from-settings"' in page.text
        assert "file line" in html.unescape(page.text)  # in the drawing's data, so nobody draws it twice


def test_registered_lines_are_not_said_to_come_from_the_file(world: World) -> None:
    page = world.client("admin-1").get("/admin/cameras/cam-1")
    assert 'id="counting-from-settings"' not in page.text


def test_a_bad_counting_line_is_refused_in_words(world: World) -> None:
    lines = {"lines": [{"name": "dot", "points": [[10, 10], [10, 10]]}]}
    r = world.client("admin-1").post("/admin/cameras/cam-1/counting", data={"counting": json.dumps(lines)})
    assert r.status_code == 422 and "less than 1 pixel apart" in r.text
    assert CameraStore(world.db).get("cam-1").counting is None


def test_without_recordings_there_is_no_still_and_coordinates_can_be_entered(world: World) -> None:
    page = world.client("admin-1").get("/admin/cameras/cam-1")
    assert 'id="no-still"' in page.text and 'id="add-line"' in page.text
    assert world.client("admin-1").get("/admin/cameras/cam-1/still.jpg").status_code == 404


def test_a_cross_site_post_is_refused_and_changes_nothing(world: World) -> None:
    r = world.client("admin-1", origin="https://evil.example").post("/admin/cameras", data=NEW)
    assert r.status_code == 403 and "refused" in r.text
    assert world.changes() == []


@pytest.mark.parametrize(("method", "path"), [("get", "/admin/cameras"), ("post", "/admin/cameras")])
def test_another_role_is_refused_and_recorded(world: World, method: str, path: str) -> None:
    r = getattr(world.client("operator-1"), method)(path, **({"data": NEW} if method == "post" else {}))
    assert r.status_code == 403 and "manage_cameras" not in r.text
    with world.db.session() as session:
        denied = session.query(AuditEntryRow).filter(AuditEntryRow.action == "access_denied").all()
    assert [d.username for d in denied] == ["operator-1"]
    assert [c.id for c in CameraStore(world.db).all()] == ["cam-1"]


def _two_admins_at_once(world: World) -> None:
    errors: list[BaseException] = []

    def work(admin: str, n: int) -> None:
        try:
            client = world.client(admin)
            for i in range(n):
                r = client.post(
                    "/admin/cameras", data={**NEW, "id": f"{admin}-cam-{i}"}, follow_redirects=False
                )
                assert r.status_code == 303, r.text[:300]
                data = {**NEW, "id": "cam-1", "name": f"{admin} {i}", "stream_url": ""}
                r = client.post("/admin/cameras/cam-1", data=data, follow_redirects=False)
                assert r.status_code == 303, r.text[:300]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a, 5)) for a in ("admin-1", "admin-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = {c.id for c in CameraStore(world.db).all()}
    assert {f"{a}-cam-{i}" for a in ("admin-1", "admin-2") for i in range(5)} <= ids
    assert len(world.changes()) == 20
    assert AuditLog(world.db).verify().first_bad is None


def test_two_admins_at_once_lose_nothing_on_sqlite(world: World) -> None:
    _two_admins_at_once(world)


def test_two_admins_at_once_lose_nothing_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    migrated = Database.connect(postgres_url)
    migrated.upgrade()
    migrated.close()
    settings = Settings(
        data_dir=tmp_path / "var", database_url=postgres_url, api={"max_upload_bytes": UPLOAD_LIMIT}
    )
    for w in _world(settings):
        _two_admins_at_once(w)


def test_the_cli_and_the_page_write_the_same_audit_entry(world: World, cli_data_dir: Path) -> None:
    """`safecity camera add|import` and the page call one function: the same action and details."""
    world.client("admin-1").post("/admin/cameras", data=NEW)
    cli = CliRunner().invoke(
        cli_app,
        ["camera", "add", "cam-8", "--name", "Knez 8", "--lat", "44.817", "--lon", "20.457"],
    )
    assert cli.exit_code == 0, cli.output
    doc = {"type": "FeatureCollection", "features": [_feature("cam-20")]}
    files = {"file": ("cams.geojson", json.dumps(doc).encode(), "application/geo+json")}
    world.client("admin-1").post("/admin/cameras/import", files=files)
    path = cli_data_dir / "cams.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature("cam-21")]}))
    cli = CliRunner().invoke(cli_app, ["camera", "import", str(path)])
    assert cli.exit_code == 0, cli.output
    web_add, cli_add, web_import, cli_import = world.changes()
    assert (web_add.role, cli_add.role) == ("admin", "host") and cli_add.username.startswith("cli:")
    assert web_add.details == {"change": "added", "site_id": "site-cam-9"}
    assert cli_add.details == {"change": "added", "site_id": "site-cam-8"}
    assert web_import.details == cli_import.details == {"change": "imported", "cameras": 1, "replace": False}
