"""`GET /api/v1/traffic/statistics`: the report's numbers over the API, recorded like any read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from api_world import bearer
from fastapi.testclient import TestClient

from safecity.config import SectionConfig, Settings, TrafficSettings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.server.app import create_app
from safecity.store.database import Database
from safecity.store.writer import write_batch
from safecity.types import BBox, PlateRead, new_id

T0 = datetime(2026, 3, 2, 8, 10, tzinfo=UTC)
URL = "/api/v1/traffic/statistics"
PERIOD = {"since": "2026-03-02T08:00:00Z", "until": "2026-03-02T09:00:00Z"}


def read(camera_id: str, at: datetime) -> PlateRead:
    return PlateRead(new_id(), camera_id, at, BBox(1, 2, 120, 30), 0.9, "NS555XY", "NS555XY", "RS")


@pytest.fixture
def traffic_client(api_settings: Settings, api_db: Database) -> Iterator[TestClient]:
    section = SectionConfig(id="s1", camera_a="cam-1", camera_b="cam-2", speed_limit_kmh=50, distance_m=1000)
    settings = api_settings.model_copy(update={"traffic": TrafficSettings(sections=[section])})
    # 1000 m in 48 s: 75 km/h, over the 50 km/h limit.
    write_batch(api_db, [read("cam-1", T0), read("cam-2", T0 + timedelta(seconds=48))])
    with TestClient(create_app(settings, api_db)) as c:
        yield c


def test_speeds_per_section_and_hour(traffic_client: TestClient, tokens: dict[str, str]) -> None:
    r = traffic_client.get(URL, params=PERIOD, headers=bearer(tokens["operator"]))
    assert r.status_code == 200, r.text
    (hour,) = r.json()["sections"]
    assert (hour["section_id"], hour["measurements"], hour["violations"]) == ("s1", 1, 1)
    assert hour["mean_speed_kmh"] == pytest.approx(75.0) and hour["hour_start"].startswith("2026-03-02T08:00")
    assert r.json()["zones"] == []  # no zone configured: the table is there, empty


def test_the_read_is_recorded(traffic_client: TestClient, tokens: dict[str, str], api_db: Database) -> None:
    traffic_client.get(URL, params=PERIOD, headers=bearer(tokens["auditor"]))
    entries = [e for e in AuditLog(api_db).entries(AuditAction.VIEW_SIGHTING) if e.username == "auditor-user"]
    assert entries and entries[-1].details["what"] == "traffic statistics"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 422),
        ({"since": "2026-03-02T08:00:00Z"}, 422),
        ({"since": "2026-03-02T08:00:00", "until": "2026-03-02T09:00:00Z"}, 400),
        ({"since": "2026-03-02T09:00:00Z", "until": "2026-03-02T08:00:00Z"}, 400),
    ],
    ids=["no period", "no end", "naive time", "end before start"],
)
def test_a_bad_period_is_refused(
    traffic_client: TestClient, tokens: dict[str, str], params: dict[str, str], status: int
) -> None:
    r = traffic_client.get(URL, params=params, headers=bearer(tokens["operator"]))
    assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json")
