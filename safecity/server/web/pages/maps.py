"""The camera map (logged-in users: state of each camera) and the public camera register (no login)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from safecity.governance.register import GEOJSON_NAME, AuditHead, recording_text
from safecity.registry.map import MAP_HEIGHT, MAP_WIDTH, project
from safecity.server.web.common import camera_states, context_of, guard, render, web_caller
from safecity.store.cameras import CameraStore
from safecity.store.models import utcnow
from safecity.types import Capability

router = APIRouter(include_in_schema=False)


@router.get("/map")
def camera_map(request: Request) -> Response:
    caller = guard(request)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    points = project(CameraStore(ctx.db).all(), camera_states(ctx))
    return render(
        request,
        "map.html",
        caller,
        points=points,
        width=MAP_WIDTH,
        height=MAP_HEIGHT,
    )


@router.get("/register")
def register(request: Request) -> Response:
    """The public transparency register: no login; the same facts as `register.html`/`.geojson`."""
    ctx = context_of(request)
    store = CameraStore(ctx.db)
    cameras = store.all()
    sites = {s.id: s for s in store.sites()}
    return render(
        request,
        "register.html",
        web_caller(request),
        cameras=[(c, recording_text(c, ctx.settings.recording)) for c in cameras],
        sites=sites,
        points=project(cameras),
        width=MAP_WIDTH,
        height=MAP_HEIGHT,
        geojson=f"/api/v1/{GEOJSON_NAME}",
        audit=AuditHead.of(ctx.db),
        counts=[
            (
                c.value,
                sum(c in cam.capabilities for cam in cameras),
                sum(c in cam.capabilities and cam.enabled for cam in cameras),
            )
            for c in Capability
        ],
        generated=utcnow(),
    )
