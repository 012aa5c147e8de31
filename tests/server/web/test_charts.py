"""The dashboard's charts: vehicles counted and speeding alerts per hour, plate reads and alerts,
each up to the last day that had any."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories import camera, site

from safecity.server.web import charts
from safecity.store.alerts import alert_row
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.traffic import insert_new_alerts
from safecity.store.writer import write_batch
from safecity.types import Alert, AlertKind, BBox, LineCrossing, PlateRead, new_id

NOW = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)


@pytest.fixture
def sqlite_db(sqlite_db: Database) -> Database:
    CameraStore(sqlite_db).save([site()], [camera("cam-1"), camera("cam-2")])
    return sqlite_db


def _crossing(at: datetime, object_class: str = "vehicle", camera_id: str = "cam-1") -> LineCrossing:
    return LineCrossing(new_id(), camera_id, at, BBox(0, 0, 9, 9), 1.0, "L1", "in", object_class)


def test_counts_vehicles_and_speeding_alerts_per_hour(sqlite_db: Database) -> None:
    hour = NOW.replace(minute=0)
    write_batch(
        sqlite_db,
        [
            _crossing(hour + timedelta(minutes=5)),
            _crossing(hour + timedelta(minutes=6)),
            _crossing(hour, "person"),
        ],
    )
    speeding = Alert(new_id(), AlertKind.SPEEDING, "cam-1", hour + timedelta(minutes=7), "fast", score=1.2)
    insert_new_alerts(sqlite_db, [alert_row(speeding)])
    with sqlite_db.session() as session:
        counts = charts.traffic_counts(session, NOW, None)
        others = charts.traffic_counts(session, NOW, ["cam-2"])
    assert counts["vehicles counted"][-1] == 2  # the person is not a vehicle
    assert counts["speeding alerts"][-1] == 1
    assert sum(counts["vehicles counted"]) == 2 and len(counts["vehicles counted"]) == 24
    assert sum(others["vehicles counted"]) == 0  # a user limited to other cameras sees none of it


def test_the_chart_ends_at_the_last_crossing_when_the_last_day_had_none(sqlite_db: Database) -> None:
    with sqlite_db.session() as session:
        assert charts.latest_traffic(session, NOW, None) == NOW  # nothing stored: the last 24 hours
    old = NOW - timedelta(days=3)
    write_batch(sqlite_db, [_crossing(old)])
    with sqlite_db.session() as session:
        assert charts.latest_traffic(session, NOW, None) == old
    write_batch(sqlite_db, [_crossing(NOW - timedelta(hours=2))])
    with sqlite_db.session() as session:
        assert charts.latest_traffic(session, NOW, None) == NOW


def test_the_reads_chart_ends_at_the_last_read_or_alert_when_the_last_day_had_none(
    sqlite_db: Database,
) -> None:
    with sqlite_db.session() as session:
        assert charts.latest_reads(session, NOW, None) == NOW
    read_at, alert_at = NOW - timedelta(days=200), NOW - timedelta(days=199)
    write_batch(
        sqlite_db, [PlateRead(new_id(), "cam-1", read_at, BBox(0, 0, 9, 9), 0.9, "BG 123-AB", "BG123AB")]
    )
    with sqlite_db.session() as session:
        assert charts.latest_reads(session, NOW, None) == read_at  # the demo's recorded morning
    insert_new_alerts(
        sqlite_db, [alert_row(Alert(new_id(), AlertKind.PLATE_HOTLIST, "cam-2", alert_at, "x"))]
    )
    with sqlite_db.session() as session:
        assert charts.latest_reads(session, NOW, None) == alert_at
        assert charts.latest_reads(session, NOW, ["cam-1"]) == read_at  # limited to cam-1: its read
