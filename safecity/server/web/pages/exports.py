"""Evidence export from the web UI: the form (reason, recipients, faces blurred unless the domain
allows otherwise), the package the CLI's and API's exporter writes (`video.evidence.evidence_exporter`)
packed as a ZIP with a SHA-256 list of its files, the page that shows that manifest and the audit
entry recording the export, and the guarded download of the package by the investigator who made it.

Packages are kept under `<data_dir>/exports/<username>/<token>/`: a token is random and names one
export, and only its maker (with `export` permission) may download it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from safecity.governance.access import AccessDenied, Caller, ReasonRequired
from safecity.governance.audit import AuditAction
from safecity.governance.confirmation import (
    AlertStatus,
    ConfirmationError,
    ConfirmationState,
    decisions_of,
)
from safecity.governance.disclosure import SUMS_FILE, ExportedFile, ExportError
from safecity.governance.permissions import Permission
from safecity.server.web.common import (
    SECURITY_HEADERS,
    context_of,
    error_page,
    forbidden,
    guard,
    guard_post,
    render,
)
from safecity.server.web.pages.alert_list import KIND_WORDS
from safecity.store.cameras import CameraStore
from safecity.store.field_limits import AUDIT_ENTRY, ID_MAX
from safecity.store.models import AlertRow
from safecity.types import AlertKind

router = APIRouter(include_in_schema=False)

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True, slots=True)
class Package:
    """An export as the page shows it: its files and their hashes, the ZIP, the audit entry."""

    token: str
    zip_name: str
    files: tuple[ExportedFile, ...]
    audit_seq: int
    audit_hash: str
    unblurred: bool
    faces_blurred: int


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """What the form says about the alert: no plate text, no face, only what and where."""

    id: str
    kind: str
    kind_words: str
    camera_id: str
    camera_name: str
    at: Any
    is_face: bool
    confirmed: bool
    """Confirmed by enough people (a face match): only then may it be exported, and unblurred."""
    confirmed_by: tuple[str, ...]
    required: int


def _kind_words(kind: str) -> str:
    known = {k.value: k for k in AlertKind}
    return KIND_WORDS.get(known[kind], kind) if kind in known else kind.replace("_", " ")


def _user_folder(request: Request, caller: Caller) -> Path:
    # Usernames are checked at creation, but a path part is only ever a hash of one.
    name = hashlib.sha256(caller.username.encode("utf-8")).hexdigest()[:32]
    return context_of(request).settings.effective_exports_dir / name


def _summary(request: Request, caller: Caller, alert_id: str) -> AlertSummary | str:
    """The alert to export, or why it cannot be (no such alert, camera outside the caller's limits)."""
    ctx = context_of(request)
    with ctx.db.read_session() as session:
        row = session.get(AlertRow, alert_id) if len(alert_id) <= ID_MAX else None
        if row is None or not caller.can(Permission.EXPORT, row.camera_id):
            return f"There is no alert {alert_id[:ID_MAX]!r} you may export."
        required = ctx.settings.governance.confirmations_required
        state = ConfirmationState(row.id, AlertStatus(row.status), decisions_of(session, row.id), required)
        kind, camera_id, at = str(row.kind), str(row.camera_id), row.ts
    names = {c.id: c.name for c in CameraStore(ctx.db).all()}
    return AlertSummary(
        alert_id,
        kind,
        _kind_words(kind),
        camera_id,
        names.get(camera_id, camera_id),
        at,
        kind == AlertKind.FACE_WATCHLIST.value,
        state.confirmed,
        state.confirmed_by,
        required,
    )


def _form_page(
    request: Request, caller: Caller, alert: AlertSummary | None, status: int = 200, **values: Any
) -> HTMLResponse:
    return render(
        request,
        "export.html",
        caller,
        status=status,
        alert=alert,
        form=values.pop("form", {}),
        min_reason=context_of(request).gate.min_reason_len,
        max_reason=AUDIT_ENTRY["justification"],
        max_recipients=AUDIT_ENTRY["recipients"],
        **values,
    )


@router.get("/exports/new")
def export_form(request: Request, alert: str = "") -> Response:
    caller = guard(request, Permission.EXPORT, action=AuditAction.EXPORT)
    if isinstance(caller, Response):
        return caller
    if not alert:
        return _form_page(
            request,
            caller,
            None,
            400,
            error="Choose the alert to export: open it from the alerts list or a search result and "
            "follow its “Export evidence” link.",
        )
    summary = _summary(request, caller, alert)
    if isinstance(summary, str):
        return _form_page(request, caller, None, 404, error=summary)
    return _form_page(request, caller, summary)


@router.post("/exports")
def export_post(
    request: Request,
    alert: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    recipients: Annotated[str, Form()] = "",
    unblurred: Annotated[str, Form()] = "",
) -> Response:
    from safecity.video.evidence import evidence_exporter

    caller = guard_post(request, Permission.EXPORT, action=AuditAction.EXPORT)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    form = {"reason": reason, "recipients": recipients, "unblurred": bool(unblurred)}
    summary = _summary(request, caller, alert)
    if isinstance(summary, str):
        return _form_page(request, caller, None, 404, error=summary)
    limits = {"reason": AUDIT_ENTRY["justification"], "recipients": AUDIT_ENTRY["recipients"]}
    for name, text in (("reason", reason), ("recipients", recipients)):
        if len(text) > limits[name]:
            return _form_page(
                request,
                caller,
                summary,
                413,
                form=form,
                error=f"The {name} is {len(text):,} characters long; at most {limits[name]:,} are kept. "
                "Nothing was exported.",
            )
    missing = []
    if len(reason.strip()) < ctx.gate.min_reason_len:
        missing.append(f"a reason of at least {ctx.gate.min_reason_len} characters (case, legal basis)")
    if not recipients.strip():
        missing.append("the recipients (authority, person)")
    if missing:
        return _form_page(
            request,
            caller,
            summary,
            400,
            form=form,
            error=f"An export needs {' and '.join(missing)}: both are recorded in the audit log. "
            "Nothing was exported.",
        )
    token = secrets.token_urlsafe(18)
    out = _user_folder(request, caller) / token
    exporter = evidence_exporter(ctx.settings, ctx.gate, ctx.media, ctx.recordings)
    try:
        result = exporter.export_alert(
            caller,
            summary.id,
            out,
            justification=reason,
            recipients=recipients,
            unblurred=bool(unblurred),
        )
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    except (ReasonRequired, ExportError, ConfirmationError) as exc:
        return _form_page(request, caller, summary, 409, form=form, error=f"Not exported: {exc}.")
    zip_name = f"{result.folder.name}.zip"
    result.write_zip(out / zip_name)
    package = Package(
        token,
        zip_name,
        result.manifest,
        result.audit_seq,
        result.audit_hash,
        result.unblurred,
        result.faces_blurred,
    )
    return render(request, "export_done.html", caller, alert=summary, package=package, sums=SUMS_FILE)


@router.get("/exports/{token}/{name}")
def export_download(token: str, name: str, request: Request) -> Response:
    """A package's ZIP, to the investigator who made it (`export`); others are refused and recorded."""
    caller = guard(request, Permission.EXPORT, action=AuditAction.EXPORT)
    if isinstance(caller, Response):
        return caller
    folder = _user_folder(request, caller) / token if TOKEN.match(token) else None
    path = folder / name if folder is not None and re.fullmatch(r"alert-[\w-]+\.zip", name) else None
    if path is None or not path.is_file():
        return error_page(
            request,
            caller,
            404,
            "Not found",
            "There is no evidence package of yours at this address: packages are downloaded by the "
            "investigator who exported them.",
        )
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return FileResponse(path, media_type="application/zip", headers=headers)
