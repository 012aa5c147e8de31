"""`safecity alert list | show | confirm | reject | ack | export`: alerts, the decisions on face
matches, and evidence exports.

Every command reads personal data through the access gate (`governance.access`), so each is
checked against the caller's role and cameras and recorded in the audit chain. Deciding on an
alert needs a person: set `SAFECITY_TOKEN` to the user's API token (`safecity user token`).
A face match is acted on, and exported, only after two different users have confirmed it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from safecity.cli.common import (
    EXIT_DENIED,
    access_gate,
    aware_time,
    cli_caller,
    command_group,
    fail,
    open_db,
    out,
    settings,
    shown_time,
)
from safecity.governance.access import AccessDenied, Caller, ReasonRequired
from safecity.governance.audit import AuditAction
from safecity.governance.confirmation import (
    ConfirmationError,
    Decision,
    MatchConfirmations,
    acknowledge,
    decisions_of,
)
from safecity.governance.permissions import Permission
from safecity.store.alerts import StoredAlert, find_alerts, stored_alert
from safecity.store.models import AlertRow
from safecity.types import AlertKind

# `alert export` imports the face detector (dlib, cv2), the evidence exporter and the media store
# (cv2) inside the function: `safecity --help` stays light.

alert_app = command_group("Alerts: list, show, acknowledge, confirm or reject face matches, export evidence.")

_KINDS = ", ".join(k.value for k in AlertKind)


def _alert_json(a: StoredAlert) -> dict[str, object]:
    return {
        "id": a.alert.id,
        "kind": a.alert.kind.value,
        "camera_id": a.alert.camera_id,
        "time": a.alert.timestamp.isoformat(),
        "message": a.alert.message,
        "observation_id": a.alert.observation_id,
        "watchlist_id": a.alert.watchlist_id,
        "score": a.alert.score,
        "status": a.status,
        "handled_by": a.handled_by,
        "handled_at": a.handled_at.isoformat() if a.handled_at else None,
    }


@alert_app.command("list")
def alert_list(
    kind: Annotated[list[str] | None, typer.Option("--kind", help=f"Only these kinds: {_KINDS}.")] = None,
    camera: Annotated[
        list[str] | None, typer.Option("--camera", help="Only this camera (repeatable).")
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Only this status: new, confirming, confirmed, ...")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Alerts at or after, ISO 8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Alerts before, ISO 8601 with offset.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most alerts shown.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Alerts, newest first; the listing is recorded in the audit log."""
    try:
        kinds = [AlertKind(k) for k in kind or []]
    except ValueError:
        fail(f"--kind: choose from {_KINDS}")
    s = settings()
    db = open_db(s, reading=True)
    start, end = aware_time("--since", since), aware_time("--until", until)
    try:
        with access_gate(db, s).read(
            cli_caller(db),
            AuditAction.VIEW_SIGHTING,
            Permission.VIEW_OBSERVATIONS,
            cameras=camera or (),
            details={"what": "alerts", "kinds": kind or [], "statuses": status or [], "since": since},
        ) as read:
            alerts = find_alerts(
                read.session,
                kinds=kinds,
                camera_ids=read.cameras,
                statuses=status or (),
                since=start,
                until=end,
                limit=min(limit, s.search.max_limit),
            )
            read.record([a.alert.id for a in alerts])
    except AccessDenied as exc:
        fail(str(exc), code=EXIT_DENIED)
    if as_json:
        for a in alerts:
            print(json.dumps(_alert_json(a), ensure_ascii=False))
        return
    table = Table(title=f"{len(alerts)} alert(s)")
    for col in ("time (UTC)", "kind", "camera", "status", "message", "id"):
        table.add_column(col, no_wrap=col in ("time (UTC)", "id"))
    for a in alerts:
        table.add_row(
            shown_time(a.alert.timestamp),
            a.alert.kind.value,
            a.alert.camera_id,
            a.status,
            a.alert.message,
            a.alert.id,
        )
    out.print(table)


@alert_app.command("show")
def alert_show(
    alert_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One alert with its evidence and the decisions on it; recorded in the audit log."""
    s = settings()
    db = open_db(s, reading=True)
    gate = access_gate(db, s)
    caller = cli_caller(db)
    try:
        with gate.read(caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as read:
            row = read.session.get(AlertRow, alert_id)
            if row is None:
                fail(f"no alert with id {alert_id!r}")
            if not read.visible(row.camera_id):
                raise gate.deny(
                    caller, AuditAction.VIEW_SIGHTING, f"camera {row.camera_id} is outside its limits"
                )
            shown = stored_alert(row)
            decisions = decisions_of(read.session, row.id)
            read.record([row.id], what="alert")
    except AccessDenied as exc:
        fail(str(exc), code=EXIT_DENIED)
    body = {
        **_alert_json(shown),
        "evidence": dict(shown.evidence),
        "decisions": [
            {
                "user": d.username,
                "role": d.role,
                "decision": str(d.decision),
                "time": d.ts.isoformat(),
                "note": d.note,
            }
            for d in decisions
        ],
    }
    if as_json:
        print(json.dumps(body, ensure_ascii=False, indent=2, default=str))
        return
    for key, value in body.items():
        out.print(f"[bold]{key}[/]: {value}")


def _denied(exc: Exception, caller: Caller) -> str:
    """The refusal, with the way out when the console (no token) was refused."""
    return str(exc) if caller.is_person else f"{exc} (set SAFECITY_TOKEN to your API token)"


def _decide(alert_id: str, decision: str, note: str) -> None:
    s = settings()
    db = open_db(s)
    confirmations = MatchConfirmations(access_gate(db, s), required=s.governance.confirmations_required)
    caller = cli_caller(db)
    try:
        state = confirmations.decide(caller, alert_id, Decision(decision), note)
    except AccessDenied as exc:
        fail(_denied(exc, caller), code=EXIT_DENIED)
    except (ConfirmationError, ReasonRequired) as exc:
        fail(str(exc))
    done = len(state.confirmed_by)
    out.print(f"alert {alert_id}: {state.status} ({done} of {state.required} confirmations)")


@alert_app.command("confirm")
def alert_confirm(
    alert_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Annotated[str, typer.Option(help="What you checked; recorded.")] = "",
) -> None:
    """Confirm a face match as the user of SAFECITY_TOKEN; a second, different user must confirm too."""
    _decide(alert_id, "confirm", note)


@alert_app.command("reject")
def alert_reject(
    alert_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Annotated[str, typer.Option(help="Why it is not the person; recorded.")] = "",
) -> None:
    """Reject a face match (not the person): it is never acted on or exported."""
    _decide(alert_id, "reject", note)


@alert_app.command("ack")
def alert_ack(
    alert_id: Annotated[str, typer.Argument(metavar="ID")],
    note: Annotated[str, typer.Option(help="What was done; recorded.")] = "",
) -> None:
    """Acknowledge a plate or camera alert as the user of SAFECITY_TOKEN."""
    s = settings()
    db = open_db(s)
    caller = cli_caller(db)
    try:
        status = acknowledge(access_gate(db, s), caller, alert_id, note)
    except AccessDenied as exc:
        fail(_denied(exc, caller), code=EXIT_DENIED)
    except ConfirmationError as exc:
        fail(str(exc))
    out.print(f"alert {alert_id}: {status}")


@alert_app.command("export")
def alert_export(
    alert_id: Annotated[str, typer.Argument(metavar="ID")],
    to: Annotated[Path, typer.Option("--to", help="Folder to write the evidence folder into.")],
    reason: Annotated[
        str, typer.Option(help="Why it is disclosed (case, legal basis); required, recorded.")
    ] = "",
    recipients: Annotated[
        str, typer.Option(help="Who receives it (authority, person); required, recorded.")
    ] = "",
    unblurred: Annotated[
        bool,
        typer.Option("--unblurred", help="Leave the matched face visible (confirmed face matches only)."),
    ] = False,
) -> None:
    """Export an alert's evidence (snapshot and recorded clip with faces blurred, evidence.json);
    recorded in the audit log."""
    from safecity.governance.disclosure import ExportError
    from safecity.store.media import MediaStore
    from safecity.store.recordings import RecordingStore
    from safecity.video.evidence import evidence_exporter

    s = settings()
    db = open_db(s)
    exporter = evidence_exporter(
        s,
        access_gate(db, s),
        MediaStore(s.effective_media_dir, s.store.snapshot_jpeg_quality),
        RecordingStore(db, s.effective_recordings_dir),
    )
    try:
        result = exporter.export_alert(
            cli_caller(db), alert_id, to, justification=reason, recipients=recipients, unblurred=unblurred
        )
    except AccessDenied as exc:
        fail(str(exc), code=EXIT_DENIED)
    except (ReasonRequired, ConfirmationError, ExportError) as exc:
        fail(str(exc))
    faces = "matched face visible" if result.unblurred else "faces blurred"
    out.print(
        f"exported alert {alert_id} to {result.folder} ({', '.join(result.files)}; {faces}, "
        f"{result.faces_blurred} blurred); audit entry {result.audit_seq}"
    )
