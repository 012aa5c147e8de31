"""The demo end to end on a small city: render, register, analyse in worker processes, summarise."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from safecity.config import Settings, SimSettings
from safecity.demo import run_demo
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
