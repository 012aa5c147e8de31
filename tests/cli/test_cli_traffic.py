"""`safecity traffic report`: HTML and three CSVs of hourly aggregates, written through the access gate."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import camera, site
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.governance.audit import AuditLog
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.writer import write_batch
from safecity.types import BBox, LineCrossing, MotionTrack, Observation, PlateRead, new_id

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
SINCE, UNTIL = "2026-03-02T08:00:00+01:00", "2026-03-02T10:00:00+01:00"


def _read(camera_id: str, plate: str, at: datetime) -> PlateRead:
    return PlateRead(new_id(), camera_id, at, BBox(1, 2, 120, 30), 0.9, plate, plate, "RS")


@pytest.fixture
def data(cli_data_dir: Path, tmp_path: Path) -> Path:
    (tmp_path / "safecity.toml").write_text(
        '[[traffic.sections]]\nid = "s1"\ncamera_a = "cam-1"\ncamera_b = "cam-2"\n'
        "speed_limit_kmh = 50\ndistance_m = 1000\n"
        '[[counting.cameras]]\ncamera_id = "cam-1"\n'
        '[[counting.cameras.zones]]\nname = "junction"\npolygon = [[0, 0], [100, 0], [100, 100], [0, 100]]\n',
        encoding="utf-8",
    )
    (tmp_path / "var").mkdir()
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    CameraStore(db).save(
        [site("site-1"), site("site-2")], [camera("cam-1"), camera("cam-2", site_id="site-2")]
    )
    # 1000 m in 48 s = 75 km/h, in 72 s = 50 km/h; a crossing each way on line L1.
    obs: list[Observation] = []
    for i, (plate, travel) in enumerate((("BG123AB", 48.0), ("NS555XY", 72.0))):
        start = T0 + timedelta(minutes=5 * i)
        obs += [_read("cam-1", plate, start), _read("cam-2", plate, start + timedelta(seconds=travel))]
    for direction in ("in", "out"):
        obs.append(LineCrossing(new_id(), "cam-1", T0, BBox(0, 0, 9, 9), 1.0, "L1", direction, "vehicle"))
    # A car standing 10 s in the junction zone (a queue of one), then one driving through it.
    standing = ((0.0, 50.0, 50.0), (5.0, 51.0, 50.0), (10.0, 52.0, 50.0))
    passing = ((0.0, 10.0, 50.0), (1.0, 90.0, 50.0), (2.0, 150.0, 50.0))
    for track_id, path in ((1, standing), (2, passing)):
        start = T0 + timedelta(minutes=track_id)
        obs.append(
            MotionTrack(
                new_id(),
                "cam-1",
                start,
                start + timedelta(seconds=path[-1][0]),
                BBox(0, 0, 150, 60),
                1.0,
                track_id,
                path,
            )
        )
    write_batch(db, obs)
    db.close()
    return tmp_path


def test_report_writes_html_and_csvs(data: Path) -> None:
    out = data / "report.html"
    args = ["traffic", "report", "--since", SINCE, "--until", UNTIL, "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "<svg" in out.read_text(encoding="utf-8")
    with (data / "report-sections.csv").open(encoding="utf-8") as f:
        sections = list(csv.DictReader(f))
    assert [(r["section_id"], r["measurements"], r["mean_speed_kmh"], r["violations"]) for r in sections] == [
        ("s1", "2", "62.500", "1")
    ]
    with (data / "report-lines.csv").open(encoding="utf-8") as f:
        assert sorted((r["direction"], r["count"]) for r in csv.DictReader(f)) == [("in", "1"), ("out", "1")]
    with (data / "report-zones.csv").open(encoding="utf-8") as f:
        zones = list(csv.DictReader(f))
    assert [(r["zone_name"], r["tracks"], r["queued"], r["peak_queue"]) for r in zones] == [
        ("junction", "2", "1", "1")
    ]
    assert "junction" in out.read_text(encoding="utf-8")
    assert not list(data.glob(".*.tmp"))
    db = Database.open(f"sqlite:///{data / 'var' / 'safecity.db'}")
    views = [e for e in AuditLog(db).entries("view_sighting") if e.details.get("what") == "traffic report"]
    db.close()
    assert len(views) == 1 and views[0].details["measurements"] == 2, "the report's read is recorded"
    result = CliRunner().invoke(app, [*args, "--csv", str(data / "x")])
    assert result.exit_code == 0, result.output
    assert (data / "x-sections.csv").is_file() and (data / "x-lines.csv").is_file()


def test_a_one_hour_report_labels_its_axis_with_times_of_day(data: Path) -> None:
    out = data / "hour.html"
    args = ["traffic", "report", "--since", SINCE, "--until", "2026-03-02T09:00:00+01:00", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    charts = re.findall(r"<svg.*?</svg>", out.read_text(encoding="utf-8"), re.S)
    assert len(charts) == 2  # speeds over s1, crossings on L1: one hour, one point per series
    for chart in charts:
        labels = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", chart)]
        assert "07:00" in labels and "08:00" in labels, labels  # the hour, 08:00 to 09:00 +01:00
        assert not any(re.fullmatch(r"20\d\d(-\d\d)?", label) for label in labels), labels


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("yesterday", UNTIL, "not an ISO 8601 time"),
        (SINCE, "2026-03-02T10:00:00", "no UTC offset"),
        (UNTIL, SINCE, "must be after --since"),
    ],
)
def test_report_refuses_bad_times(data: Path, since: str, until: str, message: str) -> None:
    args = ["traffic", "report", "--since", since, "--until", until, "--out", str(data / "r.html")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and message in result.output
    assert not (data / "r.html").exists()
