"""The basemap this server serves: tiles of a local MBTiles file (TMS rows flipped, content type
from the tile's bytes, 404 for a missing tile, 400 for a bad address), the streets GeoJSON of the
demo city with the registered sites, which basemap the settings choose, and the vendored files
under /static/vendor/ with no way out of that folder."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote_to_bytes

import anyio
import cv2
import numpy as np
import pytest
from factories import camera, site
from fastapi.testclient import TestClient

from safecity.config import Settings
from safecity.server.app import create_app
from safecity.server.web.pages.tiles import STREETS_URL, basemap_of
from safecity.sim.roads import EDGES, NODES
from safecity.store.cameras import CameraStore
from safecity.store.database import Database

PNG = bytes(cv2.imencode(".png", np.full((256, 256, 3), 200, np.uint8))[1])
JPEG = bytes(cv2.imencode(".jpg", np.full((256, 256, 3), 90, np.uint8))[1])
TILES = {(14, 9122, 5867): PNG, (15, 18245, 11734): JPEG}
"""(zoom, column, XYZ row): Belgrade's centre at zoom 14 and 15."""


def write_mbtiles(path: Path) -> None:
    """A small MBTiles file as the spec lays it out: rows counted from the south (TMS)."""
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute(
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)"
        )
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "test"), ("format", "png")])
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, 2**z - 1 - y, data) for (z, x, y), data in TILES.items()],
        )
        db.commit()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    mbtiles = tmp_path / "city.mbtiles"
    write_mbtiles(mbtiles)
    settings = Settings(
        data_dir=tmp_path / "var", map={"mbtiles_path": mbtiles, "mbtiles_attribution": "© test"}
    )
    db = Database.connect(settings.effective_database_url, settings.store)
    db.upgrade()
    CameraStore(db).save([site()], [camera("cam-1")])
    yield TestClient(create_app(settings, db))
    db.close()


@pytest.mark.parametrize(
    ("address", "kind", "data"),
    [((14, 9122, 5867), "image/png", PNG), ((15, 18245, 11734), "image/jpeg", JPEG)],
)
def test_a_tile_is_served_with_its_content_type(
    client: TestClient, address: tuple[int, int, int], kind: str, data: bytes
) -> None:
    z, x, y = address
    response = client.get(f"/tiles/{z}/{x}/{y}.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == kind and response.content == data
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/tiles/14/9122/5868.png", "/tiles/14/9123/5867.png", "/tiles/3/1/1.png"])
def test_a_tile_the_file_lacks_is_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/a/1/1.png",
        "/tiles/1/1/x.png",
        "/tiles/1/1/1.gif",
        "/tiles/1/2/0.png",  # zoom 1 has columns 0 and 1
        "/tiles/2/0/4.png",
        "/tiles/31/0/0.png",
        "/tiles/-1/0/0.png",
    ],
)
def test_a_bad_tile_address_is_400(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400, response.text


def test_without_a_tiles_file_there_are_no_tiles(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    db = Database.connect(settings.effective_database_url, settings.store)
    db.upgrade()
    try:
        response = TestClient(create_app(settings, db)).get("/tiles/14/9122/5867.png")
        assert response.status_code == 404 and "map.mbtiles_path" in response.text
    finally:
        db.close()


def test_the_streets_are_the_demo_citys_with_the_sites(client: TestClient) -> None:
    response = client.get(STREETS_URL)
    assert response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    features = response.json()["features"]
    lines = [f for f in features if f["geometry"]["type"] == "LineString"]
    assert len(lines) == len(EDGES)
    first = NODES[EDGES[0].a]
    assert lines[0]["geometry"]["coordinates"][0] == [first.longitude, first.latitude]  # GeoJSON: lon, lat
    assert {f["properties"]["name"] for f in lines} == {e.street for e in EDGES}
    names = {
        f["properties"]["kind"]: f["properties"]["name"] for f in features if f["geometry"]["type"] == "Point"
    }
    assert names["site"] == "Site site-1"
    assert "Slavija" in {f["properties"]["name"] for f in features if f["properties"]["kind"] == "place"}


@pytest.mark.parametrize(
    ("settings", "kind", "url"),
    [
        ({}, "streets", STREETS_URL),
        ({"mbtiles_path": "/srv/city.mbtiles"}, "local-tiles", "/tiles/{z}/{x}/{y}.png"),
        (
            {"tile_url": "https://tiles.city.example/{z}/{x}/{y}.png", "mbtiles_path": "/srv/city.mbtiles"},
            "city-tiles",
            "https://tiles.city.example/{z}/{x}/{y}.png",
        ),
    ],
)
def test_the_settings_choose_the_basemap(settings: dict[str, str], kind: str, url: str) -> None:
    chosen = basemap_of(Settings(map=settings).map)
    assert (chosen.kind, chosen.url) == (kind, url)


def test_the_pages_learn_the_basemap_from_the_server(client: TestClient) -> None:
    base = client.get("/map/basemap.json").json()
    assert base["kind"] == "local-tiles" and base["attribution"] == "© test" and base["fov_deg"] == 60.0


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/static/vendor/leaflet/leaflet.js", "javascript"),
        ("/static/vendor/leaflet/leaflet.css", "text/css"),
        ("/static/vendor/leaflet/images/layers.png", "image/png"),
        ("/static/vendor/markercluster/leaflet.markercluster.js", "javascript"),
        ("/static/citymap.js", "javascript"),
    ],
)
def test_the_vendored_files_are_served(client: TestClient, path: str, kind: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and kind in response.headers["content-type"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/static/vendor/../common.py",
        b"/static/vendor/%2e%2e/common.py",
        b"/static/vendor/leaflet/../../../common.py",
        b"/static/vendor/leaflet/..%2f..%2f..%2fcommon.py",
        b"/static/vendor/.hidden",
        b"/static/vendor/leaflet/images/../../../../pages/login.py",
        b"/static/..%2fcommon.py",
    ],
)
def test_nothing_outside_the_static_folder_is_served(client: TestClient, raw_path: bytes) -> None:
    """Sent as raw paths (a browser or httpx would tidy the dots away first)."""
    status, body = _raw_get(client, raw_path)
    assert status == 404 and b"HERE = Path" not in body and b"APIRouter" not in body


def _raw_get(client: TestClient, raw_path: bytes) -> tuple[int, bytes]:
    path = raw_path.split(b"?")[0]
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote_to_bytes(path).decode("latin-1"),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    anyio.run(client.app, scope, receive, send)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
    return int(start["status"]), body  # type: ignore[call-overload]
