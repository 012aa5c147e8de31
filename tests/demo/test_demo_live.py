"""The demo's live part: while the UI serves, the sim's clips loop as RTSP cameras that the live
runtime analyses and the recorders record; on stop nothing is left running."""

from __future__ import annotations

import dataclasses
import gc
import json
import multiprocessing
import re
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from rich.console import Console
from services import need_service

from safecity.config import ApiSettings, RecordingSettings, Settings, SimSettings, StreamSettings
from safecity.demo.run import SIM_DIR, serve_demo
from safecity.sim import render_city
from safecity.sim.rtsp import unavailable_reason
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.recordings import RecordingStore
from safecity.types import Capability, RecordingMode

OPERATOR_LOGIN = re.compile(r"login 'operator' \(operator\) password (\S+)")


def _settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        api=ApiSettings(port=0),
        recording=RecordingSettings(segment_s=2.0),
        streams=StreamSettings(workers=1, status_interval_s=0.5),
    )


def _register_city(settings: Settings, cameras: int) -> list[str]:
    """A small rendered city registered as the batch part leaves it (clips under <data_dir>/sim).

    Motion only: the test is about cameras going live and recording, not about reading plates."""
    city = render_city(
        settings.data_dir / SIM_DIR, SimSettings(width=640, height=360, cameras=cameras, seconds=4)
    )
    motion = frozenset({Capability.MOTION})
    db = Database.open(settings.effective_database_url)
    try:
        CameraStore(db).save(
            list(city.sites), [dataclasses.replace(c, capabilities=motion) for c in city.cameras]
        )
    finally:
        db.close()
    return sorted(city.clips)


def _wait_for(console: Console, pattern: re.Pattern[str], server: threading.Thread) -> re.Match[str]:
    deadline = time.monotonic() + 30
    while (found := pattern.search(console.export_text(clear=False))) is None:
        assert time.monotonic() < deadline and server.is_alive(), console.export_text()
        time.sleep(0.05)  # the console is the only signal a thread running the demo server gives
    return found


def _get(url: str, token: str) -> object:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _login(url: str, password: str) -> str:
    request = urllib.request.Request(
        f"{url}/api/v1/auth/login",
        data=json.dumps({"username": "operator", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token: str = json.loads(response.read())["token"]
        return token


def _rtsp_servers(folder: Path) -> list[int]:
    """Pids of running RTSP servers serving a clip under `folder` (read from /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"rtsp_server.py") for a in args) and any(str(folder).encode() in a for a in args):
            found.append(int(cmdline.parent.name))
    return found


def test_the_demo_serves_live_cameras_records_them_and_stops_cleanly(tmp_path: Path) -> None:
    if reason := unavailable_reason():
        need_service(f"RTSP server: {reason}")
    settings = _settings(tmp_path)
    camera_ids = _register_city(settings, cameras=2)
    threads_before = set(threading.enumerate())
    console = Console(record=True, width=240)
    stop = threading.Event()
    server = threading.Thread(target=serve_demo, args=(settings, console, stop), name="demo-server")
    server.start()
    db = Database.open(settings.effective_database_url)
    try:
        password = _wait_for(console, OPERATOR_LOGIN, server).group(1)
        url = _wait_for(console, re.compile(r"web UI: (http://\S+)/"), server).group(1)
        assert (
            f"{url}/cameras/{camera_ids[0]}"
            in _wait_for(console, re.compile(r"camera page .*"), server).group()
        )
        assert _rtsp_servers(tmp_path / SIM_DIR), "the RTSP server runs while the demo serves"
        # The register shows the cameras streaming over RTSP and recording.
        for camera in CameraStore(db).all():
            assert camera.stream_url.startswith("rtsp://127.0.0.1:"), camera.stream_url
            assert camera.recording is RecordingMode.CONTINUOUS
        token = _login(url, password)
        deadline = time.monotonic() + 25
        states: dict[str, str] = {}
        segments = []
        while time.monotonic() < deadline:
            health = _get(f"{url}/api/v1/cameras/health", token)
            assert isinstance(health, list)
            states = {h["camera_id"]: h["state"] for h in health}
            segments = RecordingStore(db, settings.effective_recordings_dir).all()
            if segments and all(states.get(c) == "live" for c in camera_ids):
                break
            time.sleep(0.25)  # polling the API, as the dashboard does
        assert all(states.get(c) == "live" for c in camera_ids), (states, console.export_text())
        assert segments, "a recorded segment within the deadline"
        assert all(RecordingStore(db, settings.effective_recordings_dir).file(s).is_file() for s in segments)
    finally:
        stop.set()
        server.join(timeout=30)
    assert not server.is_alive(), "the demo server stops"
    assert not _rtsp_servers(tmp_path / SIM_DIR), "the RTSP server stops with the demo"
    assert not multiprocessing.active_children(), "the analysis workers stop with the demo"
    deadline = time.monotonic() + 5
    while (left := set(threading.enumerate()) - threads_before) and time.monotonic() < deadline:
        # The feeder thread of a multiprocessing queue ends when its queue is closed or collected
        # (the worker pool's stop does not close its control queues); others need a moment.
        gc.collect()
        time.sleep(0.05)
    assert not left, f"threads left running: {sorted(t.name for t in left)}"
    # Stopped, the register names the clips again and records nothing; the recordings stay.
    for camera in CameraStore(db).all():
        assert camera.stream_url.startswith("file://") and camera.recording is RecordingMode.NONE
    assert RecordingStore(db, settings.effective_recordings_dir).all()
    db.close()
    assert "stopping:" in console.export_text()


def test_without_gstreamer_the_demo_says_so_and_serves_without_live_cameras(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "/usr/bin/python3 has no GStreamer RTSP server bindings; apt-get install python3-gi"
    monkeypatch.setattr("safecity.demo.run.unavailable_reason", lambda: reason)
    settings = _settings(tmp_path)
    _register_city(settings, cameras=1)
    console = Console(record=True, width=240)
    stop = threading.Event()
    server = threading.Thread(target=serve_demo, args=(settings, console, stop), name="demo-server")
    server.start()
    try:
        _wait_for(console, OPERATOR_LOGIN, server)
    finally:
        stop.set()
        server.join(timeout=30)
    text = console.export_text()
    assert f"no live cameras: {reason}" in text
    assert "camera page" not in text
    db = Database.open(settings.effective_database_url)
    assert all(c.stream_url.startswith("file://") for c in CameraStore(db).all())
    db.close()
