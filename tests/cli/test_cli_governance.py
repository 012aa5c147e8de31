"""`safecity register export` and `safecity doctor` as a user drives them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import camera, site
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.store.cameras import CameraStore
from safecity.store.database import Database

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("cli_data_dir")


@pytest.fixture
def cameras(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    CameraStore(db).save(
        [site()], [camera("cam-1"), camera("cam-2", stream_url="rtsp://cam2.city.example/live")]
    )
    db.close()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_register_export_writes_both_files(tmp_path: Path, cameras: None) -> None:
    code, output = cli("register", "export", "public")
    assert code == 0, output
    assert "register.geojson" in output and "index.html" in output
    data = json.loads((tmp_path / "public" / "register.geojson").read_text(encoding="utf-8"))
    assert [f["id"] for f in data["features"]] == ["cam-1", "cam-2"]
    assert "secret" not in json.dumps(data)
    page = (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert "cam-1" in page and "cam-2" in page


def test_register_export_refuses_a_file_as_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    code, output = cli("register", "export", "taken")
    assert code == 2
    assert "taken exists and is not a directory" in output


def test_doctor_prints_destinations_with_masked_password(cameras: None) -> None:
    code, output = cli("doctor")
    assert code == 0, output
    assert "OK    database reachable" in output and "2 cameras registered" in output
    assert "connect to 10.0.0.1:554" in output and "rtsp://user:***@10.0.0.1/stream1" in output
    assert "connect to cam2.city.example:554" in output
    assert "listen on 127.0.0.1:9464" in output
    assert "OK    face models present" in output
    assert "OK    plate OCR models present" in output
    assert "OK    media folder writable" in output
    assert "secret" not in output and "FAIL" not in output


def test_doctor_fails_when_the_database_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    monkeypatch.setenv("SAFECITY_DATABASE_URL", "postgresql+psycopg://safecity:hunter2@127.0.0.1:1/safecity")
    code, output = cli("doctor")
    assert code == 1, output
    assert "FAIL  database reachable" in output
    assert "connect to 127.0.0.1:1" in output and "safecity:***@127.0.0.1:1" in output
    assert "hunter2" not in output
    assert "camera streams unknown" in output
