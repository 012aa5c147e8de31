"""The city map: the `[map]` section (`MapSettings`): which basemap the web pages draw under the
cameras (the city's own tile server, a local MBTiles file served by this server, or, with neither,
the demo city's streets), its attribution, and how cameras are drawn on it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from safecity.config.base import SectionModel

TILE_PLACEHOLDERS = ("{z}", "{x}", "{y}")


class MapSettings(SectionModel):
    """The basemap and the camera markers; nothing is ever loaded from a host not named here."""

    tile_url: str = Field(
        "",
        description=(
            "URL template of the city's own raster tile server, e.g. "
            "https://tiles.city.example/{z}/{x}/{y}.png ({s} for a subdomain letter); its origin is "
            "added to the pages' Content-Security-Policy img-src. Empty: no tile server."
        ),
    )
    tile_attribution: str = Field(
        "",
        description="Who made the tile server's map (shown on the map, e.g. '© OpenStreetMap contributors').",
    )
    tile_subdomains: str = Field("abc", description="The letters {s} in `tile_url` stands for.")
    mbtiles_path: Path | None = Field(
        None,
        description=(
            "A local MBTiles file (raster PNG or JPEG tiles) served at /tiles/{z}/{x}/{y}.png; used when "
            "`tile_url` is empty. None: no local tiles."
        ),
    )
    mbtiles_attribution: str = Field("", description="Who made the MBTiles file's map (shown on the map).")
    max_zoom: int = Field(19, ge=1, le=22, description="The closest zoom the map allows.")
    tile_cache_s: int = Field(
        86_400, ge=0, le=31_536_000, description="How long a browser may keep a tile from the local file."
    )
    default_fov_deg: float = Field(
        60.0,
        gt=0.0,
        le=360.0,
        description="Field of view drawn for a camera (the registry records a heading but no lens).",
    )
    cluster_until_zoom: int = Field(
        17, ge=1, le=22, description="From this zoom on cameras are drawn one by one, never grouped."
    )
    alert_hours: float = Field(
        24.0,
        gt=0.0,
        le=24.0 * 90,
        description="The operator map counts each camera's alerts of this many hours.",
    )

    @field_validator("tile_url")
    @classmethod
    def _a_tile_template(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        parts = urlsplit(value.replace("{s}", "a"))
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError(f"tile_url {value!r} must be an http(s) URL template")
        missing = [p for p in TILE_PLACEHOLDERS if p not in value]
        if missing:
            raise ValueError(f"tile_url {value!r} lacks {', '.join(missing)}")
        host = urlsplit(value).netloc
        if "{s}" in host and not host.startswith("{s}."):
            raise ValueError(f"tile_url {value!r}: {{s}} may only be the host's first label ({{s}}.tiles...)")
        return value

    @property
    def tile_origin(self) -> str | None:
        """The tile server's origin as a CSP source (`{s}` subdomains as a wildcard), or None."""
        if not self.tile_url:
            return None
        parts = urlsplit(self.tile_url)
        return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"
