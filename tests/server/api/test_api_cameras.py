"""The camera register over the API: reads for everyone logged in, changes and imports for the admin."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from api_world import bearer
from factories import camera, site
from fastapi.testclient import TestClient

from safecity.config import Settings
from safecity.governance.audit import AuditLog
from safecity.pipeline.health import CameraHealth
from safecity.registry.geojson import cameras_to_geojson
from safecity.server.app import create_app
from safecity.store.cameras import CameraStore
from safecity.store.database import Database

API = "/api/v1"
NEW_CAMERA: dict[str, Any] = {
    "id": "cam-9",
    "name": "Kneza Milosa",
    "latitude": 44.80,
    "longitude": 20.46,
    "capabilities": ["plates", "motion"],
    "stream_url": "rtsp://viewer:hunter2@10.0.0.9/stream",
}
ROLES = ("viewer", "operator", "investigator", "auditor", "admin")
NOT_ADMIN = ("viewer", "operator", "investigator", "auditor")


def geojson_upload(*ids: str, site_id: str = "site-new") -> bytes:
    cams = [camera(i, site_id=site_id) for i in ids]
    return json.dumps(cameras_to_geojson(cams, [site(site_id)])).encode()


def stored_ids(db: Database) -> list[str]:
    return [c.id for c in CameraStore(db).all()]


@pytest.fixture
def small_client(client_with: Callable[..., TestClient]) -> TestClient:
    return client_with(max_upload_bytes=2048)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/cameras"),
        ("GET", "/cameras/cam-1"),
        ("GET", "/sites"),
        ("GET", "/cameras/health"),
        ("POST", "/cameras"),
        ("PUT", "/cameras/cam-1"),
        ("DELETE", "/cameras/cam-1"),
        ("POST", "/cameras/import"),
    ],
)
def test_every_camera_endpoint_needs_a_login(
    client: TestClient, tokens: dict[str, str], method: str, path: str
) -> None:
    assert client.request(method, API + path).status_code == 401


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_readers_get_the_register_without_stream_urls(
    client: TestClient, tokens: dict[str, str], role: str
) -> None:
    r = client.get(f"{API}/cameras", headers=bearer(tokens[role]))
    assert r.status_code == 200
    assert [c["id"] for c in r.json()] == ["cam-1", "cam-2"]
    assert all(c["stream_url"] is None for c in r.json())


def test_the_admin_sees_stream_urls_with_the_password_hidden(
    client: TestClient, tokens: dict[str, str]
) -> None:
    cams = client.get(f"{API}/cameras", headers=bearer(tokens["admin"])).json()
    assert cams[0]["stream_url"] == "rtsp://user:***@10.0.0.1/stream1"


def test_one_camera_comes_with_its_observation_counts(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.get(f"{API}/cameras/cam-2", headers=bearer(tokens["viewer"]))
    assert r.status_code == 200
    assert r.json()["observations"]["plate_reads"] == 1


def test_an_unknown_camera_is_a_404(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.get(f"{API}/cameras/cam-404", headers=bearer(tokens["viewer"]))
    assert r.status_code == 404 and "cam-404" in r.json()["detail"]


def test_sites_are_listed(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.get(f"{API}/sites", headers=bearer(tokens["operator"]))
    assert [s["id"] for s in r.json()] == ["site-1"]


def test_health_without_a_runtime_is_unknown_for_each_camera(
    client: TestClient, tokens: dict[str, str]
) -> None:
    r = client.get(f"{API}/cameras/health", headers=bearer(tokens["viewer"]))
    assert [(h["camera_id"], h["state"]) for h in r.json()] == [("cam-1", "unknown"), ("cam-2", "unknown")]


def test_health_reports_the_runtime_states(
    api_settings: Settings, api_db: Database, tokens: dict[str, str]
) -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    live = CameraHealth(
        "cam-1", 0, "streaming", now, "rtsp://x", None, 10.0, 5.0, 0, 0, 1, 0, 50, 3, 0.4, now
    )
    app = create_app(api_settings, api_db, camera_health=lambda: [live])
    with TestClient(app) as c:
        states = c.get(f"{API}/cameras/health", headers=bearer(tokens["viewer"])).json()
    assert {h["camera_id"]: h["state"] for h in states} == {"cam-1": "streaming", "cam-2": "unknown"}
    assert "url" not in states[0]


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_health_needs_view_live(client: TestClient, tokens: dict[str, str], role: str) -> None:
    assert client.get(f"{API}/cameras/health", headers=bearer(tokens[role])).status_code == 403


def test_the_admin_adds_a_camera_and_the_audit_log_names_them(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    r = client.post(f"{API}/cameras", json=NEW_CAMERA, headers=bearer(tokens["admin"]))
    assert r.status_code == 201 and r.json()["site_id"] == "site-cam-9"
    assert CameraStore(api_db).get("cam-9").stream_url == NEW_CAMERA["stream_url"]
    (entry,) = AuditLog(api_db).entries("camera_change")
    assert (entry.username, entry.role, entry.target) == ("admin-user", "admin", "cam-9")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/cameras", NEW_CAMERA),
        ("PUT", "/cameras/cam-1", {"name": "x"}),
        ("DELETE", "/cameras/cam-1", None),
    ],
)
@pytest.mark.parametrize("role", NOT_ADMIN)
def test_only_the_admin_changes_the_register(
    client: TestClient,
    tokens: dict[str, str],
    api_db: Database,
    role: str,
    method: str,
    path: str,
    body: object,
) -> None:
    r = client.request(method, API + path, json=body, headers=bearer(tokens[role]))
    assert r.status_code == 403
    assert stored_ids(api_db) == ["cam-1", "cam-2"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"latitude": 95.0}, "latitude"),
        ({"capabilities": ["xray"]}, "capabilities"),
        ({"stream_url": "ftp://host/x"}, "stream_url"),
        ({"camera_type": "spy"}, "camera_type"),
        ({"id": "bad id!"}, "id"),
    ],
)
def test_an_invalid_camera_is_a_422_naming_the_field(
    client: TestClient, tokens: dict[str, str], api_db: Database, change: dict[str, object], field: str
) -> None:
    r = client.post(f"{API}/cameras", json={**NEW_CAMERA, **change}, headers=bearer(tokens["admin"]))
    assert r.status_code == 422 and field in r.json()["detail"]
    assert stored_ids(api_db) == ["cam-1", "cam-2"]


def test_a_camera_id_taken_already_is_a_409(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.post(f"{API}/cameras", json={**NEW_CAMERA, "id": "cam-1"}, headers=bearer(tokens["admin"]))
    assert r.status_code == 409


def test_an_update_changes_what_is_given_and_keeps_the_stream_url(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    r = client.put(f"{API}/cameras/cam-1", json={"name": "Slavija north"}, headers=bearer(tokens["admin"]))
    assert r.status_code == 200
    stored = CameraStore(api_db).get("cam-1")
    assert stored.name == "Slavija north" and stored.stream_url == "rtsp://user:secret@10.0.0.1/stream1"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/cameras/cam-404", {"name": "x"}, 404),
        ("/cameras/cam-1", {"heading_deg": 400.0}, 422),
        ("/cameras/cam-1", {"latitude": "north"}, 422),
        ("/cameras/cam-1", {"counting": {"lines": [{"name": "a", "points": [[1, 1], [1, 1]]}]}}, 422),
    ],
)
def test_a_bad_update_is_refused(
    client: TestClient, tokens: dict[str, str], api_db: Database, path: str, body: object, status: int
) -> None:
    r = client.put(API + path, json=body, headers=bearer(tokens["admin"]))
    assert r.status_code == status
    assert CameraStore(api_db).get("cam-1").heading_deg == 90.0


def test_counting_lines_are_set_with_the_camera(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    counting = {"lines": [{"name": "stop", "points": [[0, 100], [200, 110]]}], "method": "loop"}
    r = client.put(f"{API}/cameras/cam-1", json={"counting": counting}, headers=bearer(tokens["admin"]))
    assert r.status_code == 200, r.text
    assert r.json()["counting"]["lines"][0]["name"] == "stop"
    stored = CameraStore(api_db).get("cam-1").counting
    assert stored is not None and stored.method == "loop" and stored.lines[0].points[1] == (200, 110)


def test_a_camera_without_observations_is_removed(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    client.post(f"{API}/cameras", json=NEW_CAMERA, headers=bearer(tokens["admin"]))
    r = client.delete(f"{API}/cameras/cam-9", headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and stored_ids(api_db) == ["cam-1", "cam-2"]


@pytest.mark.parametrize(("camera_id", "status"), [("cam-2", 409), ("cam-404", 404)])
def test_removing_a_camera_with_observations_or_unknown_is_refused(
    client: TestClient, tokens: dict[str, str], api_db: Database, camera_id: str, status: int
) -> None:
    assert client.delete(f"{API}/cameras/{camera_id}", headers=bearer(tokens["admin"])).status_code == status
    assert stored_ids(api_db) == ["cam-1", "cam-2"]


def test_a_geojson_import_stores_every_camera(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    files = {"file": ("cams.geojson", geojson_upload("cam-7", "cam-8"), "application/geo+json")}
    r = client.post(f"{API}/cameras/import", files=files, headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.json()["cameras"] == 2
    assert stored_ids(api_db) == ["cam-1", "cam-2", "cam-7", "cam-8"]


def test_an_import_of_a_registered_id_needs_replace(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    files = {"file": ("cams.geojson", geojson_upload("cam-7", "cam-1", site_id="site-1"), "application/json")}
    r = client.post(f"{API}/cameras/import", files=files, headers=bearer(tokens["admin"]))
    assert r.status_code == 409 and "nothing was imported" in r.json()["detail"]
    assert stored_ids(api_db) == ["cam-1", "cam-2"]


def _broken_feature() -> bytes:
    data = json.loads(geojson_upload("cam-7", "cam-8"))
    data["features"][1]["geometry"]["coordinates"] = [20.46, 123.0]
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b'{"type": "FeatureCollection", "features": [', "invalid JSON"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b'{"type": "Feature"}', "FeatureCollection"),
        (_broken_feature(), "(id=cam-8)"),
    ],
)
def test_a_malformed_import_is_a_422_and_leaves_the_register_unchanged(
    client: TestClient, tokens: dict[str, str], api_db: Database, content: bytes, detail: str
) -> None:
    files = {"file": ("cams.geojson", content, "application/geo+json")}
    r = client.post(f"{API}/cameras/import", files=files, headers=bearer(tokens["admin"]))
    assert r.status_code == 422 and detail in r.json()["detail"]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert stored_ids(api_db) == ["cam-1", "cam-2"]


def test_an_oversize_import_is_a_413(
    small_client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    content = geojson_upload(*(f"cam-{i}" for i in range(10, 30)))
    assert len(content) > 2048
    files = {"file": ("cams.geojson", content, "application/geo+json")}
    r = small_client.post(f"{API}/cameras/import", files=files, headers=bearer(tokens["admin"]))
    assert r.status_code == 413
    assert stored_ids(api_db) == ["cam-1", "cam-2"]


def test_an_import_without_a_file_is_a_422(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.post(f"{API}/cameras/import", headers=bearer(tokens["admin"])).status_code == 422


def test_only_the_admin_imports(client: TestClient, tokens: dict[str, str], api_db: Database) -> None:
    files = {"file": ("cams.geojson", geojson_upload("cam-7"), "application/geo+json")}
    r = client.post(f"{API}/cameras/import", files=files, headers=bearer(tokens["investigator"]))
    assert r.status_code == 403 and stored_ids(api_db) == ["cam-1", "cam-2"]
