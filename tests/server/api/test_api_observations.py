"""/api/v1/observations: plate reads and face sightings, listed and their snapshots shown, all recorded."""

from __future__ import annotations

import pytest
from api_world import World, bearer
from fastapi.testclient import TestClient

from safecity.governance.audit import AuditLog
from safecity.store.database import Database
from safecity.store.models import AlertRow


def observation_of(db: Database, alert_id: str) -> str:
    with db.session() as session:
        row = session.get(AlertRow, alert_id)
        assert row is not None and row.observation_id is not None
        return row.observation_id


def test_plate_reads_are_listed_and_recorded(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    r = client.get("/api/v1/observations/plates", headers=bearer(tokens["auditor"]))
    assert r.status_code == 200
    [read] = r.json()["items"]
    assert read["id"] == observation_of(api_db, world.plate_alert)
    assert (read["camera_id"], read["text"], read["normalised"], read["country"]) == (
        "cam-2",
        "BG 123-AB",
        "BG123AB",
        "RS",
    )
    assert read["bbox"] == {"x": 0, "y": 0, "w": 10, "h": 10} and read["has_snapshot"]
    entry = AuditLog(api_db).entries("view_sighting", username="auditor-user")[-1]
    assert entry.target == read["id"] and entry.details["what"] == "plate_reads"


def test_face_sightings_are_listed_without_embeddings(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    r = client.get("/api/v1/observations/faces", headers=bearer(tokens["operator"]))
    assert r.status_code == 200
    [sighting] = r.json()["items"]
    assert sighting["id"] == observation_of(api_db, world.face_alert)
    assert sighting["bbox"] == {"x": 160, "y": 137, "w": 216, "h": 216}
    assert sighting["quality"] == 0.8 and sighting["has_vector"] is False
    assert not {"embedding", "vector"} & set(sighting)
    entry = AuditLog(api_db).entries("view_sighting", username="operator-user")[-1]
    assert entry.target == sighting["id"] and entry.details["what"] == "face_sightings"


@pytest.mark.parametrize(
    ("kind", "query", "count"),
    [
        ("plates", "camera=cam-1", 0),
        ("plates", "until=2000-01-01T00:00:00%2B00:00", 0),
        ("faces", "since=2000-01-01T00:00:00Z", 1),
        ("faces", "limit=1&offset=1", 0),
    ],
)
def test_listing_filters(
    client: TestClient, tokens: dict[str, str], world: World, kind: str, query: str, count: int
) -> None:
    r = client.get(f"/api/v1/observations/{kind}?{query}", headers=bearer(tokens["investigator"]))
    assert r.status_code == 200 and len(r.json()["items"]) == count


@pytest.mark.parametrize(("kind", "count"), [("plates", 0), ("faces", 1)])
def test_a_limited_caller_sees_only_its_cameras(
    client: TestClient, tokens: dict[str, str], world: World, kind: str, count: int
) -> None:
    r = client.get(f"/api/v1/observations/{kind}", headers=bearer(tokens["limited"]))
    assert r.status_code == 200 and len(r.json()["items"]) == count


@pytest.mark.parametrize(
    ("token", "path", "status"),
    [
        (None, "/api/v1/observations/plates", 401),
        (None, "/api/v1/observations/faces", 401),
        ("viewer", "/api/v1/observations/plates", 403),
        ("admin", "/api/v1/observations/faces", 403),
        ("limited", "/api/v1/observations/plates?camera=cam-2", 403),
        ("operator", "/api/v1/observations/faces?limit=501", 422),
        ("operator", "/api/v1/observations/plates?since=2026-01-01T00:00:00", 400),
    ],
)
def test_listing_refusals(
    client: TestClient, tokens: dict[str, str], world: World, token: str | None, path: str, status: int
) -> None:
    headers = bearer(tokens[token]) if token else {}
    r = client.get(path, headers=headers)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("kind", "alert", "role"), [("plates", "plate", "auditor"), ("faces", "face", "operator")]
)
def test_snapshots_are_jpegs_and_recorded(
    client: TestClient,
    tokens: dict[str, str],
    world: World,
    api_db: Database,
    kind: str,
    alert: str,
    role: str,
) -> None:
    obs = observation_of(api_db, world.plate_alert if alert == "plate" else world.face_alert)
    r = client.get(f"/api/v1/observations/{kind}/{obs}/snapshot", headers=bearer(tokens[role]))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content[:2] == b"\xff\xd8"
    entry = AuditLog(api_db).entries("view_sighting", username=f"{role}-user")[-1]
    assert entry.target == obs and entry.details["what"] == "snapshot"


@pytest.mark.parametrize(
    ("token", "kind", "which", "status"),
    [
        (None, "plates", "plate", 401),
        ("viewer", "plates", "plate", 403),
        ("limited", "plates", "plate", 403),
        ("auditor", "faces", "face", 403),  # a matched face is stored unblurred: confirm_match only
        ("operator", "plates", "unknown", 404),
        ("operator", "faces", "plate", 404),
        ("operator", "motion", "plate", 422),
    ],
)
def test_snapshot_refusals(
    client: TestClient,
    tokens: dict[str, str],
    world: World,
    api_db: Database,
    token: str | None,
    kind: str,
    which: str,
    status: int,
) -> None:
    obs = {
        "plate": lambda: observation_of(api_db, world.plate_alert),
        "face": lambda: observation_of(api_db, world.face_alert),
        "unknown": lambda: "no-such-read",
    }[which]()
    headers = bearer(tokens[token]) if token else {}
    r = client.get(f"/api/v1/observations/{kind}/{obs}/snapshot", headers=headers)
    assert r.status_code == status
