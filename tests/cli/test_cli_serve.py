"""`safecity serve` and `safecity status` as an operator runs them: live status, SIGTERM stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from factories import camera, site
from rtsp import RtspServer, unavailable_reason
from services import need_service
from videos import square_frames, write_video

from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.observations import ObservationQueries
from safecity.types import Capability

SAFECITY = Path(sys.executable).with_name("safecity")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    if reason := unavailable_reason():
        need_service(reason)
    path = tmp_path / "slow.mp4"
    images, _ = square_frames(frames=250, speed=1)
    write_video(path, images)
    return path


def status_json(env: dict[str, str], deadline: float) -> list[dict[str, object]]:
    """`safecity status --json` once the server answers with a live camera (or the deadline passes)."""
    while True:
        result = subprocess.run(
            [str(SAFECITY), "status", "--json"], env=env, capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            rows: list[dict[str, object]] = json.loads(result.stdout)
            if rows and rows[0]["state"] == "live" and int(str(rows[0]["frames_analysed"])) > 12:
                return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"no live camera in time: {result.stdout or result.stderr}")
        time.sleep(0.5)  # polling another process's HTTP endpoint: there is no event to await


def test_serve_reports_live_status_and_stops_cleanly_on_sigterm(clip: Path, tmp_path: Path) -> None:
    port, api_port = free_port(), free_port()
    env = dict(
        os.environ,
        SAFECITY_DATA_DIR=str(tmp_path / "var"),
        SAFECITY_STREAMS__HTTP_PORT=str(port),
        SAFECITY_STREAMS__WORKERS="1",
        SAFECITY_API__PORT=str(api_port),
    )
    env.pop("SAFECITY_DATABASE_URL", None)
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    with RtspServer({"/cam": clip}) as server:
        url = server.url("/cam", user="op", password="s3cret")
        CameraStore(db).save(
            [site()], [camera("cam-1", capabilities=frozenset({Capability.MOTION}), stream_url=url)]
        )
        proc = subprocess.Popen(
            [str(SAFECITY), "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            rows = status_json(env, time.monotonic() + 60)
            with urllib.request.urlopen(
                f"http://127.0.0.1:{api_port}/api/v1/register.geojson", timeout=10
            ) as r:
                register = json.loads(r.read())
            table = subprocess.run(
                [str(SAFECITY), "status"], env=env, capture_output=True, text=True, check=True
            ).stdout
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, output
    assert rows[0]["camera_id"] == "cam-1" and "s3cret" not in json.dumps(rows)
    assert "cam-1" in table and "live" in table
    assert [f["id"] for f in register["features"]] == ["cam-1"], "the API serves the register while serving"
    assert "flushing observations" in output
    assert "first run: created user 'admin' with password" in output
    assert ObservationQueries(db).motion_tracks("cam-1"), "the track open at SIGTERM is stored"


def test_status_without_a_server_says_so(tmp_path: Path) -> None:
    env = dict(os.environ, SAFECITY_DATA_DIR=str(tmp_path), SAFECITY_STREAMS__HTTP_PORT=str(free_port()))
    result = subprocess.run([str(SAFECITY), "status"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "no `safecity serve` answers" in result.stderr


def test_sim_rtsp_serves_a_rendered_city_and_writes_its_register(tmp_path: Path) -> None:
    from safecity.registry.geojson import cameras_to_geojson
    from safecity.sources.live import LiveSource

    if reason := unavailable_reason():
        need_service(reason)
    images, _ = square_frames(frames=50)
    write_video(tmp_path / "cam-1.mp4", images)
    register = cameras_to_geojson([camera("cam-1")], [site()])
    (tmp_path / "cameras.geojson").write_text(json.dumps(register))
    port = free_port()
    proc = subprocess.Popen(
        [str(SAFECITY), "sim", "rtsp", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("serving 1 cameras"), first
        written = json.loads((tmp_path / "cameras-rtsp.geojson").read_text())
        url = written["features"][0]["properties"]["safecity:stream_url"]
        assert url == f"rtsp://127.0.0.1:{port}/cam-1"
        with LiveSource("cam-1", url, sample_fps=5.0, open_timeout_s=10) as source:
            assert source.get(timeout=20) is not None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert not servers_on(port), "the RTSP server stops with the command"


def servers_on(port: int) -> list[str]:
    """Command lines of running RTSP test servers on `port` (read from /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"rtsp_server.py") for a in args) and str(port).encode() in args:
            found.append(b" ".join(args).decode(errors="replace"))
    return found
