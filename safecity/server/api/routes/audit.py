"""The hash-chained audit log over HTTP: list (recorded), verify, head, and the export file.

Auditors and admins (view_audit) do what `safecity audit list|verify|head|export` do. The log
says who searched for whom, so listing it and downloading an export pass the access gate and
are recorded themselves; verifying and reading the head touch only hashes and counts.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Permission
from safecity.server.api.routes.cameras import require
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut, Page, page_of
from safecity.server.problems import BadRequest
from safecity.server.security import Context, CurrentCaller
from safecity.server.security import require as require_permission
from safecity.store.models import AuditEntryRow, utcnow

router = APIRouter(
    dependencies=[require_permission(Permission.VIEW_AUDIT)],
    prefix="/audit",
    tags=["audit"],
    responses=PROBLEM_RESPONSES,
)
NDJSON = "application/x-ndjson"


class AuditEntryOut(DomainOut):
    seq: int
    ts: datetime
    user: str = Field(validation_alias="username")
    role: str
    action: str
    target: str
    justification: str
    recipients: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerificationOut(DomainOut):
    ok: bool
    entries: int
    head: str = Field(description="Hash of the last entry checked.")
    first_bad: int | None = Field(description="Sequence number of the first entry that does not fit.")
    problem: str
    anchored_at: str = Field(description="The hash the oldest entry follows (genesis, or a recorded prune).")


class HeadOut(BaseModel):
    seq: int
    hash: str


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise BadRequest(
            f"{name} {value.isoformat()} has no UTC offset; write e.g. {value.isoformat()}+01:00"
        )
    return value


def _range(since: datetime | None, until: datetime | None) -> tuple[datetime | None, datetime | None]:
    return _aware("since", since), _aware("until", until)


@router.get("", response_model=Page[AuditEntryOut])
def list_audit(
    ctx: Context,
    caller: CurrentCaller,
    action: Annotated[str | None, Query(max_length=40, description="Only this action.")] = None,
    user: Annotated[str | None, Query(max_length=100, description="Only entries of this user.")] = None,
    since: Annotated[
        datetime | None, Query(description="Entries at or after (ISO 8601 with offset).")
    ] = None,
    until: Annotated[datetime | None, Query(description="Entries before (ISO 8601 with offset).")] = None,
    limit: Annotated[
        int | None, Query(ge=1, description="Entries per page (default api.page_default).")
    ] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AuditEntryOut]:
    """Entries oldest first, filtered (view_audit); the reading itself is recorded as view_audit."""
    start, end = _range(since, until)
    size = min(limit or ctx.settings.api.page_default, ctx.settings.api.page_max)
    filters = {
        "action": action,
        "user": user,
        "since": None if start is None else start.isoformat(),
        "until": None if end is None else end.isoformat(),
        "offset": offset,
    }
    query = select(AuditEntryRow).order_by(AuditEntryRow.seq)
    if action is not None:
        query = query.where(AuditEntryRow.action == action)
    if user is not None:
        query = query.where(AuditEntryRow.username == user)
    if start is not None:
        query = query.where(AuditEntryRow.ts >= start)
    if end is not None:
        query = query.where(AuditEntryRow.ts < end)
    with ctx.gate.read(caller, AuditAction.VIEW_AUDIT, Permission.VIEW_AUDIT, details=filters) as read:
        rows = list(read.session.scalars(query.offset(offset).limit(size + 1)))
        items = [AuditEntryOut.of(r, details=dict(r.details or {})) for r in rows]
        read.record([], entries=min(len(items), size))
    return page_of(items, size, offset)


@router.get("/verify", response_model=VerificationOut)
def verify_audit(ctx: Context, caller: CurrentCaller) -> VerificationOut:
    """Recompute every hash (view_audit); names the first entry that was edited, deleted or moved."""
    require(ctx, caller, Permission.VIEW_AUDIT, "verify the audit log")
    result = AuditLog(ctx.db).verify()
    return VerificationOut.of(result)


@router.get("/head", response_model=HeadOut)
def audit_head(ctx: Context, caller: CurrentCaller) -> HeadOut:
    """The anchor to publish: the last sequence number and its hash (view_audit)."""
    require(ctx, caller, Permission.VIEW_AUDIT, "read the audit head")
    seq, digest = AuditLog(ctx.db).head()
    return HeadOut(seq=seq, hash=digest)


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {"content": {NDJSON: {}}, "description": "The export, JSON lines (a header, then entries)"}
    },
)
def export_audit(
    ctx: Context,
    caller: CurrentCaller,
    since: Annotated[
        datetime | None, Query(description="Entries at or after (ISO 8601 with offset).")
    ] = None,
    until: Annotated[datetime | None, Query(description="Entries before (ISO 8601 with offset).")] = None,
) -> Response:
    """The file `safecity audit verify --file` checks offline (view_audit; the download is recorded)."""
    start, end = _range(since, until)
    details = {
        "what": "audit export",
        "since": None if start is None else start.isoformat(),
        "until": None if end is None else end.isoformat(),
    }
    with ctx.gate.read(caller, AuditAction.VIEW_AUDIT, Permission.VIEW_AUDIT, details=details) as read:
        with tempfile.TemporaryDirectory(prefix="safecity-audit-") as tmp:
            path = Path(tmp) / "audit.jsonl"
            count = AuditLog(ctx.db).export(path, start, end)
            body = path.read_bytes()
        read.record([], entries=count)
    name = f"safecity-audit-{utcnow():%Y%m%dT%H%M%SZ}.jsonl"
    return Response(
        body, media_type=NDJSON, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
