"""The camera map (logged-in users: each camera they may see, its state and recent alerts) and the
public camera register (no login: the same map with the register's public facts only).

Both hand their cameras to `static/citymap.js` as `data-points` JSON (Leaflet over the basemap of
`pages/tiles.py`); `map_point` is the one shape every page's map uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from safecity.governance.access import Caller
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.governance.register import GEOJSON_NAME, AuditHead, recording_text
from safecity.registry.map import MAP_HEIGHT, MAP_WIDTH, project
from safecity.server.context import ApiContext
from safecity.server.web.common import (
    camera_states,
    context_of,
    guard,
    render,
    visible_cameras,
    web_caller,
)
from safecity.server.web.pages.tiles import basemap_of
from safecity.store.cameras import CameraStore
from safecity.store.models import AlertRow, utcnow
from safecity.types import Camera, Capability

router = APIRouter(include_in_schema=False)


def map_point(camera: Camera, fov_deg: float, state: str, href: str, **extra: Any) -> dict[str, Any]:
    """One camera as `citymap.js` draws it: position, viewing direction, what it analyses, a link."""
    return {
        "id": camera.id,
        "name": camera.name,
        "lat": camera.latitude,
        "lon": camera.longitude,
        "heading": camera.heading_deg,
        "fov": fov_deg,
        "capabilities": sorted(c.value for c in camera.capabilities),
        "state": state,
        "href": href,
        **extra,
    }


def points_json(points: list[dict[str, Any]]) -> str:
    return json.dumps(points, ensure_ascii=False, separators=(",", ":"))


def recent_alert_counts(
    ctx: ApiContext, caller: Caller, cameras: list[Camera], hours: float
) -> dict[str, int]:
    """Alerts per camera in the last `hours`, read through the gate (checked and recorded, like the
    dashboard's list); empty for a caller who may not see alerts."""
    if not cameras or not caller.can(Permission.VIEW_OBSERVATIONS):
        return {}
    since = utcnow() - timedelta(hours=hours)
    with ctx.gate.read(
        caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details={"what": "map alert counts"}
    ) as read:
        query = (
            select(AlertRow.camera_id, func.count())
            .where(AlertRow.ts >= since, AlertRow.camera_id.in_([c.id for c in cameras]))
            .group_by(AlertRow.camera_id)
        )
        if read.cameras is not None:
            query = query.where(AlertRow.camera_id.in_(list(read.cameras)))
        counts = {str(camera_id): int(n) for camera_id, n in read.session.execute(query)}
        read.record(sorted(counts))
    return counts


def operator_points(
    cameras: list[Camera],
    states: Mapping[str, str],
    counts: Mapping[str, int] | None,
    fov_deg: float,
    since_text: str,
) -> list[dict[str, Any]]:
    points = []
    for c in cameras:
        extra: dict[str, Any] = {}
        if counts is not None:
            extra = {
                "alerts": counts.get(c.id, 0),
                "alerts_href": f"/alerts?camera={c.id}&since={since_text}",
            }
        state = states.get(c.id, "unknown") if c.enabled else "disabled"
        points.append(map_point(c, fov_deg, state, f"/cameras/{c.id}", **extra))
    return points


@router.get("/map")
def camera_map(request: Request) -> Response:
    caller = guard(request)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    settings = ctx.settings.map
    cameras = visible_cameras(caller, CameraStore(ctx.db).all())
    states = camera_states(ctx)
    may_see_alerts = caller.can(Permission.VIEW_OBSERVATIONS)
    counts = recent_alert_counts(ctx, caller, cameras, settings.alert_hours) if may_see_alerts else None
    since_text = (utcnow() - timedelta(hours=settings.alert_hours)).strftime("%Y-%m-%dT%H:%M")
    points = operator_points(cameras, states, counts, settings.default_fov_deg, since_text)
    return render(
        request,
        "map.html",
        caller,
        points=points,
        points_json=points_json(points),
        basemap=basemap_of(settings),
        alert_hours=settings.alert_hours,
        may_see_alerts=may_see_alerts,
    )


@router.get("/register")
def register(request: Request) -> Response:
    """The public transparency register: no login; the same facts as `register.html`/`.geojson`."""
    ctx = context_of(request)
    store = CameraStore(ctx.db)
    cameras = store.all()
    sites = {s.id: s for s in store.sites()}
    fov = ctx.settings.map.default_fov_deg
    # The register's own facts only: where, what it analyses, enabled or not; never a live state.
    points = [map_point(c, fov, "enabled" if c.enabled else "disabled", f"#cam-{c.id}") for c in cameras]
    return render(
        request,
        "register.html",
        web_caller(request),
        cameras=[(c, recording_text(c, ctx.settings.recording)) for c in cameras],
        sites=sites,
        points_json=points_json(points),
        basemap=basemap_of(ctx.settings.map),
        plan=project(cameras),
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
