"""What anyone may read without logging in: the public camera register, and whether the server is up.

The register is generated from the live registry on each request (no stream URLs, no
credentials; see `governance.register`), so what the public reads is what the system runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from safecity import __version__
from safecity.governance.register import AuditHead, public_register, register_html
from safecity.server.security import Context
from safecity.store.cameras import CameraStore

router = APIRouter(tags=["public"])
GEOJSON_MEDIA = "application/geo+json"
REGISTER_CSP = "default-src 'none'; style-src 'unsafe-inline'"


class Health(BaseModel):
    status: str
    version: str
    database: str


@router.get("/health", response_model=Health)
def health(ctx: Context) -> Health:
    """Liveness: the server answers and its database does (no personal data, no login)."""
    try:
        with ctx.db.read_session() as session:
            session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # the answer is the point: a health check reports, it does not raise
        database = f"error: {type(exc).__name__}"
    return Health(status="ok" if database == "ok" else "degraded", version=__version__, database=database)


@router.get(
    "/register.geojson",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON_MEDIA: {}}, "description": "GeoJSON FeatureCollection"}},
)
def register_geojson(ctx: Context) -> JSONResponse:
    """The public camera register as GeoJSON (OSM surveillance tags, operator, legal basis, retention)."""
    store = CameraStore(ctx.db)
    body: dict[str, Any] = public_register(
        store.all(), store.sites(), AuditHead.of(ctx.db), ctx.settings.recording
    )
    return JSONResponse(body, media_type=GEOJSON_MEDIA)


@router.get("/register.html", response_class=HTMLResponse)
def register_page(ctx: Context) -> HTMLResponse:
    """The public camera register as a self-contained page (no request to any other host)."""
    store = CameraStore(ctx.db)
    page = register_html(
        store.all(), store.sites(), datetime.now(UTC), AuditHead.of(ctx.db), ctx.settings.recording
    )
    return HTMLResponse(
        page, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    )
