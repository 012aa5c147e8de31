"""`safecity retention`: the policy per camera, and the sweep (dry run first) as an administrator runs it."""

from __future__ import annotations

import getpass
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import camera, plate_read, site
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.observations import ObservationQueries
from safecity.store.writer import write_batch

runner = CliRunner()

pytestmark = pytest.mark.usefixtures("cli_data_dir")


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def stored(tmp_path: Path) -> Database:
    """cam-1 publishes 7 days, cam-2 60; one plate read each, 10 days old, and a fresh one on cam-1."""
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    CameraStore(db).save([site()], [camera("cam-1", retention_days=7), camera("cam-2", retention_days=60)])
    now = datetime.now(UTC)
    write_batch(
        db,
        [
            replace(plate_read("cam-1"), timestamp=now - timedelta(days=10)),
            replace(plate_read("cam-2"), timestamp=now - timedelta(days=10)),
            replace(plate_read("cam-1"), timestamp=now - timedelta(hours=1)),
        ],
    )
    return db


def test_show_gives_each_cameras_effective_days(stored: Database) -> None:
    code, output = cli("retention", "show", "--json")
    assert code == 0
    doc = json.loads(output)
    days = {c["id"]: c["days"] for c in doc["cameras"]}
    assert days["cam-1"]["plate_reads"] == 7 and days["cam-1"]["alerts"] == 7
    assert days["cam-2"]["plate_reads"] == 30 and days["cam-2"]["alerts"] == 60
    assert doc["audit_days"] == 365


def test_show_prints_a_table(stored: Database) -> None:
    code, output = cli("retention", "show")
    assert code == 0 and "cam-1" in output and "plate_reads" in output


def test_dry_run_counts_and_deletes_nothing(stored: Database) -> None:
    code, output = cli("retention", "sweep", "--dry-run", "--json")
    assert code == 0
    report = json.loads(output)
    assert report["dry_run"] and report["deleted"] == {"plate_reads": {"cam-1": 1}}
    assert len(ObservationQueries(stored).plate_reads()) == 3
    assert cli("audit", "list", "--json")[1].strip() == ""


def test_sweep_deletes_logs_and_the_log_still_verifies(stored: Database) -> None:
    code, output = cli("retention", "sweep", "--json")
    assert code == 0
    report = json.loads(output)
    assert report["deleted"] == {"plate_reads": {"cam-1": 1}} and report["audit_seq"] == 1
    assert len(ObservationQueries(stored).plate_reads()) == 2
    entries = [json.loads(line) for line in cli("audit", "list", "--json")[1].splitlines()]
    assert [e["action"] for e in entries] == ["retention_deletion"]
    assert entries[0]["user"] == f"cli:{getpass.getuser()}" and entries[0]["role"] == "host"
    assert cli("audit", "verify")[0] == 0
    code, output = cli("retention", "sweep")
    assert code == 0 and "nothing to delete" in output


def test_audit_retention_under_six_months_is_refused(
    stored: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFECITY_RETENTION__AUDIT_DAYS", "90")
    code, output = cli("retention", "sweep")
    assert code == 2 and "6 months" in output
    assert len(ObservationQueries(stored).plate_reads()) == 3
