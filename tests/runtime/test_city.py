"""`safecity serve`'s runtime against a real RTSP server: store, health, reconnect, register changes, stop."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from factories import camera, plate_read, site
from rtsp import RtspServer, unavailable_reason
from services import need_service
from videos import square_clip, square_frames, write_video

from safecity.config import Settings, StreamSettings
from safecity.governance.audit import AuditLog
from safecity.pipeline.metrics import StatusServer
from safecity.runtime.city import Runtime
from safecity.store.alerts import list_alerts
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.observations import ObservationQueries
from safecity.store.writer import ObservationWriter
from safecity.types import AlertKind, Capability

MOTION = frozenset({Capability.MOTION})


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = unavailable_reason()
    if reason:
        need_service(reason)
    path = tmp_path_factory.mktemp("clips") / "square.mp4"
    square_clip(path, frames=75)  # 3 s at 25 fps: the square crosses, the server loops it
    return path


@pytest.fixture
def server(clip: Path) -> Iterator[RtspServer]:
    with RtspServer({"/a": clip, "/b": clip}) as srv:
        yield srv


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    streams = StreamSettings(
        stall_timeout_s=2.0,
        open_timeout_s=3.0,
        backoff_initial_s=0.2,
        backoff_cap_s=1.0,
        offline_alert_s=1.0,
        status_interval_s=0.2,
        reload_interval_s=0.3,
        workers=1,
        http_port=0,
    )
    return Settings(data_dir=tmp_path / "var", streams=streams)


def wait_for(step: Callable[[], None], condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Drive the runtime until `condition` holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        step()


@pytest.fixture
def running(
    settings: Settings, server: RtspServer, tmp_path: Path
) -> Iterator[tuple[Runtime, Database, RtspServer]]:
    db = Database.open(settings.effective_database_url, settings.store)
    cams = [
        camera("cam-a", capabilities=MOTION, stream_url=server.url("/a", user="op", password="s3cret")),
        camera("cam-b", capabilities=MOTION, stream_url=server.url("/b")),
    ]
    CameraStore(db).save([site()], cams)
    runtime = Runtime(settings, db)
    runtime.start()
    try:
        yield runtime, db, server
    finally:
        runtime.stop()


def states(runtime: Runtime) -> dict[str, str]:
    return {h.camera_id: h.state for h in runtime.health()}


def test_live_streams_are_analysed_and_stored(running: tuple[Runtime, Database, RtspServer]) -> None:
    runtime, db, _ = running
    wait_for(
        runtime.step, lambda: states(runtime) == {"cam-a": "live", "cam-b": "live"}, 30, "both cameras live"
    )
    queries = ObservationQueries(db)
    wait_for(
        runtime.step,
        lambda: all(queries.motion_tracks(c) for c in ("cam-a", "cam-b")),
        30,
        "a motion track from each camera",
    )
    health = {h.camera_id: h for h in runtime.health()}
    assert health["cam-a"].frames_analysed > 0 and health["cam-a"].analysed_fps > 0
    media = MediaStore(runtime.settings.effective_media_dir)  # written by the main process's writer
    assert all(t.snapshot and media.path(t.snapshot).is_file() for t in queries.motion_tracks("cam-a"))


def test_server_down_then_back_goes_offline_alerts_and_recovers(
    running: tuple[Runtime, Database, RtspServer],
) -> None:
    runtime, db, server = running
    wait_for(runtime.step, lambda: states(runtime).get("cam-a") == "live", 30, "cam-a live")
    server.stop()
    wait_for(runtime.step, lambda: states(runtime).get("cam-a") not in (None, "live"), 15, "cam-a not live")
    wait_for(
        runtime.step,
        lambda: any(a.camera_id == "cam-a" for a in list_alerts(db, AlertKind.CAMERA_HEALTH)),
        15,
        "a camera-health alert for cam-a",
    )
    server.start()
    restarted = time.monotonic()
    wait_for(
        runtime.step, lambda: states(runtime) == {"cam-a": "live", "cam-b": "live"}, 20, "both live again"
    )
    assert time.monotonic() - restarted < 15
    assert {h.camera_id: h.reconnects > 0 for h in runtime.health()} == {"cam-a": True, "cam-b": True}


def test_cameras_can_be_added_and_disabled_while_running(
    running: tuple[Runtime, Database, RtspServer],
) -> None:
    runtime, db, server = running
    wait_for(runtime.step, lambda: states(runtime).get("cam-a") == "live", 30, "cam-a live")
    store = CameraStore(db)
    store.save([], [camera("cam-c", capabilities=MOTION, stream_url=server.url("/a"))])
    wait_for(runtime.step, lambda: states(runtime).get("cam-c") == "live", 30, "the added camera live")
    before = next(h for h in runtime.health() if h.camera_id == "cam-a").frames_analysed
    store.save([], [replace(store.get("cam-b"), enabled=False)], replace=True)
    wait_for(runtime.step, lambda: "cam-b" not in states(runtime), 15, "the disabled camera gone")
    wait_for(
        runtime.step,
        lambda: next(h for h in runtime.health() if h.camera_id == "cam-a").frames_analysed > before + 5,
        15,
        "cam-a still analysing",
    )


def test_stop_flushes_open_tracks(settings: Settings, clip: Path, tmp_path: Path) -> None:
    slow = tmp_path / "slow.mp4"
    images, _ = square_frames(frames=250, speed=1)  # 10 s in the picture: the track is open at stop
    write_video(slow, images)
    db = Database.open(settings.effective_database_url, settings.store)
    with RtspServer({"/slow": slow}) as server:
        CameraStore(db).save([site()], [camera("cam-a", capabilities=MOTION, stream_url=server.url("/slow"))])
        runtime = Runtime(settings, db)
        runtime.start()
        try:
            wait_for(
                runtime.step,
                lambda: any(h.frames_analysed > 12 for h in runtime.health()),
                30,
                "frames analysed",
            )
            assert ObservationQueries(db).motion_tracks("cam-a") == [], "the square is still in the picture"
        finally:
            runtime.stop()
    assert ObservationQueries(db).motion_tracks("cam-a"), "tracks open at stop are decided and stored"


def test_an_audit_anchor_is_appended_at_stop(settings: Settings) -> None:
    import json

    from safecity.governance.audit import AuditLog

    db = Database.open(settings.effective_database_url, settings.store)
    AuditLog(db).record("search_plate", username="ana", role="investigator", justification="case K-1/2026")
    runtime = Runtime(settings, db)
    runtime.start()
    runtime.stop()
    (line,) = settings.effective_anchor_path.read_text().splitlines()
    assert (json.loads(line)["seq"], json.loads(line)["hash"]) == AuditLog(db).head()


def test_status_endpoint_serves_health_without_credentials(
    running: tuple[Runtime, Database, RtspServer],
) -> None:
    runtime, _, _ = running
    wait_for(runtime.step, lambda: states(runtime).get("cam-a") == "live", 30, "cam-a live")
    server = StatusServer("127.0.0.1", 0, runtime.health)
    try:
        status = json.loads(urllib.request.urlopen(f"{server.url}/status", timeout=5).read())
        metrics = urllib.request.urlopen(f"{server.url}/metrics", timeout=5).read().decode()
    finally:
        server.close()
    assert {r["camera_id"]: r["state"] for r in status}["cam-a"] == "live"
    assert "s3cret" not in json.dumps(status) and "op:***@" in json.dumps(status)
    assert 'safecity_camera_state{camera="cam-a",state="live"} 1.0' in metrics
    assert "safecity_camera_dropped_frames_total" in metrics


def test_status_server_answers_404_elsewhere() -> None:
    server = StatusServer("127.0.0.1", 0, list)
    try:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{server.url}/nope", timeout=5)
        assert info.value.code == 404
    finally:
        server.close()


@pytest.mark.parametrize(("housekeeping", "swept"), [(True, True), (False, False)])
def test_housekeeping_off_runs_no_retention_sweep(
    settings: Settings, housekeeping: bool, swept: bool
) -> None:
    db = Database.open(settings.effective_database_url, settings.store)
    CameraStore(db).save([site()], [replace(camera("cam-old"), stream_url="")])
    with ObservationWriter(db, settings.store) as writer:  # a read months old: due for deletion
        writer.submit_many([plate_read("cam-old")])
    runtime = Runtime(settings, db, housekeeping=housekeeping)
    runtime.start()
    try:
        runtime.step(0.01)
    finally:
        runtime.stop()  # joins the sweep thread, if one started
    assert bool(AuditLog(db).entries("retention_deletion")) is swept
