"""The live WebSocket: who may connect, and that new alerts arrive, narrowed and recorded."""

from __future__ import annotations

from typing import Any

import pytest
from api_world import World
from factories import stored_plate_alert
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.sim.faces import reference_image
from safecity.store.database import Database
from safecity.store.media import MediaStore


def next_alert(ws: Any) -> dict[str, Any]:
    """Messages until the first alert (camera states come in between)."""
    for _ in range(50):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == "alert":
            return message["alert"]
    raise AssertionError("no alert arrived")


def raise_plate_alert(settings: Settings, db: Database, camera_id: str) -> str:
    return stored_plate_alert(
        db, MediaStore(settings.effective_media_dir), reference_image("grace_hopper"), camera_id
    )


def test_an_alert_stored_after_connecting_arrives(
    client: TestClient, tokens: dict[str, str], api_settings: Settings, api_db: Database, world: World
) -> None:
    with client.websocket_connect(f"/api/v1/live?token={tokens['operator']}") as ws:
        assert ws.receive_json()["type"] == "cameras"
        alert_id = raise_plate_alert(api_settings, api_db, "cam-2")
        alert = next_alert(ws)
    assert alert["id"] == alert_id and alert["kind"] == "plate_hotlist"


def test_alerts_from_before_the_connection_are_not_replayed(
    client: TestClient, tokens: dict[str, str], api_settings: Settings, api_db: Database, world: World
) -> None:
    with client.websocket_connect(f"/api/v1/live?token={tokens['operator']}") as ws:
        ws.receive_json()
        later = raise_plate_alert(api_settings, api_db, "cam-2")
        assert next_alert(ws)["id"] == later, "the world's two alerts were stored before connecting"


def test_delivered_alerts_are_recorded(
    client: TestClient, tokens: dict[str, str], api_settings: Settings, api_db: Database, world: World
) -> None:
    with client.websocket_connect(f"/api/v1/live?token={tokens['operator']}") as ws:
        ws.receive_json()
        alert_id = raise_plate_alert(api_settings, api_db, "cam-2")
        next_alert(ws)
    entries = [
        e for e in AuditLog(api_db).entries(AuditAction.VIEW_SIGHTING) if e.details.get("what") == "live"
    ]
    assert entries and entries[0].target == alert_id and entries[0].username == "operator-user"


def test_a_camera_limited_user_gets_only_its_cameras(
    client: TestClient, tokens: dict[str, str], api_settings: Settings, api_db: Database, world: World
) -> None:
    with client.websocket_connect(f"/api/v1/live?token={tokens['limited']}") as ws:
        cameras = ws.receive_json()["cameras"]
        raise_plate_alert(api_settings, api_db, "cam-2")
        mine = raise_plate_alert(api_settings, api_db, "cam-1")
        assert next_alert(ws)["id"] == mine
    assert [c["id"] for c in cameras] == ["cam-1"]


def test_a_viewer_sees_face_alerts_without_the_name(
    client: TestClient, tokens: dict[str, str], api_settings: Settings, api_db: Database, world: World
) -> None:
    from api_world import FACE
    from factories import stored_face_alert

    with client.websocket_connect(f"/api/v1/live?token={tokens['viewer']}") as ws:
        ws.receive_json()
        media = MediaStore(api_settings.effective_media_dir)
        stored_face_alert(api_db, media, reference_image("grace_hopper"), FACE, "cam-1")
        alert = next_alert(ws)
    assert alert["message"] == "face watchlist match"
    assert AuditLog(api_db).entries(AuditAction.VIEW_SIGHTING) == []


@pytest.mark.parametrize(("query", "code"), [("", 4401), ("?token=nope", 4401), ("?token={auditor}", 4403)])
def test_who_may_not_connect(client: TestClient, tokens: dict[str, str], query: str, code: int) -> None:
    url = "/api/v1/live" + query.format(auditor=tokens["auditor"])
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(url) as ws:
        ws.receive_json()
    assert refused.value.code == code


def test_a_browser_session_cookie_is_enough(client: TestClient, tokens: dict[str, str]) -> None:
    from api_world import PASSWORD

    client.post("/api/v1/auth/login", json={"username": "operator-user", "password": PASSWORD})
    with client.websocket_connect("/api/v1/live", headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "cameras"
