"""Speeding alerts: stored with both reads as evidence, once per passage however often measured;
`safecity traffic speeds` over stored reads with sections from the TOML configuration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import camera, site
from typer.testing import CliRunner

from safecity.analytics.traffic.section_speed import Section
from safecity.cli.app import app
from safecity.config import SectionConfig, TrafficSettings
from safecity.governance.audit import AuditLog
from safecity.store.alerts import find_alerts
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.writer import write_batch
from safecity.types import AlertKind, BBox, PlateRead, new_id
from safecity.watch.speeding import SpeedingWatch, measure_stored_speeds, save_speeding_alerts

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
SECTION = Section("s1", "cam-1", "cam-2", distance_m=1000.0, speed_limit_kmh=50.0, tolerance_kmh=3.0)
# (plate read at A, plate read at B, seconds from A to B): 1000 m in 48 s = 75 km/h, 72 s = 50 km/h.
PASSAGES = [("BG123AB", "BG123AB", 48.0), ("NS555XY", "NS555XY", 72.0), ("BG12OAB", "BG120AB", 60.0)]


def _read(camera_id: str, plate: str, at: datetime) -> PlateRead:
    return PlateRead(
        new_id(), camera_id, at, BBox(1, 2, 120, 30), 0.9, plate, plate, "RS", snapshot=f"{camera_id}/x.jpg"
    )


def _store_reads(db: Database) -> None:
    CameraStore(db).save(
        [site("site-1"), site("site-2")], [camera("cam-1"), camera("cam-2", site_id="site-2")]
    )
    reads: list[PlateRead] = []
    for i, (at_a, at_b, travel) in enumerate(PASSAGES):
        start = T0 + timedelta(minutes=5 * i)
        reads += [_read("cam-1", at_a, start), _read("cam-2", at_b, start + timedelta(seconds=travel))]
    write_batch(db, reads)


def test_violations_are_stored_as_alerts_with_both_reads(sqlite_db: Database) -> None:
    _store_reads(sqlite_db)
    report = measure_stored_speeds(sqlite_db, [SECTION], T0, T0 + timedelta(hours=1))
    assert report.reads == 6
    assert sorted(round(m.speed_kmh, 3) for m in report.measurements) == [50.0, 60.0, 75.0]
    assert sorted(v.measurement.plate for v in report.violations) == ["BG123AB", "BG12OAB"]

    new = save_speeding_alerts(sqlite_db, report.violations)
    assert len(new) == 2
    with sqlite_db.session() as session:
        stored = find_alerts(session, kinds=[AlertKind.SPEEDING])
    assert len(stored) == 2
    by_plate = {a.evidence["read_a"]["normalised"]: a for a in stored}
    fast = by_plate["BG123AB"]
    assert fast.alert.camera_id == "cam-2" and fast.alert.timestamp == T0 + timedelta(seconds=48)
    assert fast.evidence["speed_kmh"] == 75.0 and fast.evidence["threshold_kmh"] == 53.0
    assert fast.evidence["read_a"]["camera_id"] == "cam-1" and fast.evidence["read_b"]["camera_id"] == "cam-2"
    assert fast.evidence["read_b"]["snapshot"] == "cam-2/x.jpg"
    assert fast.alert.observation_id == fast.evidence["read_b"]["id"]
    assert "75.0 km/h" in fast.alert.message
    confused = by_plate["BG12OAB"]
    assert (
        confused.evidence["match"] == "confusable" and confused.evidence["read_b"]["normalised"] == "BG120AB"
    )


def test_measuring_again_stores_no_second_alert(sqlite_db: Database) -> None:
    _store_reads(sqlite_db)
    first = measure_stored_speeds(sqlite_db, [SECTION], None, None)
    assert len(save_speeding_alerts(sqlite_db, first.violations)) == 2
    again = measure_stored_speeds(sqlite_db, [SECTION], None, None)
    assert save_speeding_alerts(sqlite_db, again.violations) == []
    assert save_speeding_alerts(sqlite_db, [*again.violations, *again.violations]) == []
    with sqlite_db.session() as session:
        assert len(find_alerts(session, kinds=[AlertKind.SPEEDING])) == 2


def test_period_limits_the_reads(sqlite_db: Database) -> None:
    _store_reads(sqlite_db)
    report = measure_stored_speeds(sqlite_db, [SECTION], T0, T0 + timedelta(minutes=4))
    assert report.reads == 2 and [m.plate for m in report.measurements] == ["BG123AB"]


@pytest.mark.usefixtures("cli_data_dir")
def test_cli_traffic_speeds(tmp_path: Path) -> None:
    (tmp_path / "safecity.toml").write_text(
        '[[traffic.sections]]\nid = "s1"\ncamera_a = "cam-1"\ncamera_b = "cam-2"\n'
        "speed_limit_kmh = 50\ndistance_m = 1000\n",
        encoding="utf-8",
    )
    (tmp_path / "var").mkdir()
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    _store_reads(db)
    db.close()
    runner = CliRunner()
    args = [
        "traffic",
        "speeds",
        "--since",
        "2026-03-02T08:30:00+01:00",
        "--until",
        "2026-03-02T09:30:00+01:00",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "SPEEDING" in result.output and "2 new speeding alerts" in result.output
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert sorted((r["plate"], r["speed_kmh"], r["violation"]) for r in rows) == [
        ("BG123AB", 75.0, True),
        ("BG12OAB", 60.0, True),
        ("NS555XY", 50.0, False),
    ]
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    with db.session() as session:
        assert len(find_alerts(session, kinds=[AlertKind.SPEEDING])) == 2
    views = [e for e in AuditLog(db).entries("view_sighting") if e.details.get("what") == "traffic speeds"]
    assert len(views) == 2 and views[0].details["measurements"] == 3, "each run is recorded, plates read"
    db.close()
    bad = runner.invoke(app, ["traffic", "speeds", "--since", "2026-03-02T08:30:00"])
    assert bad.exit_code == 2 and "--since" in bad.output


# ------------------------------------------------------------------------ live, in serve
def _registered(db: Database) -> None:
    CameraStore(db).save(
        [site("site-1"), site("site-2")], [camera("cam-1"), camera("cam-2", site_id="site-2")]
    )


def _watch(db: Database) -> SpeedingWatch:
    config = SectionConfig(id="s1", camera_a="cam-1", camera_b="cam-2", speed_limit_kmh=50, distance_m=1000)
    return SpeedingWatch(db, TrafficSettings(sections=[config]))


def _stored(db: Database, *reads: PlateRead) -> list[PlateRead]:
    write_batch(db, list(reads))
    return list(reads)


def test_serving_raises_a_speeding_alert_once_the_read_at_b_is_processed(sqlite_db: Database) -> None:
    _registered(sqlite_db)
    watch = _watch(sqlite_db)
    assert watch.check(_stored(sqlite_db, _read("cam-1", "BG123AB", T0))) == []
    at_b = _stored(sqlite_db, _read("cam-2", "BG123AB", T0 + timedelta(seconds=48)))  # 75 km/h
    # Held back for the allowed lateness (a read still to come may precede it), then processed.
    assert watch.check(at_b) == []
    (alert,) = watch.advance(T0 + timedelta(seconds=48 + TrafficSettings().allowed_lateness_s + 1))
    assert alert.kind is AlertKind.SPEEDING and alert.observation_id == at_b[0].id
    assert watch.finish() == []  # nothing raised twice


def test_serving_raises_nothing_for_a_legal_speed(sqlite_db: Database) -> None:
    _registered(sqlite_db)
    watch = _watch(sqlite_db)
    watch.check(_stored(sqlite_db, _read("cam-1", "NS555XY", T0)))
    watch.check(_stored(sqlite_db, _read("cam-2", "NS555XY", T0 + timedelta(seconds=72))))  # 50 km/h
    assert watch.finish() == []


def test_a_bad_section_turns_live_speeds_off_without_failing(sqlite_db: Database) -> None:
    _registered(sqlite_db)
    config = SectionConfig(id="s1", camera_a="cam-1", camera_b="cam-9", speed_limit_kmh=50)
    watch = SpeedingWatch(sqlite_db, TrafficSettings(sections=[config]))
    assert watch.sections == ()
    assert watch.check(_stored(sqlite_db, _read("cam-1", "BG123AB", T0))) == []
