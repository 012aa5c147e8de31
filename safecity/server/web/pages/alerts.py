"""An alert's page and its decisions (acknowledge, confirm, reject)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from safecity.governance.access import AccessDenied, Caller
from safecity.governance.audit import AuditAction
from safecity.governance.confirmation import (
    AlertStatus,
    ConfirmationError,
    Decision,
    MatchConfirmations,
    acknowledge,
)
from safecity.governance.permissions import Permission
from safecity.server.context import ApiContext
from safecity.server.web.common import (
    SECURITY_HEADERS,
    context_of,
    error_page,
    forbidden,
    guard,
    guard_post,
    render,
)
from safecity.store.alerts import StoredAlert, stored_alert
from safecity.store.models import AlertRow
from safecity.types import AlertKind

# Evidence keys the page already shows in its own rows (camera, time seen).
_SHOWN_ABOVE = frozenset({"camera_id", "seen_at"})

router = APIRouter(include_in_schema=False)


def _confirmations(ctx: ApiContext) -> MatchConfirmations:
    return MatchConfirmations(ctx.gate, required=ctx.settings.governance.confirmations_required)


def _alert_page(
    request: Request, caller: Caller, alert_id: str, status: int = 200, **values: Any
) -> Response:
    ctx = context_of(request)
    try:
        with ctx.gate.read(
            caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details={"what": "alert"}
        ) as read:
            row = read.session.get(AlertRow, alert_id)
            if row is None:
                raise LookupError(f"no alert with id {alert_id!r}")
            if not read.visible(row.camera_id):
                raise ctx.gate.deny(caller, AuditAction.VIEW_SIGHTING, f"camera {row.camera_id} is outside")
            alert = stored_alert(row)
            state = _confirmations(ctx).state(read.session, alert_id)
            read.record([alert_id], kind=row.kind)
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    except LookupError as exc:
        return error_page(request, caller, 404, "Not found", str(exc))
    face = alert.alert.kind is AlertKind.FACE_WATCHLIST
    decided = any(d.username == caller.username for d in state.decisions)
    final = state.status in (AlertStatus.CONFIRMED, AlertStatus.REJECTED, AlertStatus.ACKNOWLEDGED)
    evidence = {k: v for k, v in alert.evidence.items() if not k.endswith("_ref") and k not in _SHOWN_ABOVE}
    return render(
        request,
        "alert.html",
        caller,
        status=status,
        alert=alert,
        state=state,
        face=face,
        evidence=evidence,
        may_decide=caller.can(Permission.CONFIRM_MATCH) and face and not final and not decided,
        may_acknowledge=caller.can(Permission.CONFIRM_MATCH) and not face and alert.status == "new",
        snapshot_kind="faces" if face else "plates",
        show_snapshot=bool(alert.alert.observation_id) and (not face or caller.can(Permission.CONFIRM_MATCH)),
        has_clip=_has_clip(ctx, caller, alert),
        pre_s=ctx.settings.recording.pre_s,
        post_s=ctx.settings.recording.post_s,
        **values,
    )


def _has_clip(ctx: ApiContext, caller: Caller, alert: StoredAlert) -> bool:
    """Whether recorded video covers the alert's clip span (and the caller may watch it)."""
    if not caller.can(Permission.VIEW_OBSERVATIONS, alert.alert.camera_id):
        return False
    span = ctx.settings.recording.alert_span(alert.alert.timestamp)
    return bool(ctx.recordings.segments(alert.alert.camera_id, *span, limit=1))


@router.get("/alerts/{alert_id}")
def alert_view(alert_id: str, request: Request) -> Response:
    caller = guard(request, Permission.VIEW_OBSERVATIONS)
    if isinstance(caller, Response):
        return caller
    return _alert_page(request, caller, alert_id)


@router.post("/alerts/{alert_id}/decision")
def alert_decision(
    alert_id: str,
    request: Request,
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    caller = guard_post(request, Permission.CONFIRM_MATCH, action=AuditAction.CONFIRM_MATCH)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    try:
        if decision == "acknowledge":
            acknowledge(ctx.gate, caller, alert_id, note)
        else:
            _confirmations(ctx).decide(caller, alert_id, Decision(decision), note)
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    except ValueError as exc:  # ConfirmationError, or a decision that is none of the three
        message = str(exc) if isinstance(exc, ConfirmationError) else f"unknown decision {decision!r}"
        return _alert_page(request, caller, alert_id, status=409, error=message)
    return RedirectResponse(f"/alerts/{quote(alert_id)}", status_code=303, headers=SECURITY_HEADERS)
