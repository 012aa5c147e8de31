"""Processing runs stored and read back on both backends."""

from __future__ import annotations

from factories import T0, camera, site

from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.runs import list_runs, save_run
from safecity.types import RunStats


def test_run_round_trips(db: Database) -> None:
    CameraStore(db).save([site()], [camera()])
    stats = RunStats("a" * 32, "cam-1", "/clips/a.mp4", T0, T0, 300, 150, 120, 12, "truncated at 9.6 s")
    save_run(db, stats)
    assert list_runs(db, "cam-1") == [stats]
