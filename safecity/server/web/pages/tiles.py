"""The city map's basemap, served by this server so no page loads anything from another host: which
basemap the pages draw (`/map/basemap.json`), the tiles of a local MBTiles file (`/tiles/z/x/y.png`),
and, with no tiles at all, the demo city's streets and the registered sites (`/map/streets.geojson`).

All three are public (the register's map uses them) and hold no personal data.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from safecity.config.citymap import MapSettings
from safecity.server.web.common import context_of
from safecity.sim.roads import EDGES, NODES
from safecity.store.cameras import CameraStore

router = APIRouter(include_in_schema=False)

MAX_TILE_ZOOM = 30
"""Deeper than any tile pyramid (zoom 22 is a few centimetres a pixel); keeps 2**z small."""
TILE_NAME = re.compile(r"([0-9]{1,10})\.(png|jpg|jpeg)")
WHOLE_NUMBER = re.compile(r"[0-9]{1,10}")
"""ASCII digits only: `str.isdigit` also takes "²", which `int` refuses."""
TILE_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
"""Raster tile formats by their first bytes (an MBTiles file's `format` metadata is optional)."""
STREETS_URL = "/map/streets.geojson"
STREETS_ATTRIBUTION = "Streets: Open Safe City demo road graph (Belgrade, drawn by this server)"


@dataclass(frozen=True, slots=True)
class Basemap:
    """What the pages draw under the cameras (`citymap.js` reads it as JSON)."""

    kind: str
    """city-tiles (the city's tile server), local-tiles (the MBTiles file) or streets (no tiles)."""
    label: str
    url: str
    attribution: str
    subdomains: str
    max_zoom: int
    cluster_until_zoom: int
    fov_deg: float


def basemap_of(settings: MapSettings) -> Basemap:
    """The city's tile server if set, else the local MBTiles file if set, else the demo streets."""
    common: dict[str, Any] = {
        "subdomains": settings.tile_subdomains,
        "max_zoom": settings.max_zoom,
        "cluster_until_zoom": settings.cluster_until_zoom,
        "fov_deg": settings.default_fov_deg,
    }
    if settings.tile_url:
        return Basemap(
            "city-tiles", "the city's tile server", settings.tile_url, settings.tile_attribution, **common
        )
    if settings.mbtiles_path is not None:
        return Basemap(
            "local-tiles",
            "the local tiles file",
            "/tiles/{z}/{x}/{y}.png",
            settings.mbtiles_attribution,
            **common,
        )
    return Basemap(
        "streets", "the demo city's streets (no tile server set)", STREETS_URL, STREETS_ATTRIBUTION, **common
    )


class TileError(ValueError):
    """A tile address that cannot name a tile (400)."""


def tile_address(z: str, x: str, name: str) -> tuple[int, int, int]:
    """(zoom, column, row in the XYZ scheme) of `/tiles/{z}/{x}/{name}`; TileError says what is wrong."""
    found = TILE_NAME.fullmatch(name)
    if not (WHOLE_NUMBER.fullmatch(z) and WHOLE_NUMBER.fullmatch(x) and found):
        raise TileError(f"tile {z[:12]}/{x[:12]}/{name[:20]} is not zoom/column/row.png in whole numbers")
    zoom, column, row = int(z), int(x), int(found.group(1))
    if zoom > MAX_TILE_ZOOM:
        raise TileError(f"zoom {zoom} is beyond {MAX_TILE_ZOOM}")
    if column >= 2**zoom or row >= 2**zoom:
        raise TileError(f"tile {column}/{row} is outside zoom {zoom}'s {2**zoom} x {2**zoom} tiles")
    return zoom, column, row


def read_tile(path: Path, zoom: int, column: int, row: int) -> bytes | None:
    """The tile's bytes from an MBTiles file (read-only), or None if it holds no such tile.

    MBTiles rows count from the south (TMS), the web's from the north (XYZ): the row is flipped.
    """
    if not path.is_file():
        return None
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        found = db.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (zoom, column, 2**zoom - 1 - row),
        ).fetchone()
    return None if found is None else bytes(found[0])


def tile_type(data: bytes) -> str | None:
    return next((kind for magic, kind in TILE_TYPES if data.startswith(magic)), None)


def _plain(status: int, text: str) -> Response:
    return Response(
        text, status_code=status, media_type="text/plain", headers={"X-Content-Type-Options": "nosniff"}
    )


@router.get("/tiles/{z}/{x}/{name}")
def tile(request: Request, z: str, x: str, name: str) -> Response:
    """A tile of `map.mbtiles_path`: 404 if there is no file or no such tile, 400 for a bad address."""
    settings = context_of(request).settings.map
    try:
        zoom, column, row = tile_address(z, x, name)
    except TileError as exc:
        return _plain(400, str(exc))
    if settings.mbtiles_path is None:
        return _plain(404, "no local tiles file is configured (map.mbtiles_path)")
    data = read_tile(settings.mbtiles_path, zoom, column, row)
    if data is None:
        return _plain(404, f"the tiles file has no tile {zoom}/{column}/{row}")
    kind = tile_type(data)
    if kind is None:
        return _plain(404, f"tile {zoom}/{column}/{row} is neither PNG nor JPEG")
    headers = {
        "Cache-Control": f"public, max-age={settings.tile_cache_s}",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(data, media_type=kind, headers=headers)


@router.get("/map/basemap.json")
def basemap(request: Request) -> JSONResponse:
    return JSONResponse(asdict(basemap_of(context_of(request).settings.map)))


def streets_geojson(sites: list[dict[str, Any]]) -> dict[str, Any]:
    """The demo city's street segments (lines named by street), its places and the given sites (points)."""
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [
                    [NODES[e.a].longitude, NODES[e.a].latitude],
                    [NODES[e.b].longitude, NODES[e.b].latitude],
                ],
            },
            "properties": {"kind": "street", "name": e.street},
        }
        for e in EDGES
    ]
    features += [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [n.longitude, n.latitude]},
            "properties": {"kind": "place", "name": n.name},
        }
        for n in NODES.values()
    ]
    features += sites
    return {"type": "FeatureCollection", "features": features}


@router.get("/map/streets.geojson")
def streets(request: Request) -> JSONResponse:
    """The streets basemap: the sim's streets and places, and every registered site by name (public facts)."""
    sites = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [s.longitude, s.latitude]},
            "properties": {"kind": "site", "name": s.name},
        }
        for s in CameraStore(context_of(request).db).sites()
    ]
    return JSONResponse(streets_geojson(sites), media_type="application/geo+json")
