"""Threat model: a user limited to some cameras must get nothing of the others, by any route.

The attacker is the investigator of tests/server/api/conftest.py limited to cam-1 ("limited-user"). The
world holds data of cam-2 of every kind a route returns: a plate read with its snapshot and a
plate-hotlist alert, a line crossing, and a speed section from cam-1 to cam-2 (its speeds come
from cam-2's reads). Each row of the table asks for cam-2's data one way; the answer is either
a refusal (403, recorded as `access_denied` in the audit chain) or an answer filtered to cam-1,
in which neither cam-2 nor the section through it appears.

The API fixtures come from tests/server/api/conftest.py through tests/security/conftest.py, so this
table runs against exactly the world the API tests use.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import pytest
from fastapi.testclient import TestClient

from safecity.config import SectionConfig, Settings, TrafficSettings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.server.app import create_app
from safecity.server.security import SESSION_COOKIE
from safecity.sim.faces import reference_image
from safecity.store.database import Database
from safecity.store.models import AlertRow
from safecity.store.writer import write_batch
from safecity.types import BBox, LineCrossing, PlateRead, new_id

T0 = datetime(2026, 3, 2, 8, 10, tzinfo=UTC)
PERIOD = {"since": "2026-03-02T08:00:00Z", "until": "2026-03-02T09:00:00Z"}
REASON = "case 2026/17, a stolen van"
OUTSIDE = "cam-2"
SECTION = "s-1-2"


def _plate(camera_id: str, at: datetime) -> PlateRead:
    return PlateRead(new_id(), camera_id, at, BBox(1, 2, 120, 30), 0.9, "NS555XY", "NS555XY", "RS")


def _crossing(camera_id: str) -> LineCrossing:
    return LineCrossing(new_id(), camera_id, T0, BBox(5, 5, 50, 50), 1.0, "stop-line", "in", "vehicle")


@dataclass(frozen=True)
class Ids:
    plate_alert: str
    plate_read: str


@pytest.fixture
def attack(api_settings: Settings, api_db: Database, world: Any) -> Iterator[tuple[TestClient, Ids]]:
    """The API over the world plus traffic data on both cameras, and a section through cam-2."""
    section = SectionConfig(
        id=SECTION, camera_a="cam-1", camera_b=OUTSIDE, speed_limit_kmh=50, distance_m=1000
    )
    settings = api_settings.model_copy(update={"traffic": TrafficSettings(sections=[section])})
    write_batch(
        api_db,
        [
            _plate("cam-1", T0),
            _plate(OUTSIDE, T0 + timedelta(seconds=48)),
            _crossing("cam-1"),
            _crossing(OUTSIDE),
        ],
    )
    with api_db.session() as session:
        row = session.get(AlertRow, world.plate_alert)
        assert row is not None and row.camera_id == OUTSIDE and row.observation_id is not None
        ids = Ids(world.plate_alert, row.observation_id)
    with TestClient(create_app(settings, api_db)) as c:
        yield c, ids


def _photo() -> bytes:
    ok, data = cv2.imencode(".jpg", reference_image("grace_hopper"))
    assert ok
    return data.tobytes()


@dataclass(frozen=True)
class Case:
    """One way of asking for cam-2's data; `refused`: 403, else 200 without any of cam-2."""

    method: str
    url: str
    refused: bool
    options: Callable[[Ids], dict[str, Any]] = field(default=lambda ids: {})
    web: bool = False
    """A web page (session cookie) rather than the API (bearer token)."""


CASES: dict[str, Case] = {
    # traffic
    "traffic statistics, cam-2 named": Case("GET", "/api/v1/traffic/statistics", True,
        lambda ids: {"params": {**PERIOD, "camera": OUTSIDE}}),
    "traffic statistics, no camera named": Case("GET", "/api/v1/traffic/statistics", False,
        lambda ids: {"params": PERIOD}),
    # observations
    "plate reads, cam-2 named": Case("GET", "/api/v1/observations/plates", True,
        lambda ids: {"params": {"camera": OUTSIDE}}),
    "plate reads, no camera named": Case("GET", "/api/v1/observations/plates", False),
    "face sightings, cam-2 named": Case("GET", "/api/v1/observations/faces", True,
        lambda ids: {"params": {"camera": OUTSIDE}}),
    "face sightings, no camera named": Case("GET", "/api/v1/observations/faces", False),
    "plate read snapshot": Case("GET", "/api/v1/observations/plates/{plate_read}/snapshot", True),
    # alerts
    "alerts, cam-2 named": Case("GET", "/api/v1/alerts", True, lambda ids: {"params": {"camera": OUTSIDE}}),
    "alerts, no camera named": Case("GET", "/api/v1/alerts", False),
    "alert": Case("GET", "/api/v1/alerts/{plate_alert}", True),
    "alert snapshot": Case("GET", "/api/v1/alerts/{plate_alert}/snapshot", True),
    "alert acknowledgement": Case("POST", "/api/v1/alerts/{plate_alert}/ack", True,
        lambda ids: {"json": {"note": "seen it"}}),
    "alert export": Case("POST", "/api/v1/alerts/{plate_alert}/export", True,
        lambda ids: {"json": {"reason": REASON, "recipients": "city police"}}),
    # searches
    "plate search, cam-2 named": Case("POST", "/api/v1/search/plates", True,
        lambda ids: {"json": {"query": "NS555XY", "cameras": [OUTSIDE], "reason": REASON}}),
    "plate search, no camera named": Case("POST", "/api/v1/search/plates", False,
        lambda ids: {"json": {"query": "NS555XY", "reason": REASON}}),
    "face search, cam-2 named": Case("POST", "/api/v1/search/faces", True,
        lambda ids: {"data": {"reason": REASON, "cameras": [OUTSIDE]},
                     "files": {"photo": ("p.jpg", io.BytesIO(_photo()), "image/jpeg")}}),
    # cameras
    "camera health": Case("GET", "/api/v1/cameras/health", False),
    # web pages
    "web camera page": Case("GET", "/cameras/cam-2", True, web=True),
    "web snapshot": Case("GET", "/snapshots/plates/{plate_read}", True, web=True),
    "web alert page": Case("GET", "/alerts/{plate_alert}", True, web=True),
}  # fmt: skip


def _leaks(value: Any) -> bool:
    """Whether a JSON answer holds anything of cam-2: its id anywhere, or the section through it."""
    if isinstance(value, dict):
        return value.get("section_id") == SECTION or any(_leaks(v) for v in value.values())
    if isinstance(value, list):
        return any(_leaks(v) for v in value)
    return value == OUTSIDE


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_limited_user_gets_nothing_of_another_camera(
    attack: tuple[TestClient, Ids], tokens: dict[str, str], api_db: Database, case: Case
) -> None:
    client, ids = attack
    if case.web:
        client.cookies.set(SESSION_COOKIE, tokens["limited"])
        headers: dict[str, str] = {}
    else:
        headers = {"Authorization": f"Bearer {tokens['limited']}"}
    url = case.url.format(plate_alert=ids.plate_alert, plate_read=ids.plate_read)
    r = client.request(case.method, url, headers=headers, **case.options(ids))
    if case.refused:
        assert r.status_code == 403, r.text
        denied = AuditLog(api_db).entries(AuditAction.ACCESS_DENIED, username="limited-user")
        assert denied, "the refusal is recorded"
    else:
        assert r.status_code == 200, r.text
        assert not _leaks(r.json()), r.text


def test_the_filtered_traffic_statistics_keep_the_users_own_camera(
    attack: tuple[TestClient, Ids], tokens: dict[str, str]
) -> None:
    client, _ = attack
    r = client.get(
        "/api/v1/traffic/statistics", params=PERIOD, headers={"Authorization": f"Bearer {tokens['limited']}"}
    )
    assert [line["camera_id"] for line in r.json()["lines"]] == ["cam-1"]


def test_an_unlimited_user_sees_both_cameras_traffic(
    attack: tuple[TestClient, Ids], tokens: dict[str, str]
) -> None:
    client, _ = attack
    r = client.get(
        "/api/v1/traffic/statistics", params=PERIOD, headers={"Authorization": f"Bearer {tokens['operator']}"}
    )
    body = r.json()
    assert [s["section_id"] for s in body["sections"]] == [SECTION]
    assert sorted(line["camera_id"] for line in body["lines"]) == ["cam-1", OUTSIDE]


@pytest.mark.parametrize(("camera_id", "counted"), [("cam-1", True), (OUTSIDE, False)])
def test_camera_detail_counts_only_the_users_cameras(
    attack: tuple[TestClient, Ids], tokens: dict[str, str], camera_id: str, counted: bool
) -> None:
    client, _ = attack
    r = client.get(f"/api/v1/cameras/{camera_id}", headers={"Authorization": f"Bearer {tokens['limited']}"})
    assert r.status_code == 200 and bool(r.json()["observations"]) is counted
