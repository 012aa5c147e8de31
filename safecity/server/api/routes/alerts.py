"""Alerts: list, show, acknowledge, confirm or reject face matches, show the snapshot, export evidence.

The same domain functions as `safecity alert …` (`cli/alerts.py`), through the same access gate:
every read is checked against the caller's role and cameras and recorded. A face match is acted
on, and exported, only after `governance.confirmations_required` different users confirmed it;
a second decision by one user, or an export of an unconfirmed match, is a 409 problem.
"""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import AliasPath, BaseModel, Field

from safecity.governance.audit import AuditAction
from safecity.governance.confirmation import (
    AlertStatus,
    ConfirmationError,
    ConfirmationState,
    Decision,
    MatchConfirmations,
    acknowledge,
    decisions_of,
)
from safecity.governance.disclosure import ExportError
from safecity.governance.permissions import Permission
from safecity.server.api.routes.observations import (
    JPEG_RESPONSE,
    ObservationListing,
    deny_outside,
    snapshot_response,
)
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut, Page, Problem
from safecity.server.context import ApiContext
from safecity.server.problems import Conflict, NotFound
from safecity.server.security import Context, CurrentCaller
from safecity.server.security import require as require_permission
from safecity.store.alerts import stored_alert
from safecity.store.field_limits import ALERT_CONFIRMATION, AUDIT_ENTRY
from safecity.store.models import AlertRow, FaceSightingRow, PlateReadRow
from safecity.store.observation_pages import alert_page
from safecity.types import AlertKind
from safecity.video.evidence import evidence_exporter

router = APIRouter(prefix="/alerts", tags=["alerts"], responses=PROBLEM_RESPONSES)

CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"model": Problem, "description": "Decided already, not a face match, or not confirmed"}
}
ZIP = "application/zip"


# ---------------------------------------------------------------- bodies


class AlertOut(DomainOut):
    id: str = Field(validation_alias=AliasPath("alert", "id"))
    kind: AlertKind = Field(validation_alias=AliasPath("alert", "kind"))
    camera_id: str = Field(validation_alias=AliasPath("alert", "camera_id"))
    time: datetime = Field(validation_alias=AliasPath("alert", "timestamp"))
    message: str = Field(validation_alias=AliasPath("alert", "message"))
    observation_id: str | None = Field(validation_alias=AliasPath("alert", "observation_id"))
    watchlist_id: str | None = Field(validation_alias=AliasPath("alert", "watchlist_id"))
    score: float | None = Field(validation_alias=AliasPath("alert", "score"))
    status: str
    handled_by: str | None
    handled_at: datetime | None


class DecisionOut(DomainOut):
    user: str = Field(validation_alias="username")
    role: str
    decision: Decision
    time: datetime = Field(validation_alias="ts")
    note: str


class AlertDetail(AlertOut):
    evidence: dict[str, Any]
    decisions: list[DecisionOut]


class NoteRequest(BaseModel):
    note: str = Field(
        "", max_length=ALERT_CONFIRMATION["note"], description="What was checked or done; recorded."
    )


class AckResponse(BaseModel):
    alert_id: str
    status: AlertStatus


class ConfirmationOut(DomainOut):
    alert_id: str
    status: AlertStatus
    confirmed_by: list[str]
    required: int
    decisions: list[DecisionOut]


class ExportRequest(BaseModel):
    reason: str = Field(
        "",
        max_length=AUDIT_ENTRY["justification"],
        description="Why it is disclosed (case, legal basis); required.",
    )
    recipients: str = Field(
        "", max_length=AUDIT_ENTRY["recipients"], description="Who receives it; required."
    )
    unblurred: bool = Field(
        False, description="Leave the matched face visible (confirmed face matches only)."
    )


def _refusal(ctx: ApiContext, alert_id: str, exc: Exception) -> Exception:
    """A decision's or export's refusal as the API answers it: 404 when the alert does not exist,
    else 409 (decided already, not a face match, not confirmed, not allowed unblurred)."""
    with ctx.db.session() as session:
        missing = session.get(AlertRow, alert_id) is None
    return NotFound(f"no alert with id {alert_id!r}") if missing else Conflict(str(exc))


# ---------------------------------------------------------------- routes


@router.get(
    "", dependencies=[require_permission(Permission.VIEW_OBSERVATIONS)], response_model=Page[AlertOut]
)
def list_alerts(
    ctx: Context,
    caller: CurrentCaller,
    listing: ObservationListing,
    kind: Annotated[list[AlertKind] | None, Query(description="Only these kinds (repeatable).")] = None,
    status: Annotated[list[AlertStatus] | None, Query(description="Only this status (repeatable).")] = None,
) -> Page[AlertOut]:
    """Alerts, newest first (`view_observations`; recorded, narrowed to the caller's cameras)."""
    kinds, statuses = [str(k) for k in kind or []], [str(s) for s in status or []]
    with listing.read(ctx, caller, "alerts", kinds=kinds, statuses=statuses) as read:
        alerts = alert_page(read.session, kinds=kind or (), statuses=statuses, **listing.query(read))
        return listing.page(read, [AlertOut.of(a) for a in alerts], lambda a: a.id)


@router.get(
    "/{alert_id}", dependencies=[require_permission(Permission.VIEW_OBSERVATIONS)], response_model=AlertDetail
)
def show_alert(alert_id: str, ctx: Context, caller: CurrentCaller) -> AlertDetail:
    """One alert with its evidence and the decisions on it (`view_observations`; recorded)."""
    with ctx.gate.read(caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as read:
        row = read.session.get(AlertRow, alert_id)
        if row is None:
            raise NotFound(f"no alert with id {alert_id!r}")
        deny_outside(ctx, read, row.camera_id)
        shown = stored_alert(row)
        decisions = decisions_of(read.session, row.id)
        read.record([row.id], what="alert")
    return AlertDetail.of(shown, evidence=dict(shown.evidence), decisions=decisions)


@router.get(
    "/{alert_id}/snapshot",
    dependencies=[require_permission(Permission.VIEW_OBSERVATIONS)],
    response_class=Response,
    responses=JPEG_RESPONSE,
)
def alert_snapshot(alert_id: str, ctx: Context, caller: CurrentCaller) -> Response:
    """The alert's stored snapshot (`view_observations`; recorded).

    A face match's snapshot is the unblurred probe crop: it is shown only to those who confirm
    matches (`confirm_match`), who must see the face to judge it.
    """
    with ctx.gate.read(
        caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details={"what": "alert snapshot"}
    ) as read:
        row = read.session.get(AlertRow, alert_id)
        if row is None:
            raise NotFound(f"no alert with id {alert_id!r}")
        deny_outside(ctx, read, row.camera_id)
        ref = ""
        if row.kind == AlertKind.FACE_WATCHLIST.value:
            if not caller.can(Permission.CONFIRM_MATCH):
                raise ctx.gate.deny(
                    caller,
                    AuditAction.VIEW_SIGHTING,
                    f"the face of match {row.id} is shown only to roles with {Permission.CONFIRM_MATCH}",
                )
            sighting = read.session.get(FaceSightingRow, row.observation_id) if row.observation_id else None
            ref = str((row.evidence or {}).get("probe_ref") or (sighting.snapshot if sighting else ""))
        elif row.observation_id is not None:
            plate = read.session.get(PlateReadRow, row.observation_id)
            ref = plate.snapshot if plate is not None else ""
        response = snapshot_response(ctx.media, ref, f"alert {row.id}")
        read.record([row.id], what="alert snapshot", kind=row.kind, observation_id=row.observation_id)
    return response


@router.post(
    "/{alert_id}/ack",
    dependencies=[require_permission(Permission.CONFIRM_MATCH)],
    response_model=AckResponse,
    responses=CONFLICT,
)
def ack_alert(alert_id: str, body: NoteRequest, ctx: Context, caller: CurrentCaller) -> AckResponse:
    """Acknowledge a plate or camera alert (`confirm_match`; recorded); face matches are confirmed."""
    try:
        status = acknowledge(ctx.gate, caller, alert_id, body.note)
    except ConfirmationError as exc:
        raise _refusal(ctx, alert_id, exc) from exc
    return AckResponse(alert_id=alert_id, status=status)


def _decide(
    ctx: ApiContext, caller: CurrentCaller, alert_id: str, decision: Decision, note: str
) -> ConfirmationOut:
    confirmations = MatchConfirmations(ctx.gate, required=ctx.settings.governance.confirmations_required)
    try:
        state: ConfirmationState = confirmations.decide(caller, alert_id, decision, note)
    except ConfirmationError as exc:
        raise _refusal(ctx, alert_id, exc) from exc
    return ConfirmationOut.of(state)


@router.post(
    "/{alert_id}/confirm",
    dependencies=[require_permission(Permission.CONFIRM_MATCH)],
    response_model=ConfirmationOut,
    responses=CONFLICT,
)
def confirm_alert(alert_id: str, body: NoteRequest, ctx: Context, caller: CurrentCaller) -> ConfirmationOut:
    """Confirm a face match (`confirm_match`; recorded); a second, different user must confirm too."""
    return _decide(ctx, caller, alert_id, Decision.CONFIRM, body.note)


@router.post(
    "/{alert_id}/reject",
    dependencies=[require_permission(Permission.CONFIRM_MATCH)],
    response_model=ConfirmationOut,
    responses=CONFLICT,
)
def reject_alert(alert_id: str, body: NoteRequest, ctx: Context, caller: CurrentCaller) -> ConfirmationOut:
    """Reject a face match (`confirm_match`; recorded): it is never acted on or exported."""
    return _decide(ctx, caller, alert_id, Decision.REJECT, body.note)


@router.post(
    "/{alert_id}/export",
    dependencies=[require_permission(Permission.EXPORT)],
    response_class=Response,
    responses={
        200: {"content": {ZIP: {}}, "description": "The evidence folder (evidence.json, snapshot.jpg, …)"},
        **CONFLICT,
    },
)
def export_alert(alert_id: str, body: ExportRequest, ctx: Context, caller: CurrentCaller) -> Response:
    """Export an alert's evidence as a ZIP (`export`, reason and recipients required; recorded).

    Faces in the snapshot and in the alert's recorded clip (`clip.mp4`, where the camera recorded
    it) are blurred; `unblurred` leaves a confirmed match's face visible.
    """
    exporter = evidence_exporter(ctx.settings, ctx.gate, ctx.media, ctx.recordings)
    with tempfile.TemporaryDirectory(prefix="safecity-export-") as tmp:
        try:
            result = exporter.export_alert(
                caller,
                alert_id,
                Path(tmp),
                justification=body.reason,
                recipients=body.recipients,
                unblurred=body.unblurred,
            )
        except (ExportError, ConfirmationError) as exc:
            raise _refusal(ctx, alert_id, exc) from exc
        buffer = io.BytesIO()
        result.write_zip(buffer)
    return Response(
        buffer.getvalue(),
        media_type=ZIP,
        headers={
            "Content-Disposition": f'attachment; filename="alert-{alert_id}.zip"',
            "Cache-Control": "no-store",
            "X-Audit-Seq": str(result.audit_seq),
        },
    )
