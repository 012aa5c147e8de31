"""The append-only audit log: every entry carries the SHA-256 of the one before it.

An entry's hash covers its own fields and the previous entry's hash, so editing, deleting,
inserting or reordering an entry breaks every hash after it; `verify` names the first entry that
does not fit. This module records and verifies entries; which actions are recorded is decided
by the callers (face and plate searches, watchlist and authorisation changes). Entries are
written in the caller's transaction when one is given, so an action and its record commit or
fail together; on PostgreSQL an advisory lock serialises writers so the chain never forks.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from safecity.store.database import Database
from safecity.store.models import AuditEntryRow, utcnow

GENESIS = "0" * 64
"""The `prev_hash` of the first entry."""
_PG_LOCK_KEY = 0x5AFEC17
"""Advisory lock id that serialises audit writers on PostgreSQL."""


class AuditAction(enum.StrEnum):
    SEARCH_PLATE = "search_plate"
    SEARCH_FACE = "search_face"
    WATCHLIST_CHANGE = "watchlist_change"
    AUTHORISATION_CHANGE = "authorisation_change"
    HOTLIST_CHANGE = "hotlist_change"


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

    @property
    def ok(self) -> bool:
        return self.first_bad is None


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

    def entries(self, action: AuditAction | str | None = None) -> list[AuditEntry]:
        query = select(AuditEntryRow).order_by(AuditEntryRow.seq)
        if action is not None:
            query = query.where(AuditEntryRow.action == str(action))
        with self.db.session() as session:
            return [_entry(r) for r in session.scalars(query)]

    def verify(self) -> Verification:
        prev = GENESIS
        count = 0
        with self.db.session() as session:
            for row in session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq)):
                count += 1
                if row.prev_hash != prev:
                    return Verification(count, prev, row.seq, "does not follow the entry before it")
                expected = entry_hash(
                    prev,
                    row.ts,
                    row.username,
                    row.role,
                    row.action,
                    row.target,
                    row.justification,
                    row.recipients,
                    row.details,
                )
                if row.hash != expected:
                    return Verification(count, prev, row.seq, "its fields do not match its hash")
                prev = row.hash
        return Verification(count, prev, None)


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
