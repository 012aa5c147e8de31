"""Video through the API: live view from a real RTSP camera, recorded spans, playback with range
requests, an alert's clip; roles, camera limits, bad spans, and the audit entry of every view."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from api_world import World, bearer
from factories import T0
from fastapi.testclient import TestClient
from rtsp import RtspServer, unavailable_reason
from services import need_service
from starlette.websockets import WebSocketDisconnect
from videos import coded_clip, indexed_segment, keyframed_clip

from safecity.config import Settings
from safecity.governance.audit import AuditLog
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.recordings import RecordingStore, Segment
from safecity.types import new_id

SEGMENT_START = T0 - timedelta(seconds=4)  # the alerts are at T0; the clip's 8 s cover both sides


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return keyframed_clip(tmp_path_factory.mktemp("video") / "cam.mp4")


@pytest.fixture
def recorded(api_settings: Settings, api_db: Database, clip: Path) -> list[Segment]:
    """An 8-s segment on each camera around T0, indexed as the recorder indexes it."""
    store = RecordingStore(api_db, api_settings.effective_recordings_dir)
    segments = [indexed_segment(store, camera_id, SEGMENT_START, clip, 8) for camera_id in ("cam-1", "cam-2")]
    return segments


@pytest.fixture(scope="module")
def camera_url(clip: Path) -> Iterator[str]:
    if (why := unavailable_reason()) is not None:
        need_service(why)
    with RtspServer({"/cam": clip}) as server:
        yield server.url("/cam")


@pytest.fixture
def live_camera(api_db: Database, camera_url: str) -> str:
    cameras = CameraStore(api_db)
    cam = cameras.get("cam-1")
    sites = [s for s in cameras.sites() if s.id == cam.site_id]
    cameras.save(sites, [dataclasses.replace(cam, stream_url=camera_url)], replace=True)
    return "cam-1"


def _video_entries(db: Database) -> list[dict[str, object]]:
    return [dict(e.details) | {"user": e.username} for e in AuditLog(db).entries("view_video")]


# ---------------------------------------------------------------- live


def test_live_view_streams_fragmented_mp4_and_is_recorded_at_start_and_end(
    client: TestClient, tokens: dict[str, str], api_db: Database, live_camera: str
) -> None:
    received = b""
    with client.stream(
        "GET", f"/api/v1/cameras/{live_camera}/live.mp4", headers=bearer(tokens["operator"])
    ) as r:
        assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
        assert r.headers["cache-control"] == "no-store"
        for chunk in r.iter_bytes():
            received += chunk
            if received.count(b"moof") >= 3:
                break
    assert received[4:8] == b"ftyp" and b"moov" in received
    eventually(lambda: len(_video_entries(api_db)) == 2, 10, "the live view's closing entry")
    start, end = _video_entries(api_db)
    assert start["video"] == "live" and start["user"] == "operator-user"
    assert end["ended"] is True and int(str(end["bytes"])) >= len(received) // 2
    assert AuditLog(api_db).verify().ok


@pytest.mark.parametrize(
    ("token", "camera_id"),
    [("admin", "cam-1"), ("auditor", "cam-1"), ("limited", "cam-2")],
    ids=["admin-lacks-view_live", "auditor-lacks-view_live", "camera-outside-limits"],
)
def test_live_view_refused_and_recorded(
    client: TestClient, tokens: dict[str, str], api_db: Database, token: str, camera_id: str
) -> None:
    r = client.get(f"/api/v1/cameras/{camera_id}/live.mp4", headers=bearer(tokens[token]))
    assert r.status_code == 403
    assert AuditLog(api_db).entries("access_denied")[-1].target == "view_video"
    assert _video_entries(api_db) == []


def test_live_view_of_a_camera_without_a_stream_is_404(
    client: TestClient, tokens: dict[str, str], api_db: Database
) -> None:
    cameras = CameraStore(api_db)
    cam = cameras.get("cam-2")
    cameras.save(
        [s for s in cameras.sites() if s.id == cam.site_id],
        [dataclasses.replace(cam, stream_url="")],
        replace=True,
    )
    r = client.get("/api/v1/cameras/cam-2/live.mp4", headers=bearer(tokens["operator"]))
    assert r.status_code == 404 and "no stream URL" in r.json()["detail"]


@pytest.mark.parametrize(
    "path", ["live.mp4", "recordings", "video.mp4?since=2026-01-01T00:00Z&until=2026-01-01T00:01Z"]
)
def test_video_of_an_unknown_camera_is_404(client: TestClient, tokens: dict[str, str], path: str) -> None:
    r = client.get(f"/api/v1/cameras/no-such/{path}", headers=bearer(tokens["operator"]))
    assert r.status_code == 404 and "no-such" in r.json()["detail"]


def test_live_view_without_login_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/cameras/cam-1/live.mp4").status_code == 401


def test_live_view_over_websocket_sends_fragmented_mp4_and_is_recorded_at_start_and_end(
    client: TestClient, tokens: dict[str, str], api_db: Database, live_camera: str
) -> None:
    received = b""
    with client.websocket_connect(f"/api/v1/cameras/{live_camera}/live?token={tokens['operator']}") as ws:
        while received.count(b"moof") < 3:
            received += ws.receive_bytes()
    assert received[4:8] == b"ftyp" and b"moov" in received
    eventually(lambda: len(_video_entries(api_db)) == 2, 10, "the live view's closing entry")
    start, end = _video_entries(api_db)
    assert start["video"] == "live" and end["ended"] is True and start["user"] == "operator-user"
    assert AuditLog(api_db).verify().ok


@pytest.fixture(scope="module")
def hevc_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if (why := unavailable_reason()) is not None:
        need_service(why)
    clip = coded_clip(tmp_path_factory.mktemp("hevc") / "cam.mp4", "libx265")
    with RtspServer({"/cam": clip}) as server:
        yield server.url("/cam")


def test_the_live_view_of_an_h265_camera_is_jpeg_images(
    client: TestClient, tokens: dict[str, str], api_db: Database, hevc_url: str
) -> None:
    cameras = CameraStore(api_db)
    cam = cameras.get("cam-1")
    sites = [s for s in cameras.sites() if s.id == cam.site_id]
    cameras.save(sites, [dataclasses.replace(cam, stream_url=hevc_url)], replace=True)
    with client.websocket_connect(f"/api/v1/cameras/cam-1/live?token={tokens['operator']}") as ws:
        shown = [ws.receive_bytes() for _ in range(3)]
    for data in shown:
        assert data[:2] == b"\xff\xd8"
        assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == (240, 320, 3)
    eventually(lambda: len(_video_entries(api_db)) == 2, 10, "the live view's closing entry")


@pytest.mark.parametrize(
    ("token", "camera_id", "code"),
    [("", "cam-1", 4401), ("nope", "cam-1", 4401), ("auditor", "cam-1", 4403), ("limited", "cam-2", 4403)],
    ids=["no-login", "bad-token", "auditor-lacks-view_live", "camera-outside-limits"],
)
def test_live_view_over_websocket_refused_with_a_reason(
    client: TestClient, tokens: dict[str, str], api_db: Database, token: str, camera_id: str, code: int
) -> None:
    secret = tokens.get(token, token)
    with client.websocket_connect(f"/api/v1/cameras/{camera_id}/live?token={secret}") as ws:
        closed = ws.receive()
    assert closed["type"] == "websocket.close" and closed["code"] == code and closed["reason"]
    assert _video_entries(api_db) == []
    if code == 4403:
        assert AuditLog(api_db).entries("access_denied")[-1].target == "view_video"


def test_live_view_over_websocket_of_an_unknown_camera_is_4404(
    client: TestClient, tokens: dict[str, str]
) -> None:
    with client.websocket_connect(f"/api/v1/cameras/no-such/live?token={tokens['operator']}") as ws:
        closed = ws.receive()
    assert closed["code"] == 4404 and "no-such" in closed["reason"]


def test_live_view_over_websocket_refuses_a_cookie_from_another_origin(
    client: TestClient, api_db: Database, live_camera: str
) -> None:
    from api_world import PASSWORD

    client.post("/api/v1/auth/login", json={"username": "operator-user", "password": PASSWORD})
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect(
            f"/api/v1/cameras/{live_camera}/live", headers={"Origin": "http://evil.example"}
        ) as ws,
    ):
        ws.receive_bytes()
    assert _video_entries(api_db) == []


# ---------------------------------------------------------------- recorded


def _span(since: object, until: object) -> dict[str, str]:
    return {"since": str(since), "until": str(until)}


def test_recorded_spans_are_listed(
    client: TestClient, tokens: dict[str, str], recorded: list[Segment]
) -> None:
    r = client.get(
        "/api/v1/cameras/cam-1/recordings",
        params={
            "since": (T0 - timedelta(hours=1)).isoformat(),
            "until": (T0 + timedelta(hours=1)).isoformat(),
        },
        headers=bearer(tokens["operator"]),
    )
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["spans"]] == [recorded[0].id]


def test_playback_plays_seeks_and_is_recorded_once_per_viewer_and_span(
    client: TestClient, tokens: dict[str, str], api_db: Database, recorded: list[Segment]
) -> None:
    params = {
        "since": (T0 - timedelta(seconds=2)).isoformat(),
        "until": (T0 + timedelta(seconds=3)).isoformat(),
    }
    url, auth = "/api/v1/cameras/cam-1/video.mp4", bearer(tokens["investigator"])
    whole = client.get(url, params=params, headers=auth)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert whole.content[4:8] == b"ftyp"
    part = client.get(url, params=params, headers={**auth, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200]
    entries = _video_entries(api_db)
    assert len(entries) == 1 and entries[0]["video"] == "recorded"
    assert entries[0]["from"] == params["since"]


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({}, 400, "give both since and until"),
        (_span(T0.isoformat(), (T0 - timedelta(seconds=1)).isoformat()), 400, "must be after"),
        (_span(T0.isoformat(), (T0 + timedelta(hours=1)).isoformat()), 400, "recording.max_clip_s"),
        (_span("2026-03-02T07:30:00", "2026-03-02T07:30:05"), 400, "no UTC offset"),
        (_span(T0 + timedelta(hours=2), T0 + timedelta(hours=2, seconds=5)), 404, "no recorded video"),
        (_span("yesterday", "today"), 422, "since"),
    ],
    ids=["no-span", "backwards", "too-long", "naive", "nothing-recorded", "not-a-time"],
)
def test_bad_playback_requests_are_4xx_and_not_recorded(
    client: TestClient,
    tokens: dict[str, str],
    api_db: Database,
    recorded: list[Segment],
    params: dict[str, str],
    status: int,
    fragment: str,
) -> None:
    r = client.get("/api/v1/cameras/cam-1/video.mp4", params=params, headers=bearer(tokens["operator"]))
    assert r.status_code == status and fragment in r.json()["detail"]
    assert _video_entries(api_db) == []


def test_playback_outside_the_callers_cameras_is_refused(
    client: TestClient, tokens: dict[str, str], api_db: Database, recorded: list[Segment]
) -> None:
    params = {"since": T0.isoformat(), "until": (T0 + timedelta(seconds=2)).isoformat()}
    r = client.get("/api/v1/cameras/cam-2/video.mp4", params=params, headers=bearer(tokens["limited"]))
    assert r.status_code == 403
    assert _video_entries(api_db) == []


def test_an_alerts_clip_plays(
    client: TestClient, tokens: dict[str, str], api_db: Database, recorded: list[Segment], world: World
) -> None:
    r = client.get(f"/api/v1/alerts/{world.plate_alert}/clip.mp4", headers=bearer(tokens["operator"]))
    assert r.status_code == 200 and r.content[4:8] == b"ftyp"
    (entry,) = _video_entries(api_db)
    assert entry["video"] == "alert" and entry["alert"] == world.plate_alert


@pytest.mark.parametrize(("token", "status"), [("viewer", 403), ("admin", 403), ("limited", 403)])
def test_an_alerts_clip_is_refused_to_those_who_may_not_see_it(
    client: TestClient, tokens: dict[str, str], recorded: list[Segment], world: World, token: str, status: int
) -> None:
    r = client.get(f"/api/v1/alerts/{world.plate_alert}/clip.mp4", headers=bearer(tokens[token]))
    assert r.status_code == status


def test_an_unknown_alerts_clip_is_404(client: TestClient, tokens: dict[str, str]) -> None:
    r = client.get(f"/api/v1/alerts/{new_id()}/clip.mp4", headers=bearer(tokens["operator"]))
    assert r.status_code == 404
