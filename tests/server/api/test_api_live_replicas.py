"""Several API replicas over one PostgreSQL: LISTEN/NOTIFY pushes an alert to every replica's live
feed at once (long before its next poll), and a replica going away, or killed, does not stop the
others."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import camera, site, stored_plate_alert
from fastapi.testclient import TestClient

from safecity.config import ApiSettings, Settings
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.server.context import ApiContext
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore

POLL_S = 10.0
"""The replicas' poll interval: an alert sooner than this came by notification."""
PROMPT_S = 4.0


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    db = Database.connect(postgres_url)
    db.upgrade()
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2")])
    yield db
    db.close()


def _next_alert(ws: Any) -> tuple[dict[str, Any], float]:
    """The next alert message and how long it took. Without a notification it still comes, at the
    replica's next poll (at most `POLL_S`), so a broken notification path fails, never hangs."""
    started = time.monotonic()
    for _ in range(50):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == "alert":
            return message["alert"], time.monotonic() - started
    raise AssertionError("no alert arrived")


def test_every_replica_pushes_an_alert_at_once_and_survives_another_going(
    pg: Database, postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, api=ApiSettings(live_poll_s=POLL_S))
    token = UserStore(pg).add("op", Role.OPERATOR, "a long enough password 1")
    secret = UserStore(pg).issue_token(token.username, timedelta(hours=1)).secret
    media = MediaStore(settings.effective_media_dir)
    frame = reference_image("grace_hopper")
    with ExitStack() as stack:
        replicas = []
        for _ in range(2):
            db = Database.connect(postgres_url)
            stack.callback(db.close)
            client = stack.enter_context(TestClient(create_app(settings, db)))
            replica = ExitStack()
            stack.callback(replica.close)  # a failing assertion still closes the feed, then the app
            ws = replica.enter_context(client.websocket_connect(f"/api/v1/live?token={secret}"))
            assert ws.receive_json()["type"] == "cameras"
            context = client.app.state.context  # type: ignore[attr-defined]
            assert isinstance(context, ApiContext) and context.live is not None
            listener = context.live.listener
            assert listener is not None and listener.wait_listening(10), "the replica listens"
            replicas.append((replica, ws, listener))

        first = stored_plate_alert(pg, media, frame, "cam-2")
        for _, ws, listener in replicas:
            alert, took = _next_alert(ws)
            assert alert["id"] == first
            assert listener.notifications >= 1 and took < PROMPT_S, "pushed on notification, not at a poll"

        gone, _, _ = replicas.pop(0)
        gone.close()  # one replica's feed goes away (its client disconnects)
        second = stored_plate_alert(pg, media, frame, "cam-1")
        ((remaining, ws, listener),) = replicas
        alert, took = _next_alert(ws)
        assert alert["id"] == second and took < PROMPT_S
        remaining.close()


def _start_replica(postgres_url: str, tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    """`safecity api` in its own process; returns it and its base URL once it listens."""
    env = {
        **os.environ,
        "SAFECITY_DATABASE_URL": postgres_url,
        "SAFECITY_DATA_DIR": str(tmp_path / "replica"),
        "SAFECITY_API__LIVE_POLL_S": str(POLL_S),
    }
    cli = Path(sys.executable).parent / "safecity"
    proc = subprocess.Popen(
        [str(cli), "api", "--port", "0", "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # the replica prints its address once it listens
        found = re.search(r"API at (http://\S+)/api/v1", line)
        if found:
            return proc, found.group(1)
    raise AssertionError(f"the replica exited with {proc.wait()} before it listened")


def test_a_killed_replica_does_not_stop_the_other_from_delivering(
    pg: Database, postgres_url: str, tmp_path: Path
) -> None:
    from websockets.sync.client import connect

    settings = Settings(data_dir=tmp_path, database_url=postgres_url, api=ApiSettings(live_poll_s=POLL_S))
    UserStore(pg).add("op", Role.OPERATOR, "a long enough password 1")
    secret = UserStore(pg).issue_token("op", timedelta(hours=1)).secret
    media = MediaStore(settings.effective_media_dir)
    frame = reference_image("grace_hopper")
    proc, base = _start_replica(postgres_url, tmp_path)
    live_url = f"{base.replace('http', 'ws', 1)}/api/v1/live?token={secret}"
    db = Database.connect(postgres_url)
    try:
        with (
            connect(live_url, open_timeout=10) as killed,
            TestClient(create_app(settings, db)) as client,
            client.websocket_connect(f"/api/v1/live?token={secret}") as ws,
        ):
            assert json.loads(killed.recv(timeout=10))["type"] == "cameras"
            assert ws.receive_json()["type"] == "cameras"
            listener = client.app.state.context.live.listener  # type: ignore[attr-defined]
            assert listener.wait_listening(10)
            first = stored_plate_alert(pg, media, frame, "cam-2")
            while (message := json.loads(killed.recv(timeout=PROMPT_S)))["type"] != "alert":
                pass
            assert message["alert"]["id"] == first, "the other process is a working replica"
            assert _next_alert(ws)[0]["id"] == first

            proc.send_signal(signal.SIGKILL)  # no shutdown: its LISTEN connection just drops
            proc.wait(timeout=10)
            second = stored_plate_alert(pg, media, frame, "cam-1")
            alert, took = _next_alert(ws)
            assert alert["id"] == second and took < PROMPT_S
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        db.close()
