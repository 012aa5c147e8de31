"""The append-only audit log: every entry carries the SHA-256 of the one before it.

An entry's hash covers its own fields and the previous entry's hash, so editing, deleting,
inserting or reordering an entry breaks every hash after it; `verify` names the first entry that
does not fit. This module records and verifies entries; which actions are recorded is decided
by the callers (face and plate searches, watchlist and authorisation changes). Entries are
written in the caller's transaction when one is given, so an action and its record commit or
fail together; on PostgreSQL an advisory lock serialises writers so the chain never forks.
Retention (governance/retention.py) may prune the oldest entries; the sweep's own
`retention_deletion` entry records the hash of the last pruned one, and `verify` accepts that
hash, and only that, as the start of what is left.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from safecity.store.database import Database
from safecity.store.models import AuditEntryRow, utcnow

GENESIS = "0" * 64
"""The `prev_hash` of the first entry."""
_PG_LOCK_KEY = 0x5AFEC17
"""Advisory lock id that serialises audit writers on PostgreSQL."""
PRUNED_HEAD_KEY = "audit_pruned_head"
"""Key in a `retention_deletion` entry's details: hash of the last entry that sweep pruned."""
PRUNED_THROUGH_KEY = "audit_pruned_through_seq"
"""Key in a `retention_deletion` entry's details: sequence number of the last entry that sweep pruned."""


class AuditAction(enum.StrEnum):
    SEARCH_PLATE = "search_plate"
    SEARCH_FACE = "search_face"
    WATCHLIST_CHANGE = "watchlist_change"
    AUTHORISATION_CHANGE = "authorisation_change"
    HOTLIST_CHANGE = "hotlist_change"
    RETENTION_DELETION = "retention_deletion"
    VIEW_SIGHTING = "view_sighting"
    """Alerts, sightings or plate reads shown to a person (not a search: no query)."""
    EXPORT = "export"
    """Evidence written out of the system: justification and recipients are mandatory."""
    FACE_MATCH = "face_match"
    """A watchlist match made by the system: the AI Act Art. 12(3) record of one use."""
    CONFIRM_MATCH = "confirm_match"
    REJECT_MATCH = "reject_match"
    ACKNOWLEDGE_ALERT = "acknowledge_alert"
    ACCESS_DENIED = "access_denied"
    VIEW_AUDIT = "view_audit"
    """The log itself read: it says who searched for whom, so reading it is recorded too."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    ts: datetime
    username: str
    role: str
    action: str
    target: str
    justification: str
    recipients: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Verification:
    entries: int
    head: str
    """Hash of the last entry: publish it to anchor the log."""
    first_bad: int | None
    """Sequence number of the first entry that does not fit the chain (None: the chain is whole)."""
    problem: str = ""
    anchored_at: str = GENESIS
    """The hash the oldest entry follows: GENESIS, or after retention pruned the oldest entries the
    hash of the last pruned one, as recorded by a later `retention_deletion` entry (compare it with
    a published head)."""

    @property
    def ok(self) -> bool:
        return self.first_bad is None and not self.problem


def entry_hash(
    prev_hash: str,
    ts: datetime,
    username: str,
    role: str,
    action: str,
    target: str,
    justification: str,
    recipients: str,
    details: Mapping[str, Any],
) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the entry's fields."""
    body = json.dumps(
        {
            "prev": prev_hash,
            "ts": ts.astimezone(UTC).isoformat(timespec="microseconds"),
            "user": username,
            "role": role,
            "action": action,
            "target": target,
            "justification": justification,
            "recipients": recipients,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        action: AuditAction | str,
        *,
        username: str,
        role: str,
        target: str = "",
        justification: str = "",
        recipients: str = "",
        details: Mapping[str, Any] | None = None,
        session: Session | None = None,
    ) -> AuditEntry:
        """Append an entry (in `session`'s transaction when given, else in its own)."""
        if session is not None:
            return self._append(
                session, str(action), username, role, target, justification, recipients, details
            )
        with self.db.session() as own:
            return self._append(own, str(action), username, role, target, justification, recipients, details)

    def _append(
        self,
        session: Session,
        action: str,
        username: str,
        role: str,
        target: str,
        justification: str,
        recipients: str,
        details: Mapping[str, Any] | None,
    ) -> AuditEntry:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        last = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq.desc()).limit(1)).first()
        prev = last.hash if last is not None else GENESIS
        ts = utcnow()
        # JSON round trip: what is hashed is exactly what the database will give back.
        clean = json.loads(json.dumps(dict(details or {}), default=str))
        digest = entry_hash(prev, ts, username, role, action, target, justification, recipients, clean)
        row = AuditEntryRow(
            ts=ts,
            username=username,
            role=role,
            action=action,
            target=target,
            justification=justification,
            recipients=recipients,
            details=clean,
            prev_hash=prev,
            hash=digest,
        )
        session.add(row)
        session.flush()
        return _entry(row)

    def entries(
        self,
        action: AuditAction | str | None = None,
        *,
        username: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        session: Session | None = None,
    ) -> list[AuditEntry]:
        """Entries oldest first, filtered by action, user and since <= ts < until."""
        query = select(AuditEntryRow).order_by(AuditEntryRow.seq)
        if action is not None:
            query = query.where(AuditEntryRow.action == str(action))
        if username is not None:
            query = query.where(AuditEntryRow.username == username)
        if since is not None:
            query = query.where(AuditEntryRow.ts >= since)
        if until is not None:
            query = query.where(AuditEntryRow.ts < until)
        if session is not None:
            return [_entry(r) for r in session.scalars(query)]
        with self.db.session() as own:
            return [_entry(r) for r in own.scalars(query)]

    def verify(self) -> Verification:
        """Recompute the whole chain; names the first entry that does not fit.

        The chain starts at the genesis hash, or, once a retention sweep has pruned the oldest
        entries, at the hash of the last pruned entry. That start is accepted only when an entry
        of the chain itself (action `retention_deletion`, whose own hash is checked like any
        other) records it as `audit_pruned_head`; deleting the first entries by hand is found.
        """
        with self.db.session() as session:
            first = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq).limit(1)).first()
            start = GENESIS
            if first is not None and first.prev_hash != GENESIS:
                if not self._pruned_head_recorded(session, first.prev_hash):
                    return Verification(
                        1,
                        GENESIS,
                        first.seq,
                        "does not follow the genesis hash or a recorded retention prune",
                    )
                start = first.prev_hash
            rows = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq))
            return verify_chain((_entry(r) for r in rows), start)

    @staticmethod
    def _pruned_head_recorded(session: Session, head: str) -> bool:
        """Whether a `retention_deletion` entry records `head` as the hash of the last entry it pruned."""
        records = session.scalars(
            select(AuditEntryRow.details).where(AuditEntryRow.action == AuditAction.RETENTION_DELETION.value)
        )
        return any(isinstance(d, dict) and d.get(PRUNED_HEAD_KEY) == head for d in records)

    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the last entry: the anchor to publish; (0, GENESIS) when empty."""
        with self.db.session() as session:
            last = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq.desc()).limit(1)).first()
            return (last.seq, last.hash) if last is not None else (0, GENESIS)

    def export(self, path: Path, since: datetime | None = None, until: datetime | None = None) -> int:
        """Write the entries with since <= ts < until as a file `verify_file` checks offline.

        The file is JSON lines: a header with the range, the hash the first entry must follow and
        the database's head hash at export time, then one entry per line with every hashed field,
        so a data-protection authority can recompute each hash without access to the system.
        """
        query = select(AuditEntryRow).order_by(AuditEntryRow.seq)
        if since is not None:
            query = query.where(AuditEntryRow.ts >= since)
        if until is not None:
            query = query.where(AuditEntryRow.ts < until)
        with self.db.session() as session:
            entries = [_entry(r) for r in session.scalars(query)]
        seq, head_hash = self.head()
        header = {
            "format": EXPORT_FORMAT,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "exported_at": utcnow().isoformat(),
            "entries": len(entries),
            "first_prev_hash": entries[0].prev_hash if entries else None,
            "head_seq": seq,
            "head_hash": head_hash,
        }
        lines = [json.dumps(header, sort_keys=True)]
        lines += [json.dumps(_entry_json(e), sort_keys=True, ensure_ascii=False) for e in entries]
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return len(entries)


EXPORT_FORMAT = "safecity-audit/1"


def append_anchor(log: AuditLog, path: Path) -> tuple[int, str]:
    """Append the head (time, sequence number, hash) as one JSON line to `path`; returns the head.

    Published anchors (a newspaper notice, a public repository, the authority's inbox) make a
    rewrite of the whole log detectable: the rewritten chain would not pass through them.
    """
    seq, digest = log.head()
    line = json.dumps({"time": utcnow().isoformat(), "seq": seq, "hash": digest}, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
    return seq, digest


class AuditFileError(ValueError):
    """An export file that cannot be read as one (wrong format, broken line); names file and line."""


def verify_chain(entries: Iterable[AuditEntry], prev: str) -> Verification:
    start = prev
    count = 0
    for e in entries:
        count += 1
        if e.prev_hash != prev:
            return Verification(count, prev, e.seq, "does not follow the entry before it", start)
        expected = entry_hash(
            prev, e.ts, e.username, e.role, e.action, e.target, e.justification, e.recipients, e.details
        )
        if e.hash != expected:
            return Verification(count, prev, e.seq, "its fields do not match its hash", start)
        prev = e.hash
    return Verification(count, prev, None, anchored_at=start)


def verify_file(path: Path) -> Verification:
    """Check an export offline: every entry's hash, and that each follows the one before it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise AuditFileError(f"{path}: empty file")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError as exc:
        raise AuditFileError(f"{path}:1: not a JSON header: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        raise AuditFileError(f"{path}:1: not a safecity audit export (format {EXPORT_FORMAT})")
    entries = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            data = json.loads(line)
            entries.append(
                AuditEntry(
                    seq=int(data["seq"]),
                    ts=datetime.fromisoformat(data["ts"]),
                    username=data["user"],
                    role=data["role"],
                    action=data["action"],
                    target=data["target"],
                    justification=data["justification"],
                    recipients=data["recipients"],
                    details=data["details"],
                    prev_hash=data["prev_hash"],
                    hash=data["hash"],
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise AuditFileError(f"{path}:{number}: not an audit entry: {exc}") from exc
    if len(entries) != header.get("entries"):
        return Verification(
            len(entries), "", None, f"header says {header.get('entries')} entries, file has {len(entries)}"
        )
    start = header.get("first_prev_hash") or GENESIS
    return verify_chain(entries, start)


def _entry_json(e: AuditEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "ts": e.ts.astimezone(UTC).isoformat(timespec="microseconds"),
        "user": e.username,
        "role": e.role,
        "action": e.action,
        "target": e.target,
        "justification": e.justification,
        "recipients": e.recipients,
        "details": dict(e.details),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def _entry(row: AuditEntryRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        ts=row.ts,
        username=row.username,
        role=row.role,
        action=row.action,
        target=row.target,
        justification=row.justification,
        recipients=row.recipients,
        details=dict(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
