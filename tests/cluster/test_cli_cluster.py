"""`safecity process --cluster`: a recording analysed by a Ray actor, stored as a local run would be."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner
from videos import square_clip

from safecity.cli.app import app
from safecity.store.database import Database
from safecity.store.models import MotionTrackRow

pytestmark = pytest.mark.usefixtures("cli_data_dir")
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def motion_tracks(tmp_path: Path) -> int:
    db = Database.connect(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    try:
        with db.session() as s:
            return int(s.scalar(select(func.count()).select_from(MotionTrackRow)) or 0)
    finally:
        db.close()


def test_process_on_the_cluster_stores_what_a_local_run_stores(
    ray_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFECITY_CLUSTER__MOTION__NUM_CPUS", "1")  # the test cluster's nodes have 1 CPU
    clip = tmp_path / "square.mp4"
    square_clip(clip, frames=75)
    args = ("camera", "add", "cam-1", "--name", "Cam 1", "--lat", "44.8", "--lon", "20.46")
    assert run(*args, "--capabilities", "motion")[0] == 0
    start = "2026-03-02T08:00:00+01:00"

    code, output = run("process", str(clip), "--camera", "cam-1", "--start", start, "--cluster", ray_cluster)
    assert code == 0, output
    assert "observation(s) stored (on the cluster)" in output
    on_cluster = motion_tracks(tmp_path)
    assert on_cluster >= 1

    code, output = run("process", str(clip), "--camera", "cam-1", "--start", start, "--force")
    assert code == 0, output
    assert motion_tracks(tmp_path) == on_cluster, "the same observations: nothing stored twice"


def test_process_on_a_cluster_too_small_for_the_actor_is_a_clear_error(
    ray_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray would wait for ever for a node that can hold the actor; the command says why it cannot."""
    monkeypatch.setenv("SAFECITY_CLUSTER__MOTION__NUM_CPUS", "64")
    clip = tmp_path / "square.mp4"
    square_clip(clip, frames=25)
    args = ("camera", "add", "cam-1", "--name", "Cam 1", "--lat", "44.8", "--lon", "20.46")
    assert run(*args, "--capabilities", "motion")[0] == 0
    code, output = run("process", str(clip), "--camera", "cam-1", "--cluster", ray_cluster)
    assert code == 1
    assert "reserves 64 CPU" in output and "largest node of the cluster has 1 CPU" in output
    assert motion_tracks(tmp_path) == 0
