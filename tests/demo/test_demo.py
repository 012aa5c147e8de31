"""The demo end to end on a small city: render, register, analyse in worker processes, summarise."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from safecity.config import Settings, SimSettings
from safecity.demo.run import run_demo
from safecity.sim.scenario import build_scenario
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.observations import ObservationQueries
from safecity.store.runs import list_runs


def test_small_demo_stores_cameras_runs_and_tracks(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sim=SimSettings(width=640, height=360, cameras=3, seconds=4))
    console = Console(record=True, width=160)
    run_demo(settings, console)
    db = Database.open(f"sqlite:///{tmp_path / 'demo' / 'safecity.db'}")
    runs = list_runs(db)
    assert [c.id for c in CameraStore(db).all()] == ["cam-01", "cam-02", "cam-03"]
    assert [r.frames_decoded for r in runs] == [40, 40, 40]
    assert all(not r.error for r in runs)
    assert sum(n.get("motion_tracks", 0) for n in ObservationQueries(db).counts_by_camera().values()) > 0
    assert "Demo summary" in console.export_text()


def test_small_demo_counts_traffic_and_writes_its_traffic_configuration(tmp_path: Path) -> None:
    from safecity.config import load_settings
    from safecity.sim.traffic import sections
    from safecity.store.traffic import line_crossings_between

    settings = Settings(data_dir=tmp_path, sim=SimSettings(width=640, height=360, cameras=3, seconds=6))
    console = Console(record=True, width=160)
    demo_settings = run_demo(settings, console)
    text = console.export_text()
    assert "Traffic counts" in text and "Section speeds" in text
    db = Database.open(demo_settings.effective_database_url)
    assert line_crossings_between(db, None, None)  # the sim's traffic crossed the timing lines
    # The configuration written beside the data is the one the demo ran with.
    written = load_settings(tmp_path / "demo" / "safecity.toml")
    assert written.data_dir == (tmp_path / "demo").resolve()
    assert written.counting.cameras == demo_settings.counting.cameras
    assert written.traffic.sections == demo_settings.traffic.sections
    assert [s.id for s in written.traffic.sections] == [
        s.id for s in sections(build_scenario(3, 6.0, settings.sim.seed, width=640, height=360))
    ]


def test_the_demo_serves_the_api_with_a_login_for_each_role(tmp_path: Path) -> None:
    import json
    import re
    import threading
    import urllib.request

    from safecity.config import ApiSettings
    from safecity.demo.run import serve_demo

    settings = Settings(data_dir=tmp_path, api=ApiSettings(port=0))
    Database.open(settings.effective_database_url).close()
    console = Console(record=True, width=200)
    stop = threading.Event()
    server = threading.Thread(target=serve_demo, args=(settings, console, stop))
    server.start()
    try:
        deadline = time.monotonic() + 30
        # The URL is printed before the logins: wait for the login line too, not only the URL.
        login_line = r"login 'investigator' \(investigator\) password (\S+)"
        while not re.search(login_line, console.export_text(clear=False)):
            assert time.monotonic() < deadline and server.is_alive(), console.export_text()
            time.sleep(0.05)  # the console is the only signal a thread running the demo server gives
        text = console.export_text(clear=False)
        found = re.search(r"web UI: (http://\S+)/", text)
        assert found is not None
        url = found.group(1)
        login = re.search(login_line, text)
        assert login is not None
        request = urllib.request.Request(
            f"{url}/api/v1/auth/login",
            data=json.dumps({"username": "investigator", "password": login.group(1)}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["user"]["role"] == "investigator"
    finally:
        stop.set()
        server.join(timeout=30)
    assert "login 'admin' (admin)" in console.export_text()
