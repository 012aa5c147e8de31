"""The audit log's page: entries newest first in pages, each in words (what was asked, why, how many
results), the chain check whose last result stays on the page, and the export an authority verifies
offline.

The chain check is itself an audit entry (a `view_audit` entry whose details say `verify chain` and
the outcome), and the page shows the newest such entry: the result stays while the auditor filters
and pages, every auditor sees when the chain was last checked and by whom, and nothing in the URL
can make a broken chain look intact. The export is the file `AuditLog.export` writes (the function
behind `safecity audit export`), checked offline by `safecity audit verify --file`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from safecity.governance.access import AccessDenied, AccessGate, Caller
from safecity.governance.audit import (
    AuditAction,
    AuditEntry,
    AuditFileError,
    AuditLog,
    Verification,
    read_anchors,
)
from safecity.governance.permissions import Permission
from safecity.server.web.common import (
    SECURITY_HEADERS,
    context_of,
    forbidden,
    guard,
    guard_post,
    parse_time,
    render,
)
from safecity.store.database import Database
from safecity.store.models import AuditEntryRow, utcnow

router = APIRouter(include_in_schema=False)

VERIFY_WHAT = "verify chain"
"""`details.what` of the entry a chain check writes (the page finds the last check by it)."""
EXPORT_WHAT = "audit export"
"""`details.what` of the entry an export writes (as the API's export does)."""
EXPORT_MEDIA_TYPE = "application/x-ndjson"
FILTER_KEYS = ("action", "user", "since", "until")
IDS_SHOWN = 50
"""Result ids listed at most under an entry (on demand); the count is always exact."""
HASH_SHOWN = 16
"""Leading hex digits of a hash shown in a sentence (the whole hash is in the tooltip)."""


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What the auditor asked the page for; every field as typed, checked by `parse`."""

    action: str = ""
    user: str = ""
    since: str = ""
    until: str = ""
    page: int = 1

    @staticmethod
    def parse(query: Mapping[str, str]) -> AuditFilters:
        """The filters of a query string; ValueError (in words) for an unknown action, a time that is
        not one, or a page that is not a positive number."""
        action = query.get("action", "").strip()
        if action and action not in {a.value for a in AuditAction}:
            raise ValueError(f"action: {action!r} is not an audit action")
        page_text = query.get("page", "").strip() or "1"
        if not page_text.isdigit() or int(page_text) < 1:
            raise ValueError(f"page: {page_text!r} is not a page number (1, 2, ...)")
        filters = AuditFilters(
            action,
            query.get("user", "").strip(),
            query.get("since", "").strip(),
            query.get("until", "").strip(),
            int(page_text),
        )
        filters.times()  # raises for a malformed time
        return filters

    def times(self) -> tuple[datetime | None, datetime | None]:
        return parse_time("since", self.since), parse_time("until", self.until)

    def given(self) -> dict[str, str]:
        """The filters that are set (the page number apart)."""
        return {k: getattr(self, k) for k in FILTER_KEYS if getattr(self, k)}

    def query(self, page: int | None = None) -> str:
        """The query string of these filters on `page` (default: this page; page 1 is left out)."""
        values = self.given()
        number = self.page if page is None else page
        if number > 1:
            values["page"] = str(number)
        return urlencode(values)


@dataclass(frozen=True, slots=True)
class EntryWords:
    """One entry as the page says it."""

    asked: str
    """What was asked or done, in words (the plate pattern, the filters, the change)."""
    photo_sha256: str | None
    """The SHA-256 of a searched or matched photo (shown shortened, whole in the tooltip)."""
    outcome: str
    """How many results, or what came of it."""
    ids: tuple[str, ...]
    """Ids of what was read (shown on demand, at most `IDS_SHOWN`)."""


@dataclass(frozen=True, slots=True)
class LastCheck:
    """The newest chain check recorded in the log."""

    seq: int
    at: datetime
    username: str
    intact: bool
    entries: int
    head_seq: int
    head: str
    problem: str
    written_since: int
    """Entries recorded after the check (each page view adds one): not covered by it."""


def _period(details: Mapping[str, Any]) -> str:
    since, until = details.get("since"), details.get("until")
    if since and until:
        return f" from {since} to {until}"
    if since:
        return f" since {since}"
    if until:
        return f" until {until}"
    return ""


def _cameras(details: Mapping[str, Any]) -> str:
    cameras = details.get("cameras")
    if not cameras or cameras == "all":
        return " on every camera the user may see"
    if isinstance(cameras, list):
        return " on " + ", ".join(str(c) for c in cameras)
    return f" on {cameras}"


def _results(details: Mapping[str, Any], noun: str, nouns: str = "") -> str:
    count = details.get("results")
    if not isinstance(count, int):
        return ""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def _filters_words(filters: Any) -> str:
    if not isinstance(filters, Mapping) or not any(filters.values()):
        return "Read the audit log (no filter)"
    given = ", ".join(f"{k} {v}" for k, v in filters.items() if v)
    return f"Read the audit log filtered by {given}"


def _generic(details: Mapping[str, Any]) -> str:
    skip = {"started_at", "ended_at", "results", "cameras"}
    parts = [f"{k}: {v}" for k, v in sorted(details.items()) if k not in skip and v not in (None, "", [])]
    return "; ".join(parts)


def describe(entry: AuditEntry) -> EntryWords:
    """What an entry records, in words: the query and filters rather than the ids it returned."""
    d = entry.details
    action = entry.action
    ids = tuple(t for t in entry.target.split(",") if t) if "results" in d else ()
    if action == AuditAction.SEARCH_PLATE:
        mode = f", {d['mode']} match" if d.get("mode") else ""
        asked = f"Plate search for “{d.get('query', '?')}”{mode}{_cameras(d)}{_period(d)}"
        return EntryWords(asked, None, _results(d, "plate read"), ids)
    if action == AuditAction.SEARCH_FACE:
        asked = f"Face search with a photo, the {d.get('k', '?')} nearest{_cameras(d)}{_period(d)}"
        return EntryWords(asked, d.get("input_sha256"), _results(d, "sighting"), ids)
    if action == AuditAction.VIEW_AUDIT:
        what = d.get("what")
        if what == VERIFY_WHAT:
            check = d.get("verification", {})
            state = "intact" if check.get("intact") else f"BROKEN at entry #{check.get('first_bad')}"
            return EntryWords("Verified the hash chain", None, f"{state}, {check.get('entries')} entries", ())
        if what == EXPORT_WHAT:
            period = _period(d) or " (every entry)"
            return EntryWords(
                f"Exported the log for offline verification{period}", None, f"{d.get('entries')} entries", ()
            )
        return EntryWords(
            _filters_words(d.get("filters", d)), None, _results(d, "entry", "entries") + " shown", ids
        )
    if action == AuditAction.EXPORT:
        faces = "faces NOT blurred" if d.get("unblurred") else "faces blurred"
        return EntryWords(f"Exported the evidence of alert {entry.target} ({faces})", None, "", ())
    if action == AuditAction.HOTLIST_CHANGE:
        owner = f" (owner {d['owner']})" if d.get("owner") else ""
        return EntryWords(
            f"Hotlist: {d.get('change', 'changed')} {d.get('plate', entry.target)}{owner}", None, "", ()
        )
    if action == AuditAction.WATCHLIST_CHANGE:
        change = d.get("change")
        if change == "created":
            return EntryWords(f"Face watchlist “{d.get('name')}” created", None, "", ())
        if change == "enrolled":
            return EntryWords(f"Enrolled “{d.get('label')}” from {d.get('photos')} photo(s)", None, "", ())
        return EntryWords(f"Face watchlist {change or 'changed'}: {_generic(d)}", None, "", ())
    if action == AuditAction.AUTHORISATION_CHANGE:
        if d.get("change") == "created":
            cameras = ", ".join(d.get("cameras") or []) or "no camera"
            return EntryWords(f"Authorisation recorded: {d.get('purpose')} on {cameras}", None, "", ())
        return EntryWords(
            f"Authorisation {d.get('reference', entry.target)}: {d.get('change')}", None, "", ()
        )
    if action == AuditAction.ACCESS_DENIED:
        return EntryWords(f"Refused: {entry.target}", None, str(d.get("why", "")), ())
    if action == AuditAction.FACE_MATCH:
        asked = (
            f"System match on {d.get('camera_id')} against watchlist {d.get('watchlist_id')} under "
            f"{d.get('authorisation_reference')}: distance {d.get('distance')} "
            f"(threshold {d.get('threshold')})"
        )
        return EntryWords(asked, d.get("input_sha256"), "", ())
    if action in (AuditAction.CONFIRM_MATCH, AuditAction.REJECT_MATCH, AuditAction.ACKNOWLEDGE_ALERT):
        verb = {"confirm_match": "Confirmed", "reject_match": "Rejected", "acknowledge_alert": "Acknowledged"}
        return EntryWords(f"{verb[action]} alert {entry.target}", None, _generic(d), ())
    if action == AuditAction.VIEW_SIGHTING:
        return EntryWords(f"Viewed {d.get('what', 'sightings')}{_cameras(d)}", None, _results(d, "item"), ids)
    if action == AuditAction.VIEW_VIDEO:
        return EntryWords(f"Watched {d.get('video', '')} video{_cameras(d)}".replace("  ", " "), None, "", ())
    if action == AuditAction.RETENTION_DELETION:
        deleted = d.get("deleted") or {}
        count = sum(sum(v.values()) for v in deleted.values() if isinstance(v, Mapping))
        return EntryWords("Retention sweep", None, f"{count} records deleted", ())
    return EntryWords(f"{action.replace('_', ' ')} {entry.target}".strip(), None, _generic(d), ())


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    since, until = filters.times()
    conditions: list[ColumnElement[bool]] = []
    if filters.action:
        conditions.append(AuditEntryRow.action == filters.action)
    if filters.user:
        conditions.append(AuditEntryRow.username == filters.user)
    if since is not None:
        conditions.append(AuditEntryRow.ts >= since)
    if until is not None:
        conditions.append(AuditEntryRow.ts < until)
    return conditions


def _as_entry(row: AuditEntryRow) -> AuditEntry:
    return AuditEntry(
        row.seq, row.ts, row.username, row.role, row.action, row.target, row.justification,
        row.recipients, dict(row.details), row.prev_hash, row.hash,
    )  # fmt: skip


def page_of(session: Session, filters: AuditFilters, size: int) -> tuple[list[AuditEntry], int, int]:
    """One page of the matching entries, newest first: (entries, matching in all, the page shown);
    a page past the last shows the last."""
    conditions = _conditions(filters)
    total = int(session.scalar(select(func.count()).select_from(AuditEntryRow).where(*conditions)) or 0)
    last_page = max(1, -(-total // size))
    page = min(filters.page, last_page)
    rows = session.scalars(
        select(AuditEntryRow)
        .where(*conditions)
        .order_by(AuditEntryRow.seq.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    return [_as_entry(r) for r in rows], total, page


def last_check(session: Session) -> LastCheck | None:
    """The newest chain check recorded in the log, and how many entries were written after it."""
    row = session.scalars(
        select(AuditEntryRow)
        .where(AuditEntryRow.action == AuditAction.VIEW_AUDIT.value)
        .where(AuditEntryRow.details["what"].as_string() == VERIFY_WHAT)
        .order_by(AuditEntryRow.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    check = row.details.get("verification", {})
    newest = int(session.scalar(select(func.max(AuditEntryRow.seq))) or row.seq)
    return LastCheck(
        row.seq, row.ts, row.username, bool(check.get("intact")), int(check.get("entries", 0)),
        int(check.get("head_seq", 0)), str(check.get("head", "")), str(check.get("problem", "")),
        newest - row.seq,
    )  # fmt: skip


def _page(
    request: Request, caller: Caller, filters: AuditFilters | None, error: str = "", status: int = 200
) -> Response:
    ctx = context_of(request)
    q = request.query_params
    form = filters or AuditFilters(
        q.get("action", ""), q.get("user", ""), q.get("since", ""), q.get("until", "")
    )
    actions = [a.value for a in AuditAction]
    common = {"form": form, "actions": actions, "ids_shown": IDS_SHOWN, "hash_shown": HASH_SHOWN}
    if filters is None:
        return render(request, "audit.html", caller, status=status, entries=[], error=error, **common)
    size = ctx.settings.api.audit_page_size
    try:
        with ctx.gate.read(
            caller, AuditAction.VIEW_AUDIT, Permission.VIEW_AUDIT, details={"filters": filters.given()}
        ) as read:
            entries, total, page = page_of(read.session, filters, size)
            check = last_check(read.session)
            read.record([str(e.seq) for e in entries], page=page)
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    shown = AuditFilters(form.action, form.user, form.since, form.until, page)
    last_page = max(1, -(-total // size))
    return render(
        request,
        "audit.html",
        caller,
        form=shown,
        actions=actions,
        ids_shown=IDS_SHOWN,
        hash_shown=HASH_SHOWN,
        rows=[(e, describe(e)) for e in entries],
        entries=entries,
        total=total,
        page=page,
        last_page=last_page,
        first_shown=(page - 1) * size + 1 if entries else 0,
        last_shown=(page - 1) * size + len(entries),
        previous_query=shown.query(page - 1) if page > 1 else None,
        next_query=shown.query(page + 1) if page < last_page else None,
        filter_query=shown.query(1),
        here_query=shown.query(),
        check=check,
        own_seq=read.entry.seq if read.entry else None,
        export_query=urlencode({k: v for k, v in (("since", form.since), ("until", form.until)) if v}),
        error=error,
    )


@router.get("/audit")
def audit(request: Request) -> Response:
    caller = guard(request, Permission.VIEW_AUDIT, action=AuditAction.VIEW_AUDIT)
    if isinstance(caller, Response):
        return caller
    try:
        filters = AuditFilters.parse(request.query_params)
    except ValueError as exc:
        return _page(request, caller, None, str(exc), 400)
    return _page(request, caller, filters)


def verify_recorded(db: Database, gate: AccessGate, caller: Caller, anchor_path: Path) -> Verification:
    """Recompute the chain (through every published anchor in `anchor_path`) and record the check
    and its outcome as an audit entry, the one the page shows as the last check."""
    with gate.read(
        caller, AuditAction.VIEW_AUDIT, Permission.VIEW_AUDIT, details={"what": VERIFY_WHAT}
    ) as read:
        try:
            result = AuditLog(db).verify(read_anchors(anchor_path))
        except AuditFileError as exc:
            result = Verification(0, "", None, f"the anchor file is damaged: {exc}")
        read.record(
            [],
            verification={
                "intact": result.ok,
                "entries": result.entries,
                "head_seq": result.head_seq,
                "head": result.head,
                "first_bad": result.first_bad,
                "problem": result.problem,
                "anchors_checked": result.anchors_checked,
            },
        )
    return result


@router.post("/audit/verify")
def audit_verify(request: Request) -> Response:
    """Recompute the whole hash chain, record the check, and go back to the page the auditor was on."""
    caller = guard_post(request, Permission.VIEW_AUDIT, action=AuditAction.VIEW_AUDIT)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    try:
        verify_recorded(ctx.db, ctx.gate, caller, ctx.settings.effective_anchor_path)
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    # The form carries the page's filters; malformed ones are dropped rather than kept.
    try:
        back = AuditFilters.parse(request.query_params).query()
    except ValueError:
        back = ""
    location = "/audit" + (f"?{back}" if back else "") + "#last-check"
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


def export_file(
    db: Database, gate: AccessGate, caller: Caller, since: datetime | None, until: datetime | None
) -> tuple[bytes, int]:
    """The export `safecity audit export` writes (`AuditLog.export`), as bytes, recorded as read."""
    details = {
        "what": EXPORT_WHAT,
        "since": None if since is None else since.isoformat(),
        "until": None if until is None else until.isoformat(),
    }
    with gate.read(caller, AuditAction.VIEW_AUDIT, Permission.VIEW_AUDIT, details=details) as read:
        with tempfile.TemporaryDirectory(prefix="safecity-audit-") as tmp:
            path = Path(tmp) / "audit.jsonl"
            count = AuditLog(db).export(path, since, until)
            body = path.read_bytes()
        read.record([], entries=count)
    return body, count


def export_name(at: datetime) -> str:
    return f"safecity-audit-{at:%Y%m%dT%H%M%SZ}.jsonl"


@router.get("/audit/export")
def audit_export(request: Request) -> Response:
    """Download the log (all of it, or a time range) as the file `safecity audit verify --file` checks."""
    caller = guard(request, Permission.VIEW_AUDIT, action=AuditAction.VIEW_AUDIT)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    try:
        since = parse_time("since", request.query_params.get("since", ""))
        until = parse_time("until", request.query_params.get("until", ""))
    except ValueError as exc:
        return _page(request, caller, None, str(exc), 400)
    try:
        body, _ = export_file(ctx.db, ctx.gate, caller, since, until)
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{export_name(utcnow())}"'}
    return Response(body, media_type=EXPORT_MEDIA_TYPE, headers=headers)
