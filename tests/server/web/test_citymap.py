"""The map pages' data and headers: the operator map's cameras (only those the user may see, with
state and recent alerts, read through the gate and recorded), the public register's map (the
register's facts only: no live state, no alerts), and the Content-Security-Policy that lets the
city's own tile server, and no other host, into the pages."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from alert_world import AlertWorld, build
from fastapi.testclient import TestClient

from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.server.app import create_app
from safecity.server.web.common import CSP, content_security_policy
from safecity.store.models import AlertRow, utcnow
from safecity.types import new_id

RECENT = 2
"""Alerts on cam-2 in the last hour (the world's own alerts are months old)."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertWorld]:
    w = build(tmp_path_factory.mktemp("citymap") / "var")
    with w.db.session() as session:
        for _ in range(RECENT):
            now = utcnow() - timedelta(minutes=30)
            session.add(
                AlertRow(
                    id=new_id(),
                    kind="camera_health",
                    camera_id="cam-2",
                    ts=now,
                    message="stalled",
                    status="new",
                )
            )
    yield w
    w.db.close()


def map_points(page: str, div_id: str) -> list[dict[str, Any]]:
    found = re.search(rf"<div class=\"citymap citymap-page\" id=\"{div_id}\" data-points='([^']*)'>", page)
    assert found is not None, "no map on the page"
    points: list[dict[str, Any]] = json.loads(html.unescape(found.group(1)))
    return points


def test_the_operator_map_shows_each_camera_with_state_and_recent_alerts(world: AlertWorld) -> None:
    page = world.client("operator-1").get("/map")
    assert page.status_code == 200
    points = {p["id"]: p for p in map_points(page.text, "camera-map")}
    assert sorted(points) == ["cam-1", "cam-2"]
    two = points["cam-2"]
    assert (two["lat"], two["lon"], two["heading"], two["fov"]) == (44.8061, 20.4731, 90.0, 60.0)
    assert two["capabilities"] == ["motion", "plates"] and two["state"] == "unknown"
    assert two["href"] == "/cameras/cam-2" and two["alerts"] == RECENT
    assert two["alerts_href"].startswith("/alerts?camera=cam-2&since=")
    assert points["cam-1"]["alerts"] == 0
    assert '<script src="/static/vendor/leaflet/leaflet.js" defer></script>' in page.text


def test_the_map_records_its_read_of_alerts(world: AlertWorld) -> None:
    world.client("operator-2").get("/map")
    entries = AuditLog(world.db).entries(AuditAction.VIEW_SIGHTING, username="operator-2")
    assert entries[-1].details["what"] == "map alert counts" and entries[-1].target == "cam-2"


def test_a_user_limited_to_one_camera_sees_only_it(world: AlertWorld) -> None:
    page = world.client("limited-op").get("/map")
    assert [p["id"] for p in map_points(page.text, "camera-map")] == ["cam-2"]
    assert "cam-1" not in page.text


def test_a_user_who_may_not_see_alerts_gets_no_counts(world: AlertWorld) -> None:
    page = world.client("viewer-1").get("/map")
    points = map_points(page.text, "camera-map")
    assert len(points) == 2 and all("alerts" not in p for p in points)


def test_the_public_register_map_holds_only_public_facts(world: AlertWorld) -> None:
    page = TestClient(create_app(world.settings, world.db)).get("/register")
    assert page.status_code == 200
    points = map_points(page.text, "register-map")
    assert [p["state"] for p in points] == ["enabled", "enabled"]
    assert all("alerts" not in p and "alerts_href" not in p for p in points)
    assert [p["href"] for p in points] == ["#cam-cam-1", "#cam-cam-2"]
    assert '<tr id="cam-cam-1">' in page.text and 'id="geojson"' in page.text


def test_the_csp_is_unchanged_without_a_tile_server(world: AlertWorld) -> None:
    page = world.client("operator-1").get("/map")
    assert page.headers["content-security-policy"] == CSP


@pytest.mark.parametrize(
    ("tile_url", "origin"),
    [
        ("https://tiles.city.example/{z}/{x}/{y}.png", "https://tiles.city.example"),
        ("https://{s}.tiles.city.example:8443/osm/{z}/{x}/{y}.png", "https://*.tiles.city.example:8443"),
    ],
)
def test_the_city_tile_server_is_allowed_as_an_image_source(
    world: AlertWorld, tile_url: str, origin: str
) -> None:
    settings = world.settings.model_copy(update={"map": Settings(map={"tile_url": tile_url}).map})
    for page in (
        world.client("operator-1", settings).get("/map"),
        TestClient(create_app(settings, world.db)).get("/register"),
    ):
        csp = page.headers["content-security-policy"]
        assert f"img-src 'self' data: blob: {origin};" in csp
        assert csp == content_security_policy(origin) and "script-src 'self';" in csp


@pytest.mark.parametrize(
    ("tile_url", "why"),
    [
        ("ftp://tiles.example/{z}/{x}/{y}.png", "http"),
        ("https://tiles.example/{z}/{x}.png", "lacks {y}"),
        ("/tiles/{z}/{x}/{y}.png", "http"),
        ("https://tiles-{s}.example/{z}/{x}/{y}.png", "first label"),
    ],
)
def test_a_bad_tile_url_is_refused(tile_url: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        Settings(map={"tile_url": tile_url})


def test_fov_comes_from_the_settings(world: AlertWorld) -> None:
    settings = world.settings.model_copy(update={"map": Settings(map={"default_fov_deg": 90}).map})
    page = TestClient(create_app(settings, world.db)).get("/register")
    assert {p["fov"] for p in map_points(page.text, "register-map")} == {90.0}
