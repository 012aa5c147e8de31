"""Watchlists, authorisations and the hotlist as listed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.server.web.common import context_of, guard, render
from safecity.store.authorisations import AuthorisationStore
from safecity.store.face_watchlists import FaceWatchlistStore
from safecity.store.hotlists import HotlistStore
from safecity.store.models import utcnow

router = APIRouter(include_in_schema=False)


@router.get("/watchlists")
def watchlists(request: Request) -> Response:
    caller = guard(request, Permission.MANAGE_WATCHLISTS, Permission.MANAGE_AUTHORISATIONS)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    lists = []
    if caller.can(Permission.MANAGE_WATCHLISTS):
        store = FaceWatchlistStore(ctx.db, ctx.media)
        lists = [(wl, len(store.persons(wl.id))) for wl in store.list_watchlists()]
    now = ctx.gate.clock()  # past its expiry an authorisation reads expired, swept or not
    auths = [a.as_of(now) for a in AuthorisationStore(ctx.db).list()]
    return render(
        request,
        "watchlists.html",
        caller,
        watchlists=lists,
        authorisations=auths,
        by_id={a.id: a for a in auths},
        now=now,
    )


@router.get("/hotlists")
def hotlists(request: Request) -> Response:
    caller = guard(request, Permission.VIEW_OBSERVATIONS)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    store = HotlistStore(ctx.db, ctx.settings.hotlists)
    now = utcnow()
    with ctx.gate.read(caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as read:
        entries = store.all()
        read.record([e.id for e in entries], what="hotlist", via="web")

    def status(e: Any) -> str:
        if not e.active:
            return "removed"
        return "expired" if e.expires_at is not None and e.expires_at <= now else "in force"

    return render(request, "hotlists.html", caller, entries=[(e, status(e)) for e in entries])
