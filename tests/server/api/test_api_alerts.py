"""/api/v1/alerts: listing, detail, snapshot, acknowledgement, two-person confirmation and evidence export."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import av
import pytest
from api_world import World, bearer
from fastapi.testclient import TestClient
from videos import indexed_segment, keyframed_clip

from safecity.config import Settings
from safecity.governance.audit import AuditLog
from safecity.store.database import Database
from safecity.store.models import AlertRow
from safecity.store.recordings import RecordingStore

REASON = "case 2026-17: stolen vehicle"
UNKNOWN = "no-such-alert"


def ids(r: object) -> list[str]:
    assert hasattr(r, "json")
    return [a["id"] for a in r.json()["items"]]


def confirm_twice(client: TestClient, tokens: dict[str, str], alert_id: str) -> None:
    for who in ("operator", "operator-2"):
        r = client.post(
            f"/api/v1/alerts/{alert_id}/confirm", json={"note": "same face"}, headers=bearer(tokens[who])
        )
        assert r.status_code == 200, r.text


# ---------------------------------------------------------------- list


def test_list_shows_every_alert_and_is_recorded(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    r = client.get("/api/v1/alerts", headers=bearer(tokens["investigator"]))
    assert r.status_code == 200
    assert sorted(ids(r)) == sorted([world.face_alert, world.plate_alert])
    assert r.json()["next_offset"] is None
    entry = AuditLog(api_db).entries("view_sighting", username="investigator-user")[-1]
    assert set(entry.target.split(",")) == {world.face_alert, world.plate_alert}
    assert entry.details["what"] == "alerts"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=face_watchlist", ["face"]),
        ("kind=plate_hotlist", ["plate"]),
        ("camera=cam-2", ["plate"]),
        ("camera=cam-1&camera=cam-2", ["face", "plate"]),
        ("status=confirmed", []),
        ("until=2000-01-01T00:00:00Z", []),
    ],
)
def test_list_filters(
    client: TestClient, tokens: dict[str, str], world: World, query: str, expected: list[str]
) -> None:
    r = client.get(f"/api/v1/alerts?{query}", headers=bearer(tokens["operator"]))
    assert r.status_code == 200
    names = {world.face_alert: "face", world.plate_alert: "plate"}
    assert sorted(names[i] for i in ids(r)) == expected


def test_list_pages(client: TestClient, tokens: dict[str, str], world: World) -> None:
    first = client.get("/api/v1/alerts?limit=1", headers=bearer(tokens["operator"])).json()
    assert len(first["items"]) == 1 and first["next_offset"] == 1
    second = client.get("/api/v1/alerts?limit=1&offset=1", headers=bearer(tokens["operator"])).json()
    assert len(second["items"]) == 1 and second["next_offset"] is None
    assert first["items"][0]["id"] != second["items"][0]["id"]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "kind=nonsense"])
def test_list_rejects_bad_parameters(
    client: TestClient, tokens: dict[str, str], world: World, query: str
) -> None:
    r = client.get(f"/api/v1/alerts?{query}", headers=bearer(tokens["operator"]))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


def test_list_refuses_a_time_without_offset(client: TestClient, tokens: dict[str, str], world: World) -> None:
    r = client.get("/api/v1/alerts?since=2026-01-01T00:00:00", headers=bearer(tokens["operator"]))
    assert r.status_code == 400 and "UTC offset" in r.json()["detail"]


def test_list_is_narrowed_to_a_limited_callers_cameras(
    client: TestClient, tokens: dict[str, str], world: World
) -> None:
    r = client.get("/api/v1/alerts", headers=bearer(tokens["limited"]))
    assert ids(r) == [world.face_alert]


def test_list_of_a_camera_outside_the_limits_is_refused_and_recorded(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    r = client.get("/api/v1/alerts?camera=cam-2", headers=bearer(tokens["limited"]))
    assert r.status_code == 403
    assert AuditLog(api_db).entries("access_denied", username="limited-user")


# ---------------------------------------------------------------- authentication and roles


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/alerts"),
        ("GET", "/api/v1/alerts/{id}"),
        ("GET", "/api/v1/alerts/{id}/snapshot"),
        ("POST", "/api/v1/alerts/{id}/ack"),
        ("POST", "/api/v1/alerts/{id}/confirm"),
        ("POST", "/api/v1/alerts/{id}/reject"),
        ("POST", "/api/v1/alerts/{id}/export"),
    ],
)
def test_every_endpoint_needs_a_login(client: TestClient, world: World, method: str, path: str) -> None:
    r = client.request(method, path.format(id=world.plate_alert), json={})
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        ("viewer", "GET", "/api/v1/alerts", None),
        ("admin", "GET", "/api/v1/alerts", None),
        ("viewer", "GET", "/api/v1/alerts/{id}", None),
        ("viewer", "GET", "/api/v1/alerts/{id}/snapshot", None),
        ("auditor", "POST", "/api/v1/alerts/{id}/ack", {}),
        ("auditor", "POST", "/api/v1/alerts/{id}/confirm", {}),
        ("viewer", "POST", "/api/v1/alerts/{id}/reject", {}),
        ("operator", "POST", "/api/v1/alerts/{id}/export", {"reason": REASON, "recipients": "Police"}),
    ],
)
def test_roles_without_the_permission_are_refused_and_recorded(
    client: TestClient,
    tokens: dict[str, str],
    world: World,
    api_db: Database,
    role: str,
    method: str,
    path: str,
    body: dict[str, object] | None,
) -> None:
    r = client.request(method, path.format(id=world.plate_alert), json=body, headers=bearer(tokens[role]))
    assert r.status_code == 403
    assert AuditLog(api_db).entries("access_denied", username=f"{role}-user")


# ---------------------------------------------------------------- detail


def test_detail_has_the_evidence_and_decisions_and_is_recorded(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    client.post(
        f"/api/v1/alerts/{world.face_alert}/confirm",
        json={"note": "looks alike"},
        headers=bearer(tokens["operator"]),
    )
    r = client.get(f"/api/v1/alerts/{world.face_alert}", headers=bearer(tokens["auditor"]))
    assert r.status_code == 200
    body = r.json()
    assert body["kind"] == "face_watchlist" and body["status"] == "confirming"
    assert body["evidence"]["authorisation_reference"] == "K-7/2026"
    assert [(d["user"], d["decision"], d["note"]) for d in body["decisions"]] == [
        ("operator-user", "confirm", "looks alike")
    ]
    entry = AuditLog(api_db).entries("view_sighting", username="auditor-user")[-1]
    assert entry.target == world.face_alert


def test_detail_of_an_unknown_alert_is_404(client: TestClient, tokens: dict[str, str], world: World) -> None:
    r = client.get(f"/api/v1/alerts/{UNKNOWN}", headers=bearer(tokens["operator"]))
    assert r.status_code == 404


def test_detail_outside_the_camera_limits_is_403(
    client: TestClient, tokens: dict[str, str], world: World
) -> None:
    r = client.get(f"/api/v1/alerts/{world.plate_alert}", headers=bearer(tokens["limited"]))
    assert r.status_code == 403


# ---------------------------------------------------------------- snapshot


@pytest.mark.parametrize(
    ("role", "alert"), [("auditor", "plate"), ("operator", "plate"), ("operator", "face")]
)
def test_snapshot_is_a_jpeg_and_recorded(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database, role: str, alert: str
) -> None:
    alert_id = world.plate_alert if alert == "plate" else world.face_alert
    r = client.get(f"/api/v1/alerts/{alert_id}/snapshot", headers=bearer(tokens[role]))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content[:2] == b"\xff\xd8"
    entry = AuditLog(api_db).entries("view_sighting", username=f"{role}-user")[-1]
    assert entry.target == alert_id and entry.details["what"] == "alert snapshot"


def test_a_face_matchs_snapshot_needs_confirm_match(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    r = client.get(f"/api/v1/alerts/{world.face_alert}/snapshot", headers=bearer(tokens["auditor"]))
    assert r.status_code == 403
    assert AuditLog(api_db).entries("access_denied", username="auditor-user")


@pytest.mark.parametrize(
    ("token", "alert", "status"), [("operator", UNKNOWN, 404), ("limited", "plate", 403)]
)
def test_snapshot_refusals(
    client: TestClient, tokens: dict[str, str], world: World, token: str, alert: str, status: int
) -> None:
    alert_id = world.plate_alert if alert == "plate" else alert
    assert (
        client.get(f"/api/v1/alerts/{alert_id}/snapshot", headers=bearer(tokens[token])).status_code == status
    )


# ---------------------------------------------------------------- acknowledge


def test_ack_marks_a_plate_alert_handled(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    r = client.post(
        f"/api/v1/alerts/{world.plate_alert}/ack",
        json={"note": "car stopped"},
        headers=bearer(tokens["operator"]),
    )
    assert r.status_code == 200 and r.json() == {"alert_id": world.plate_alert, "status": "acknowledged"}
    shown = client.get(f"/api/v1/alerts/{world.plate_alert}", headers=bearer(tokens["operator"])).json()
    assert shown["status"] == "acknowledged" and shown["handled_by"] == "operator-user"
    entry = AuditLog(api_db).entries("acknowledge_alert")[-1]
    assert entry.target == world.plate_alert and entry.justification == "car stopped"


def test_ack_twice_is_a_409(client: TestClient, tokens: dict[str, str], world: World) -> None:
    url = f"/api/v1/alerts/{world.plate_alert}/ack"
    assert client.post(url, json={}, headers=bearer(tokens["operator"])).status_code == 200
    r = client.post(url, json={}, headers=bearer(tokens["operator-2"]))
    assert r.status_code == 409 and "acknowledged already" in r.json()["detail"]


@pytest.mark.parametrize(
    ("token", "alert", "status"),
    [("operator", "face", 409), ("operator", UNKNOWN, 404), ("limited", "plate", 403)],
)
def test_ack_refusals(
    client: TestClient, tokens: dict[str, str], world: World, token: str, alert: str, status: int
) -> None:
    alert_id = {"face": world.face_alert, "plate": world.plate_alert}.get(alert, alert)
    r = client.post(f"/api/v1/alerts/{alert_id}/ack", json={}, headers=bearer(tokens[token]))
    assert r.status_code == status


# ---------------------------------------------------------------- confirm / reject


def test_two_operators_confirm_a_face_match(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    url = f"/api/v1/alerts/{world.face_alert}/confirm"
    first = client.post(url, json={"note": "same face"}, headers=bearer(tokens["operator"])).json()
    assert first["status"] == "confirming" and first["confirmed_by"] == ["operator-user"]
    assert first["required"] == 2
    second = client.post(url, json={"note": "agreed"}, headers=bearer(tokens["operator-2"])).json()
    assert second["status"] == "confirmed"
    assert second["confirmed_by"] == ["operator-user", "operator-2"]
    entry = AuditLog(api_db).entries("confirm_match")[-1]
    assert entry.details["verified_by"] == ["operator-user", "operator-2"]


def test_one_user_cannot_confirm_twice(client: TestClient, tokens: dict[str, str], world: World) -> None:
    url = f"/api/v1/alerts/{world.face_alert}/confirm"
    assert client.post(url, json={}, headers=bearer(tokens["operator"])).status_code == 200
    r = client.post(url, json={}, headers=bearer(tokens["operator"]))
    assert r.status_code == 409 and "already decided" in r.json()["detail"]


def test_a_rejection_ends_the_match(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    r = client.post(
        f"/api/v1/alerts/{world.face_alert}/reject",
        json={"note": "not her"},
        headers=bearer(tokens["operator"]),
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert AuditLog(api_db).entries("reject_match")[-1].target == world.face_alert
    again = client.post(
        f"/api/v1/alerts/{world.face_alert}/confirm", json={}, headers=bearer(tokens["operator-2"])
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("token", "decision", "alert", "status"),
    [
        ("operator", "confirm", "plate", 409),
        ("operator", "reject", UNKNOWN, 404),
        ("limited", "confirm", "plate", 403),
    ],
)
def test_decision_refusals(
    client: TestClient,
    tokens: dict[str, str],
    world: World,
    token: str,
    decision: str,
    alert: str,
    status: int,
) -> None:
    alert_id = world.plate_alert if alert == "plate" else alert
    r = client.post(f"/api/v1/alerts/{alert_id}/{decision}", json={}, headers=bearer(tokens[token]))
    assert r.status_code == status


# ---------------------------------------------------------------- export


def export(client: TestClient, token: str, alert_id: str, **body: object) -> object:
    payload = {"reason": REASON, "recipients": "City police, case desk", **body}
    return client.post(f"/api/v1/alerts/{alert_id}/export", json=payload, headers=bearer(token))


def test_a_confirmed_face_match_exports_as_a_zip(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    confirm_twice(client, tokens, world.face_alert)
    r = export(client, tokens["investigator"], world.face_alert)
    assert hasattr(r, "status_code") and r.status_code == 200, getattr(r, "text", "")
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == f'attachment; filename="alert-{world.face_alert}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert set(archive.namelist()) == {"evidence.json", "snapshot.jpg", "SHA256SUMS"}
    manifest = json.loads(archive.read("evidence.json"))
    assert manifest["alert"]["id"] == world.face_alert and manifest["recipients"] == "City police, case desk"
    assert manifest["faces"] == "all blurred" and "photo_ref" not in manifest["evidence"]
    entry = AuditLog(api_db).entries("export")[-1]
    assert entry.target == world.face_alert and entry.justification == REASON
    assert entry.seq == manifest["audit"]["seq"]


def test_an_export_holds_the_alerts_recorded_clip(
    client: TestClient,
    tokens: dict[str, str],
    world: World,
    api_db: Database,
    api_settings: Settings,
    tmp_path: Path,
) -> None:
    with api_db.read_session() as session:
        row = session.get(AlertRow, world.plate_alert)
        assert row is not None
        camera_id, at = row.camera_id, row.ts
    store = RecordingStore(api_db, api_settings.effective_recordings_dir)
    indexed_segment(store, camera_id, at - timedelta(seconds=4), keyframed_clip(tmp_path / "cam.mp4"), 8)
    r = export(client, tokens["investigator"], world.plate_alert)
    assert hasattr(r, "content") and r.status_code == 200, getattr(r, "text", "")
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert set(archive.namelist()) == {"evidence.json", "snapshot.jpg", "clip.mp4", "SHA256SUMS"}
    manifest = json.loads(archive.read("evidence.json"))
    (tmp_path / "clip.mp4").write_bytes(archive.read("clip.mp4"))
    with av.open(str(tmp_path / "clip.mp4")) as exported:  # re-encoded H.264 that plays
        assert exported.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in exported.decode(video=0)) == manifest["clip"]["frames"] > 100
    assert AuditLog(api_db).entries("export")[-1].details["files"] == ["snapshot.jpg", "clip.mp4"]


def test_a_plate_alert_exports_without_confirmation(
    client: TestClient, tokens: dict[str, str], world: World
) -> None:
    r = export(client, tokens["investigator"], world.plate_alert)
    assert hasattr(r, "content") and r.status_code == 200
    assert set(zipfile.ZipFile(io.BytesIO(r.content)).namelist()) == {
        "evidence.json",
        "snapshot.jpg",
        "SHA256SUMS",
    }


def test_an_unconfirmed_face_match_is_not_exported(
    client: TestClient, tokens: dict[str, str], world: World, api_db: Database
) -> None:
    r = export(client, tokens["investigator"], world.face_alert)
    assert hasattr(r, "json") and r.status_code == 409 and "until confirmed" in r.json()["detail"]
    assert not AuditLog(api_db).entries("export")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"reason": ""}, 422),
        ({"recipients": ""}, 422),
        ({"unblurred": True}, 409),
    ],
)
def test_export_refusals(
    client: TestClient, tokens: dict[str, str], world: World, body: dict[str, object], status: int
) -> None:
    r = export(client, tokens["investigator"], world.plate_alert, **body)
    assert hasattr(r, "status_code") and r.status_code == status


@pytest.mark.parametrize(
    ("token", "alert", "status"), [("investigator", UNKNOWN, 404), ("limited", "plate", 403)]
)
def test_export_of_an_unknown_or_hidden_alert(
    client: TestClient, tokens: dict[str, str], world: World, token: str, alert: str, status: int
) -> None:
    alert_id = world.plate_alert if alert == "plate" else alert
    r = export(client, tokens[token], alert_id)
    assert hasattr(r, "status_code") and r.status_code == status
