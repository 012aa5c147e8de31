"""The demo's own setup is in the audit chain (hotlist change, authorisation, watchlist and enrolment,
as the CLI records them), the chain verifies, an auditor can log in, and the demo says how fast its
recordings grow and which period its stored observations carry."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from rich.console import Console

from safecity.config import ApiSettings, Settings, SimSettings
from safecity.demo.run import recording_note, recording_rate, run_demo, serve_demo
from safecity.governance.audit import AuditAction, AuditLog
from safecity.store.database import Database


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str]:
    """The demo, small: five cameras, two of them see faces (so it enrols someone), four seconds."""
    root = tmp_path_factory.mktemp("demo")
    settings = Settings(data_dir=root, sim=SimSettings(width=640, height=360, cameras=5, seconds=4))
    console = Console(record=True, width=200)
    return run_demo(settings, console), console.export_text()


def _setup_entries(settings: Settings) -> list[tuple[str, str]]:
    db = Database.open(settings.effective_database_url)
    try:
        return [(e.action, str(e.details.get("change"))) for e in AuditLog(db).entries(username="demo")]
    finally:
        db.close()


@pytest.mark.parametrize(
    ("action", "change"),
    [
        (AuditAction.HOTLIST_CHANGE, "added"),
        (AuditAction.AUTHORISATION_CHANGE, "created"),
        (AuditAction.WATCHLIST_CHANGE, "created"),
        (AuditAction.WATCHLIST_CHANGE, "enrolled"),
    ],
)
def test_each_setup_step_is_in_the_chain(
    demo: tuple[Settings, str], action: AuditAction, change: str
) -> None:
    assert (action.value, change) in _setup_entries(demo[0])


def test_the_chain_verifies_after_the_demo(demo: tuple[Settings, str]) -> None:
    db = Database.open(demo[0].effective_database_url)
    try:
        result = AuditLog(db).verify()
    finally:
        db.close()
    assert result.ok and result.entries >= 4


def test_the_summary_names_the_period_of_the_stored_times(demo: tuple[Settings, str]) -> None:
    assert re.search(r"stored times: 2026-03-02 07:30:00 to 07:30:04 UTC \(the sim's clock", demo[1])


def test_the_demo_prints_an_auditor_login_that_works(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api=ApiSettings(port=0))
    Database.open(settings.effective_database_url).close()
    console = Console(record=True, width=200)
    stop = threading.Event()
    server = threading.Thread(target=serve_demo, args=(settings, console, stop))
    server.start()
    try:
        login_line = r"login 'auditor' \(auditor\) password (\S+)"
        deadline = time.monotonic() + 30
        while not re.search(login_line, console.export_text(clear=False)):
            assert time.monotonic() < deadline and server.is_alive(), console.export_text()
            time.sleep(0.05)  # the console is the only signal a thread running the demo server gives
        text = console.export_text(clear=False)
        url = re.search(r"web UI: (http://\S+)/", text)
        login = re.search(login_line, text)
        assert url is not None and login is not None
        request = urllib.request.Request(
            f"{url.group(1)}/api/v1/auth/login",
            data=json.dumps({"username": "auditor", "password": login.group(1)}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["user"]["role"] == "auditor"
    finally:
        stop.set()
        server.join(timeout=30)


def test_the_recording_rate_is_the_clips_bitrate(tmp_path: Path) -> None:
    clips = [tmp_path / "a.mp4", tmp_path / "b.mp4"]
    clips[0].write_bytes(b"\0" * 3_000_000)
    clips[1].write_bytes(b"\0" * 1_000_000)
    assert recording_rate(clips, 8.0) == 500_000.0
    note = recording_note(500_000.0, tmp_path / "recordings")
    assert "about 1.8 GB an hour (4.0 Mbit/s)" in note and str(tmp_path / "recordings") in note


def test_a_clip_without_length_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="clip_seconds must be positive"):
        recording_rate([], 0)
