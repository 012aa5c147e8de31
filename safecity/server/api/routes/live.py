"""`/api/v1/live`: a WebSocket that pushes new alerts and camera states to a control-room screen.

Alerts are followed in the order they were stored (`alerts.raised_at`), so the feed works
whether the cameras are analysed by `serve` in this process or by another process writing to
the same database. A browser authenticates with its session cookie (sent with the upgrade
request, which must then come from this server's origin: `api/csrf.py` closes it with 1008
otherwise), a program with `?token=`. Who may watch: `view_live`. What is sent is narrowed to the
caller's cameras; a caller without `view_observations` (a viewer) gets face-match alerts
without the name of the person sought. Each batch of alerts delivered to a caller who may see
personal data is recorded in the audit chain (`view_sighting`), like any other read.

Messages (JSON): `{"type": "alert", "alert": {...}}` and `{"type": "cameras", "cameras": [...]}`.
Close codes: 4401 not logged in / token refused, 4403 not allowed, 1008 a cookie from another origin.

Each feed looks for new alerts every `api.live_poll_s`, and at once when PostgreSQL notifies
that an alert was committed (`api.live_wakeups`): several API replicas over one database all
push it without waiting for their next poll.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from safecity.governance.access import Caller
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.server.api.live_wakeups import wait
from safecity.server.context import ApiContext
from safecity.server.security import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, websocket_caller
from safecity.store.alerts import StoredAlert, alerts_raised_after, latest_raised_at
from safecity.store.cameras import CameraStore
from safecity.types import AlertKind

router = APIRouter(tags=["live"])
BATCH = 100
"""Alerts sent per poll at most; a larger backlog follows on the next polls."""


def alert_message(a: StoredAlert, full: bool) -> dict[str, Any]:
    face = a.alert.kind is AlertKind.FACE_WATCHLIST
    return {
        "type": "alert",
        "alert": {
            "id": a.alert.id,
            "kind": a.alert.kind.value,
            "camera_id": a.alert.camera_id,
            "time": a.alert.timestamp.isoformat(),
            "message": a.alert.message if full or not face else "face watchlist match",
            "status": a.status,
        },
    }


class _Feed:
    """What one connection has sent so far, and the blocking reads behind each poll."""

    def __init__(self, ctx: ApiContext, caller: Caller) -> None:
        self.ctx = ctx
        self.caller = caller
        self.full = caller.can(Permission.VIEW_OBSERVATIONS)
        self.cameras = None if caller.camera_ids is None else sorted(caller.camera_ids)
        self.after: datetime | None = None

    def start(self) -> None:
        with self.ctx.db.session() as session:
            self.after = latest_raised_at(session)

    def new_alerts(self) -> list[StoredAlert]:
        if not self.full:
            with self.ctx.db.session() as session:
                found = alerts_raised_after(session, self.after, self.cameras, BATCH)
        else:
            with self.ctx.gate.read(
                self.caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details={"what": "live"}
            ) as read:
                found = alerts_raised_after(read.session, self.after, read.cameras, BATCH)
                if not found:
                    raise _Nothing
                read.record([a.alert.id for a in found])
        if found:
            self.after = found[-1].raised_at
        return found

    def cameras_state(self) -> list[dict[str, Any]]:
        states = {h.camera_id: h.state for h in self.ctx.camera_health()} if self.ctx.camera_health else {}
        out = []
        for camera in CameraStore(self.ctx.db).all():
            if self.cameras is not None and camera.id not in self.cameras:
                continue
            state = states.get(camera.id, "unknown") if camera.enabled else "disabled"
            out.append({"id": camera.id, "name": camera.name, "state": state})
        return out


class _Nothing(Exception):
    """No new alert: the gate's transaction is rolled back, so an empty poll writes no audit entry."""


@router.websocket("/live")
async def live(websocket: WebSocket) -> None:
    ctx = websocket.app.state.context
    assert isinstance(ctx, ApiContext)
    caller = await run_in_threadpool(websocket_caller, ctx, websocket)
    if caller is None:
        await websocket.close(code=CLOSE_UNAUTHENTICATED)
        return
    if not caller.can(Permission.VIEW_LIVE):
        await websocket.close(code=CLOSE_FORBIDDEN)
        return
    await websocket.accept()
    feed = _Feed(ctx, caller)
    await run_in_threadpool(feed.start)
    poll_s = ctx.settings.api.live_poll_s
    wakeups = ctx.live
    event = wakeups.register() if wakeups is not None else asyncio.Event()
    states_every = ctx.settings.api.live_cameras_s
    states_due = 0.0
    try:
        while True:
            if time.monotonic() >= states_due:
                states_due = time.monotonic() + states_every
                await websocket.send_json(
                    {"type": "cameras", "cameras": await run_in_threadpool(feed.cameras_state)}
                )
            try:
                alerts = await run_in_threadpool(feed.new_alerts)
            except _Nothing:
                alerts = []
            for a in alerts:
                await websocket.send_json(alert_message(a, feed.full))
            # Until an alert is committed (PostgreSQL notifies at once) or the poll interval passes.
            await wait(event, poll_s)
    except WebSocketDisconnect:
        return
    finally:
        if wakeups is not None:
            wakeups.unregister(event)
