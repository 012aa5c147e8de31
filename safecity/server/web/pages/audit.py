"""The audit log: its pages, the chain check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from safecity.governance.access import AccessDenied, Caller
from safecity.governance.audit import AuditAction, AuditLog, Verification
from safecity.governance.permissions import Permission
from safecity.server.web.common import (
    AUDIT_SHOWN,
    context_of,
    forbidden,
    guard,
    guard_post,
    parse_time,
    render,
)

router = APIRouter(include_in_schema=False)


def _audit_page(request: Request, caller: Caller, verification: Verification | None = None) -> Response:
    ctx = context_of(request)
    q = request.query_params
    form = {k: q.get(k, "") for k in ("action", "user", "since", "until")}
    try:
        since, until = parse_time("since", form["since"]), parse_time("until", form["until"])
    except ValueError as exc:
        return render(
            request, "audit.html", caller, status=400, form=form, entries=[], error=str(exc),
            actions=[a.value for a in AuditAction], verification=verification,
        )  # fmt: skip
    try:
        with ctx.gate.read(
            caller,
            AuditAction.VIEW_AUDIT,
            Permission.VIEW_AUDIT,
            details={"filters": {k: v for k, v in form.items() if v}},
        ) as read:
            entries = AuditLog(ctx.db).entries(
                form["action"] or None,
                username=form["user"] or None,
                since=since,
                until=until,
                session=read.session,
            )
            total = len(entries)
            shown = entries[::-1][:AUDIT_SHOWN]
            read.record([str(e.seq) for e in shown])
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    return render(
        request,
        "audit.html",
        caller,
        form=form,
        entries=shown,
        total=total,
        actions=[a.value for a in AuditAction],
        verification=verification,
        own_seq=read.entry.seq if read.entry else None,
    )


@router.get("/audit")
def audit(request: Request) -> Response:
    caller = guard(request, Permission.VIEW_AUDIT, action=AuditAction.VIEW_AUDIT)
    if isinstance(caller, Response):
        return caller
    return _audit_page(request, caller)


@router.post("/audit/verify")
def audit_verify(request: Request) -> Response:
    """Recompute the whole hash chain and show the result above the log."""
    caller = guard_post(request, Permission.VIEW_AUDIT, action=AuditAction.VIEW_AUDIT)
    if isinstance(caller, Response):
        return caller
    return _audit_page(request, caller, AuditLog(context_of(request).db).verify())
