"""The city map in a real browser (Playwright, Debian's chromium) at 1366x768: the operator map's
camera markers over the demo city's streets (one per camera the user may see), grouped when zoomed
out, a popup whose link opens the camera's page, the audit entry of the alert counts it read, and
the public register's map without a login. Every page loads nothing from another host and logs no
console error (a CSP violation is one)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from browsing import SMALL_SCREEN, Visit
from factories import camera, site
from web_names import PASSWORD

from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.server.runner import ApiServer
from safecity.sim.roads import EDGES, haversine_m, offset_point
from safecity.store.cameras import CameraStore

ZOOMED_OUT = 11
"""A zoom at which cam-1 and cam-2 (650 m apart) are a few pixels apart: one group."""


@pytest.fixture
def small(browser: Any, web_world: Any) -> Iterator[Any]:
    opened: list[Visit] = []

    def open_one() -> Visit:
        v = Visit(browser, web_world.url, SMALL_SCREEN)
        opened.append(v)
        return v

    yield open_one
    for v in opened:
        v.close()


def map_reads(web_world: Any, username: str) -> list[Any]:
    entries = AuditLog(web_world.db).entries(AuditAction.VIEW_SIGHTING, username=username)
    return [e for e in entries if e.details.get("what") == "map alert counts"]


def faded_in(v: Visit) -> None:
    v.page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )


def drawn(v: Visit, div: str) -> Any:
    v.page.wait_for_selector(f"{div}[data-ready='1']")
    return v.page.locator(div)


def test_the_operator_map_shows_cameras_groups_them_and_links_to_them(
    small: Any, web_world: Any, screenshots: Path
) -> None:
    v = small()
    v.login("operator-1")
    before = len(map_reads(web_world, "operator-1"))
    v.go("/map")
    themap = drawn(v, "#camera-map")
    assert themap.locator(".citymap-cam").count() == 2
    assert themap.locator(".citymap-cam.kind-faces").count() == 1  # cam-1 analyses faces
    assert themap.locator("path.street").count() == len(EDGES)  # the streets basemap
    assert "Basemap: the demo city's streets" in v.page.locator(".citymap-caption").inner_text()
    box = themap.bounding_box()
    assert box is not None and box["y"] + box["height"] <= SMALL_SCREEN["height"]  # all of it on screen
    v.shot(screenshots, "map-operator")
    assert len(map_reads(web_world, "operator-1")) == before + 1  # the alert counts it read, recorded

    themap.evaluate(f"el => el.citymap.setZoom({ZOOMED_OUT}, {{animate: false}})")
    v.page.wait_for_selector("#camera-map .marker-cluster")
    assert themap.locator(".marker-cluster").inner_text().strip() == "2"
    v.page.wait_for_function("() => !document.querySelector('#camera-map .citymap-cam')")  # faded out
    v.shot(screenshots, "map-operator-zoomed-out")

    themap.locator(".marker-cluster").click()  # a group opens to its cameras
    v.page.wait_for_selector("#camera-map .citymap-cam.kind-faces")
    themap.locator(".citymap-cam.kind-faces").click()
    popup = v.page.locator(".leaflet-popup-content")
    assert (
        "Camera id: cam-1" in popup.inner_text() and "Analyses: faces, motion, plates" in popup.inner_text()
    )
    faded_in(v)
    v.shot(screenshots, "map-operator-popup")
    popup.locator("a[href='/cameras/cam-1']").click()
    v.page.wait_for_url(web_world.url + "/cameras/cam-1")
    v.errors.clear()  # the camera page is another helper's: its own tests check its console
    v.clean()


def test_a_user_limited_to_cam_2_sees_only_cam_2(small: Any, web_world: Any) -> None:
    UserStore(web_world.db).add("map-limited", Role.OPERATOR, PASSWORD, camera_ids=["cam-2"])
    v = small()
    v.login("map-limited")
    v.go("/map")
    themap = drawn(v, "#camera-map")
    assert themap.locator(".citymap-cam").count() == 1
    themap.locator(".citymap-cam").click()
    assert "Camera cam-2" in v.page.locator(".leaflet-popup-content").inner_text()
    v.clean()


def test_the_public_register_shows_the_map_without_a_login(
    small: Any, web_world: Any, screenshots: Path
) -> None:
    v = small()
    response = v.go("/register")
    assert response.status == 200 and v.page.url == web_world.url + "/register"
    themap = drawn(v, "#register-map")
    assert themap.locator(".citymap-cam").count() == 2
    assert themap.locator("path.street").count() == len(EDGES)
    themap.locator(".citymap-cam.kind-faces").click()
    popup = v.page.locator(".leaflet-popup-content")
    assert "State: enabled" in popup.inner_text() and "alert" not in popup.inner_text()
    assert popup.locator("a[href='#cam-cam-1']").count() == 1
    faded_in(v)
    assert v.page.locator("#register-cameras").is_visible() and v.page.locator("#geojson").count() == 1
    v.shot(screenshots, "register-map")
    v.clean()


TILE = bytes(cv2.imencode(".png", np.full((256, 256, 3), (225, 235, 240), np.uint8))[1])
AROUND = (44.77, 20.42, 44.84, 20.52)
"""South, west, north, east: the demo cameras with room to spare, so every tile in view is in the file."""


def tile_of(lat: float, lon: float, zoom: int) -> tuple[int, int]:
    """The XYZ tile (column, row) holding a point (Web Mercator)."""
    n = 2**zoom
    row = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(row)


def city_mbtiles(path: Path, zooms: range) -> int:
    """An MBTiles file of plain tiles over `AROUND` (TMS rows); returns how many it holds."""
    south, west, north, east = AROUND
    rows = []
    for z in zooms:
        (x0, y0), (x1, y1) = tile_of(north, west, z), tile_of(south, east, z)
        rows += [(z, x, 2**z - 1 - y, TILE) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)"
        )
        db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", rows)
        db.commit()
    return len(rows)


def test_the_map_draws_the_local_tiles_file(
    browser: Any, web_world: Any, tmp_path: Path, screenshots: Path
) -> None:
    mbtiles = tmp_path / "city.mbtiles"
    city_mbtiles(mbtiles, range(12, 19))
    local = {"mbtiles_path": mbtiles, "mbtiles_attribution": "Tiles: test city survey"}
    settings = web_world.settings.model_copy(update={"map": Settings(map=local).map})
    server = ApiServer(create_app(settings, web_world.db), "127.0.0.1", 0).start()
    v = Visit(browser, server.url, SMALL_SCREEN)
    try:
        v.go("/register")
        themap = drawn(v, "#register-map")
        v.page.wait_for_load_state("networkidle")
        tiles = themap.locator("img.leaflet-tile")
        assert tiles.count() > 0
        sources = tiles.evaluate_all("imgs => imgs.map(i => [i.src, i.complete && i.naturalWidth === 256])")
        assert all("/tiles/" in src and ok for src, ok in sources), sources
        assert themap.locator("path.street").count() == 0  # tiles instead of the drawn streets
        assert themap.locator(".citymap-cam").count() == 2
        assert "Tiles: test city survey" in v.page.locator(".citymap-caption").inner_text()
        v.shot(screenshots, "register-map-local-tiles")
        v.clean()
    finally:
        v.close()
        server.close()


def test_a_camera_far_away_zooms_the_map_out_instead_of_squeezing(
    small: Any, web_world: Any, screenshots: Path
) -> None:
    """Last in this module: it adds a camera 1.3 km east of cam-2 to the module's world."""
    lat, lon = offset_point(44.8061, 20.4731, 100.0, 1300.0)
    assert round(haversine_m(44.8061, 20.4731, lat, lon)) == 1300
    CameraStore(web_world.db).save(
        [site()], [camera("cam-far", latitude=lat, longitude=lon, name="Far east")]
    )
    v = small()
    v.go("/register")
    themap = drawn(v, "#register-map")
    box = themap.bounding_box()
    assert box is not None
    markers = [m.bounding_box() for m in themap.locator(".citymap-cam .dot").all()]
    assert len(markers) == 3
    for m in markers:  # every camera inside the map, none on top of another
        assert m is not None and box["x"] <= m["x"] <= box["x"] + box["width"] - m["width"]
        assert box["y"] <= m["y"] <= box["y"] + box["height"] - m["height"]
    centres = sorted((m["x"], m["y"]) for m in markers if m is not None)
    assert min(math.dist(a, b) for i, a in enumerate(centres) for b in centres[i + 1 :]) > 40
    v.shot(screenshots, "register-map-far-camera")
    v.clean()
