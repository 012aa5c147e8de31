"""`safecity audit list | verify | export | head`: the hash-chained audit log.

`verify` checks the database's chain, or with `--file` an export, offline, with the same code a
data-protection authority would run; `head` prints the anchor (last sequence number and hash)
to publish, so that a later rewrite of the whole log can be told from the original.
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
from safecity.governance.access import AccessDenied
from safecity.governance.audit import (
    GENESIS,
    Anchor,
    AuditAction,
    AuditFileError,
    AuditLog,
    Verification,
    append_anchor,
    read_anchors,
    verify_file,
)
from safecity.governance.permissions import Permission

audit_app = command_group("The hash-chained audit log: list, verify, export, anchor.")


def _report(result: Verification, what: str, anchors: int = 0) -> None:
    if result.ok:
        out.print(f"OK: {what}: {result.entries} entries, chain intact; head {result.head_seq}:{result.head}")
        if anchors:
            out.print(
                f"passes through {result.anchors_checked} of {anchors} published anchors"
                + (
                    f" ({result.anchors_pruned} older than retention, not checkable)"
                    if result.anchors_pruned
                    else ""
                )
            )
        else:
            out.print(
                "no anchors to check: truncation or a rewrite of the whole log cannot be told without a "
                "published head (--anchor SEQ:HASH, or the anchor file)"
            )
        if result.anchored_at != GENESIS:
            out.print(
                f"entries older than retention were pruned; the chain starts after {result.anchored_at}"
            )
        return
    if result.by_anchor:
        fail(f"{what}: {result.problem}", code=1)
    if result.first_bad is not None:
        fail(f"{what}: entry {result.first_bad} {result.problem} (checked {result.entries})", code=1)
    fail(f"{what}: {result.problem}", code=1)


@audit_app.command("verify")
def audit_verify(
    file: Annotated[
        Path | None, typer.Option("--file", help="Verify an export instead of the database.")
    ] = None,
    anchor: Annotated[
        list[str] | None,
        typer.Option(
            "--anchor",
            metavar="SEQ:HASH",
            help="A head kept elsewhere (`audit head` prints one); the chain must pass it. Repeatable.",
        ),
    ] = None,
    anchor_file: Annotated[
        bool,
        typer.Option(
            "--anchor-file/--no-anchor-file", help="Also check every anchor in governance.anchor_path."
        ),
    ] = True,
) -> None:
    """Recompute every hash and check sequence numbers and published anchors; exit 1 naming the first
    entry that was edited, deleted, inserted or moved, or the anchor the log no longer passes through."""
    given: list[Anchor] = []
    for text in anchor or []:
        try:
            given.append(Anchor.parse(text, f"--anchor {text}"))
        except ValueError as exc:
            fail(str(exc))
    if file is not None:
        if not file.is_file():
            fail(f"{file}: no such file")
        try:
            result = verify_file(file)
        except AuditFileError as exc:
            fail(str(exc))
        _report(result, str(file))
        return
    s = settings()
    anchors = list(given)
    if anchor_file:
        try:
            anchors += read_anchors(s.effective_anchor_path)
        except AuditFileError as exc:
            fail(f"audit log: anchor file damaged: {exc}", code=1)
    _report(AuditLog(open_db(s, reading=True)).verify(anchors), "audit log", len(anchors))


@audit_app.command("export")
def audit_export(
    out_file: Annotated[Path, typer.Argument(metavar="FILE", help="JSON lines file to write.")],
    since: Annotated[str | None, typer.Option(help="Entries at or after, ISO 8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Entries before, ISO 8601 with offset.")] = None,
) -> None:
    """Write entries to a file that `safecity audit verify --file` checks offline."""
    n = AuditLog(open_db(reading=True)).export(
        out_file, aware_time("--since", since), aware_time("--until", until)
    )
    out.print(f"wrote {n} entries to {out_file}; verify with: safecity audit verify --file {out_file}")


@audit_app.command("head")
def audit_head(
    append: Annotated[
        bool, typer.Option("--append", help="Also append it to the anchor file (governance.anchor_path).")
    ] = False,
) -> None:
    """The anchor to publish: last sequence number and its hash (`serve` appends one daily)."""
    s = settings()
    log = AuditLog(open_db(s, reading=True))
    if append:
        seq, digest = append_anchor(log, s.effective_anchor_path)
    else:
        seq, digest = log.head()
    print(f"{seq} {digest}")


@audit_app.command("list")
def audit_list(
    action: Annotated[
        str | None, typer.Option(help="Only this action (search_plate, search_face, export, ...).")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Only entries of this user.")] = None,
    since: Annotated[str | None, typer.Option(help="Entries at or after, ISO 8601 with offset.")] = None,
    until: Annotated[str | None, typer.Option(help="Entries before, ISO 8601 with offset.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """The entries, oldest first: who did what, when, why, for whom; the reading is itself recorded."""
    s = settings()
    db = open_db(s, reading=True)
    start, end = aware_time("--since", since), aware_time("--until", until)
    filters = {"action": action, "user": user, "since": since, "until": until}
    try:
        with access_gate(db, s).read(
            cli_caller(db), AuditAction.VIEW_AUDIT, Permission.VIEW_AUDIT, details=filters
        ) as read:
            entries = AuditLog(db).entries(
                action, username=user, since=start, until=end, session=read.session
            )
            read.record([], entries=len(entries))
    except AccessDenied as exc:
        fail(str(exc), code=EXIT_DENIED)
    if as_json:
        for e in entries:
            row = {
                "seq": e.seq,
                "ts": e.ts.isoformat(),
                "user": e.username,
                "role": e.role,
                "action": e.action,
                "target": e.target,
                "justification": e.justification,
                "recipients": e.recipients,
                "details": dict(e.details),
                "hash": e.hash,
            }
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table(title=f"{len(entries)} audit entries")
    for col in ("seq", "time (UTC)", "user", "role", "action", "justification", "recipients", "target"):
        table.add_column(col)
    for e in entries:
        target = e.target if len(e.target) <= 40 else e.target[:37] + "..."
        table.add_row(
            str(e.seq), shown_time(e.ts), e.username, e.role, e.action, e.justification, e.recipients, target
        )
    out.print(table)
