"""The load simulation: a city's observation stream into the sink, stored whole, alerts raised, measured."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from factories import camera, site
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.cluster.load import LoadProfile, run_load, scaling_png, table
from safecity.config import Settings
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.observations import ObservationQueries

SMALL = LoadProfile(cameras=10, rate=2.0, seconds=2.0, hotlist_share=0.2, rush_period_s=2.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cameras": 0}, "cameras must be at least 1"),
        ({"rate": 0.0}, "rate must be a positive number"),
        ({"rate": math.inf}, "rate must be a positive number"),
        ({"seconds": 0.0}, "seconds must be positive"),
        ({"hotlist_share": 1.5}, "hotlist_share must be between 0 and 1"),
        ({"rush_low": 2.0, "rush_high": 1.0}, "rush_low <= rush_high"),
        ({"tick_s": 0.0}, "must be positive"),
    ],
)
def test_a_bad_profile_is_refused(changes: dict[str, float], message: str) -> None:
    values: dict[str, float] = {"cameras": 10, "rate": 1.0, "seconds": 1.0, **changes}
    with pytest.raises(ValueError, match=message):
        LoadProfile(**values)  # type: ignore[arg-type]


def test_the_rush_hour_profile_averages_to_the_rate() -> None:
    profile = LoadProfile(cameras=1, rate=1.0, seconds=1.0, rush_period_s=10.0)
    samples = [profile.factor(t / 100) for t in range(1000)]
    assert sum(samples) / len(samples) == pytest.approx(1.0, abs=1e-3)
    assert min(samples) == pytest.approx(profile.rush_low) and max(samples) == pytest.approx(
        profile.rush_high
    )


def test_every_observation_offered_is_stored_and_every_hotlisted_read_alerts(db: Database) -> None:
    result = run_load(db, Settings(), SMALL)
    assert result.offered > 0 and result.stored == result.offered
    counts = ObservationQueries(db).counts_by_camera()
    assert sum(n for per in counts.values() for n in per.values()) == result.offered
    assert result.expected_alerts > 0 and result.alerts == result.expected_alerts
    p50, p95, p99 = result.alert_ms
    assert 0 < p50 <= p95 <= p99 < 10_000
    assert result.kept_up


def test_an_unpaced_run_stores_everything_too(sqlite_db: Database) -> None:
    result = run_load(sqlite_db, Settings(), SMALL, paced=False)
    assert result.stored == result.offered > 0
    assert result.wall_s < SMALL.seconds  # it did not wait for the clock


def test_a_database_with_real_cameras_is_refused(sqlite_db: Database) -> None:
    CameraStore(sqlite_db).save([site()], [camera()])
    with pytest.raises(ValueError, match=r"scratch database; this one has cameras \(cam-1\)"):
        run_load(sqlite_db, Settings(), SMALL)


def test_the_table_and_the_curve_show_every_run(sqlite_db: Database, tmp_path: Path) -> None:
    result = run_load(sqlite_db, Settings(), LoadProfile(cameras=5, rate=1.0, seconds=1.0))
    text = table([result])
    assert "cameras" in text.splitlines()[0] and text.splitlines()[2].split()[0] == "5"
    png = tmp_path / "curve.png"
    scaling_png([result], str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_runs_each_step_and_draws_the_curve(cli_data_dir: Path, tmp_path: Path) -> None:
    png = tmp_path / "scaling.png"
    args = [
        "sim",
        "load",
        "--cameras",
        "4",
        "--rate",
        "1",
        "--seconds",
        "1",
        "--steps",
        "2,4",
        "--png",
        str(png),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    table_rows = [line.split() for line in result.output.splitlines()]
    assert [r[0] for r in table_rows if len(r) > 2 and r[1] == "paced"] == ["2", "4"]
    assert png.is_file()


@pytest.mark.parametrize("steps", ["10,x", "0,10"])
def test_the_command_refuses_bad_steps(cli_data_dir: Path, steps: str) -> None:
    result = CliRunner().invoke(app, ["sim", "load", "--steps", steps, "--seconds", "1"])
    assert result.exit_code == 2 and "--steps" in result.output
