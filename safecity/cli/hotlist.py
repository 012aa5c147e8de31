"""`safecity hotlist add | list | remove`: plates and patterns that raise an alert whenever a camera
reads them. Every change is recorded in the audit log; listing goes through the access gate."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from safecity.cli.common import (
    aware_time,
    command_group,
    fail,
    gated_read,
    open_db,
    out,
    settings,
    shown_time,
    user_or_os_user,
)
from safecity.governance import list_changes
from safecity.governance.access import ReasonRequired, check_reason
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor
from safecity.store.hotlists import HotlistError, HotlistStore
from safecity.store.models import utcnow


def _actor() -> Actor:
    return Actor(user_or_os_user(None), "cli")  # as `cli.common.audit` names the console


hotlist_app = command_group(
    "Plate hotlists: plates and patterns that raise an alert whenever a camera reads them."
)


@hotlist_app.command("add")
def hotlist_add(
    plate: Annotated[
        str,
        typer.Argument(
            metavar="PLATE_OR_PATTERN", help="Plate (BG 123-AB) or pattern: * any run, ? one character."
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why the plate is wanted; shown with every alert.")],
    owner: Annotated[str, typer.Option(help="Who answers for the entry (person or unit).")],
    expires: Annotated[
        str | None,
        typer.Option(help="When the entry lapses, ISO 8601 with offset (2026-04-01T00:00:00+02:00)."),
    ] = None,
    days: Annotated[int | None, typer.Option(help="Lapse after this many days.")] = None,
) -> None:
    """Put a plate or pattern on the hotlist (default expiry: hotlists.default_expiry_days)."""
    s = settings()
    if expires is not None and days is not None:
        fail("give --expires or --days, not both")
    if days is not None and days < 1:
        fail(f"--days must be at least 1, got {days}")
    try:
        check_reason(reason, s.governance.min_reason_len, "a hotlist entry")
    except ReasonRequired as exc:
        fail(f"--reason: {exc}")
    expires_at = aware_time("--expires", expires)
    db = open_db(s)
    try:
        entry = list_changes.add_hotlist_entry(
            db, s, _actor(), plate, reason=reason, owner=owner, expires_at=expires_at, days=days
        )
    except HotlistError as exc:
        fail(str(exc))
    kind = "pattern" if entry.is_pattern else "plate"
    out.print(f"hotlisted {kind} {entry.plate} as {entry.id}, expires {shown_time(entry.expires_at)}")


def _hotlist_status(active: bool, in_force: bool) -> str:
    if not active:
        return "removed"
    return "active" if in_force else "expired"


@hotlist_app.command("list")
def hotlist_list(
    show_all: Annotated[bool, typer.Option("--all", help="Also expired and removed entries.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List the hotlist entries in force (with --all: every entry ever added)."""
    s = settings()
    db = open_db(s, reading=True)
    store = HotlistStore(db, s.hotlists)
    now = utcnow()
    with gated_read(db, s, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as read:
        entries = store.all() if show_all else store.in_force(now)
        read.record([e.id for e in entries], what="hotlist", all=show_all)
    if as_json:
        for e in entries:
            row = {
                "id": e.id,
                "plate": e.plate,
                "pattern": e.is_pattern,
                "reason": e.reason,
                "owner": e.owner,
                "created_at": e.created_at.isoformat(),
                "expires_at": None if e.expires_at is None else e.expires_at.isoformat(),
                "removed_at": None if e.removed_at is None else e.removed_at.isoformat(),
                "status": _hotlist_status(e.active, e.in_force(now)),
            }
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title=f"{len(entries)} hotlist entr{'y' if len(entries) == 1 else 'ies'}")
    table.add_column("id", no_wrap=True)
    for col in ("plate", "reason", "owner", "created (UTC)", "expires (UTC)", "status"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            e.id,
            e.plate,
            e.reason,
            e.owner,
            shown_time(e.created_at),
            shown_time(e.expires_at),
            _hotlist_status(e.active, e.in_force(now)),
        )
    out.print(table)


@hotlist_app.command("remove")
def hotlist_remove(
    entry_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why it comes off (kept in the audit log).")] = "",
) -> None:
    """Take an entry off the hotlist: it stops matching at once and stays on record for its alerts."""
    s = settings()
    db = open_db(s)
    try:
        entry = list_changes.remove_hotlist_entry(db, s, _actor(), entry_id, reason=reason)
    except HotlistError as exc:
        fail(str(exc))
    out.print(f"removed hotlist entry {entry.id} ({entry.plate})")
