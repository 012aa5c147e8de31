"""The append-only audit log: every entry carries the SHA-256 of the one before it.

An entry's hash covers its own fields and the previous entry's hash, so editing, deleting,
inserting or reordering an entry breaks every hash after it; `verify` names the first entry that
does not fit. This module records and verifies entries; which actions are recorded is decided
by the callers (face and plate searches, watchlist and authorisation changes). Entries are
written in the caller's transaction when one is given, so an action and its record commit or
fail together. Appends are serialised so the chain never forks: on SQLite every write
transaction holds the write lock from its start (store/database.py), on PostgreSQL an advisory
lock is taken. Sequence numbers are given here, the last one plus one, so they have no gaps
(a database sequence would skip the numbers of rolled-back transactions) and a gap is damage.

A chain is only as good as the heads published outside the database: whoever can write the
database can delete the newest entries, or recompute every hash after a deletion, and the chain
alone still looks whole. So the head (sequence number and hash) is anchored often (`Anchorer`:
every `governance.anchor_every_entries` entries or `anchor_interval_s` seconds) to a file, the
process log and the public register, and `verify` checks the chain against every anchor it is
given: an anchor beyond the head means entries were deleted, an anchor whose entry has another
hash means the log was rewritten (the idea behind Certificate Transparency).

Retention (governance/retention.py) may prune the oldest entries; the sweep's own
`retention_deletion` entry records the hash and sequence number of the last pruned one, and
`verify` accepts that, and only that, as the start of what is left.
"""

from __future__ import annotations

import enum
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from safecity.config import Settings
from safecity.store.database import Database
from safecity.store.models import AuditEntryRow, utcnow

log = logging.getLogger(__name__)

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
    VIEW_VIDEO = "view_video"
    """Live or recorded video watched: who, which camera, from when to when."""
    CONFIG_CHANGE = "config_change"
    """A setting that decides who is flagged changed (a face calibration written)."""


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
    head_seq: int = 0
    """Sequence number of the last entry (0: none)."""
    anchors_checked: int = 0
    """Published heads the chain was found to pass through."""
    anchors_pruned: int = 0
    """Anchors older than what retention left, so they could not be checked."""
    by_anchor: bool = False
    """The problem is that the log does not pass through a published anchor (`first_bad` is its seq)."""

    @property
    def ok(self) -> bool:
        return self.first_bad is None and not self.problem


@dataclass(frozen=True, slots=True)
class Anchor:
    """A published head: the chain must pass through `hash` at `seq`."""

    seq: int
    hash: str
    source: str = ""
    """Where it was found (anchor file and line, command line), for the report."""

    @staticmethod
    def parse(text: str, source: str = "") -> Anchor:
        """`SEQ:HASH` (as `safecity audit head` prints it, with a colon or a space); ValueError if not."""
        seq_text, sep, digest = text.strip().replace(" ", ":", 1).partition(":")
        digest = digest.strip().lower()
        if (
            not sep
            or not seq_text.isdigit()
            or len(digest) != 64
            or any(c not in "0123456789abcdef" for c in digest)
        ):
            raise ValueError(f"anchor {text!r} is not SEQ:HASH (a sequence number and a 64-digit hex hash)")
        return Anchor(int(seq_text), digest, source or text)


def read_anchors(path: Path) -> list[Anchor]:
    """The anchors in a JSON-lines anchor file, oldest first; [] when it does not exist.

    A line that cannot be read is an error (`AuditFileError`): an anchor file is written by this
    system only, so a broken line is damage to report, not noise to skip.
    """
    if not path.exists():
        return []
    anchors = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            anchors.append(Anchor(int(data["seq"]), str(data["hash"]), f"{path}:{number}"))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise AuditFileError(f"{path}:{number}: not an audit anchor: {exc}") from exc
    return anchors


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
        seq = last.seq + 1 if last is not None else 1
        ts = utcnow()
        # JSON round trip: what is hashed is exactly what the database will give back.
        clean = json.loads(json.dumps(dict(details or {}), default=str))
        digest = entry_hash(prev, ts, username, role, action, target, justification, recipients, clean)
        row = AuditEntryRow(
            seq=seq,
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
        with self.db.read_session() as own:
            return [_entry(r) for r in own.scalars(query)]

    def verify(self, anchors: Sequence[Anchor] = ()) -> Verification:
        """Recompute the whole chain and check it passes through every anchor; names the first misfit.

        The chain starts at the genesis hash with entry 1, or, once a retention sweep has pruned the
        oldest entries, at the hash and sequence number of the last pruned entry. That start is
        accepted only when an entry of the chain itself (action `retention_deletion`, whose own hash
        is checked like any other) records it; deleting the first entries by hand is found.
        Sequence numbers must follow one another: a gap is a deleted entry even where the hashes
        were recomputed around it.
        """
        with self.db.read_session() as session:
            first = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq).limit(1)).first()
            start, start_seq = GENESIS, 0
            if first is not None and first.prev_hash != GENESIS:
                pruned_through = self._pruned_head_recorded(session, first.prev_hash)
                if pruned_through is None:
                    return Verification(
                        1,
                        GENESIS,
                        first.seq,
                        "does not follow the genesis hash or a recorded retention prune",
                    )
                start, start_seq = first.prev_hash, pruned_through
            rows = session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq))
            by_seq: dict[int, str] = {}

            def remembered(entries: Iterable[AuditEntryRow]) -> Iterable[AuditEntry]:
                for row in entries:
                    by_seq[row.seq] = row.hash
                    yield _entry(row)

            result = verify_chain(remembered(rows), start, start_seq)
        if not result.ok:
            return result
        return check_anchors(result, anchors, by_seq.get, start_seq)

    @staticmethod
    def _pruned_head_recorded(session: Session, head: str) -> int | None:
        """The sequence number a `retention_deletion` entry records with `head` as the last entry it
        pruned; None when no entry records that hash."""
        records = session.scalars(
            select(AuditEntryRow.details).where(AuditEntryRow.action == AuditAction.RETENTION_DELETION.value)
        )
        for details in records:
            if isinstance(details, dict) and details.get(PRUNED_HEAD_KEY) == head:
                through = details.get(PRUNED_THROUGH_KEY)
                return int(through) if isinstance(through, int | str) and str(through).isdigit() else -1
        return None

    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the last entry: the anchor to publish; (0, GENESIS) when empty."""
        with self.db.read_session() as session:
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
        with self.db.read_session() as session:
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
    rewrite of the whole log detectable: the rewritten chain would not pass through them. The
    file is locked while written, so processes sharing it (serve, API replicas) never interleave.
    """
    return Anchorer(log, path).anchor(force=True)


def anchorer(db: Database, settings: Settings) -> Anchorer:
    """The configured anchorer of `db`'s log (governance.anchor_*)."""
    g = settings.governance
    return Anchorer(
        AuditLog(db),
        settings.effective_anchor_path,
        every_entries=g.anchor_every_entries,
        interval_s=g.anchor_interval_s,
    )


class Anchorer:
    """Anchors the head often: once `every_entries` entries or `interval_s` seconds have passed.

    Each anchor goes to the anchor file (JSON lines, locked, fsynced) and to the process log
    (`safecity.governance.audit` at INFO), so a copy lands wherever the logs are shipped. The last
    anchor is read back from the file under its lock, so several processes anchoring one log do
    not repeat each other. The public register shows the live head besides.
    """

    def __init__(
        self,
        log: AuditLog,
        path: Path,
        *,
        every_entries: int = 100,
        interval_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if every_entries < 1 or interval_s <= 0:
            raise ValueError("every_entries must be at least 1 and interval_s positive")
        self.log = log
        self.path = path
        self.every_entries = every_entries
        self.interval_s = interval_s
        self.clock = clock

    def due(self) -> bool:
        """Whether `anchor()` would write now (cheap: the head and the file's last line)."""
        seq, _ = self.log.head()
        last = _last_anchor(self.path)
        return self._due(seq, last)

    def _due(self, seq: int, last: tuple[int, float] | None) -> bool:
        if last is None:
            return seq > 0
        last_seq, last_time = last
        if seq <= last_seq:
            return seq < last_seq  # behind the last anchor: record the (suspicious) head at once
        return seq - last_seq >= self.every_entries or self.clock() - last_time >= self.interval_s

    def anchor(self, *, force: bool = False) -> tuple[int, str]:
        """Append the head when due (always with `force`, unless it equals the last anchor)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                seq, digest = self.log.head()
                last = _last_anchor(self.path)
                if (force and (last is None or last[0] != seq)) or (not force and self._due(seq, last)):
                    now = datetime.fromtimestamp(self.clock(), UTC)
                    line = json.dumps({"time": now.isoformat(), "seq": seq, "hash": digest}, sort_keys=True)
                    f.write(line + "\n")
                    f.flush()
                    os.fsync(f.fileno())
                    log.info("audit anchor seq=%d hash=%s (appended to %s)", seq, digest, self.path)
                return seq, digest
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _last_anchor(path: Path) -> tuple[int, float] | None:
    """(sequence number, unix time) of the file's last anchor; None when there is none."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4096))
            tail = f.read().decode("utf-8", errors="replace").strip().splitlines()
    except FileNotFoundError:
        return None
    if not tail:
        return None
    try:
        data = json.loads(tail[-1])
        return int(data["seq"]), datetime.fromisoformat(data["time"]).timestamp()
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


class AuditFileError(ValueError):
    """An export file that cannot be read as one (wrong format, broken line); names file and line."""


def verify_chain(entries: Iterable[AuditEntry], prev: str, prev_seq: int = 0) -> Verification:
    """Check each entry follows the one before: its hash, and its sequence number.

    `prev_seq` is the sequence number of the entry `prev` belongs to (0 for the genesis; -1 when a
    prune recorded no number, so the first number is taken as it is).
    """
    start = prev
    count = 0
    seq = prev_seq
    for e in entries:
        count += 1
        if seq >= 0 and e.seq != seq + 1:
            return Verification(
                count,
                prev,
                e.seq,
                f"follows entry {seq}: entries {seq + 1}..{e.seq - 1} are missing",
                start,
                seq,
            )
        if e.prev_hash != prev:
            return Verification(count, prev, e.seq, "does not follow the entry before it", start, e.seq)
        expected = entry_hash(
            prev, e.ts, e.username, e.role, e.action, e.target, e.justification, e.recipients, e.details
        )
        if e.hash != expected:
            return Verification(count, prev, e.seq, "its fields do not match its hash", start, e.seq)
        prev = e.hash
        seq = e.seq
    return Verification(count, prev, None, anchored_at=start, head_seq=max(seq, 0))


def check_anchors(
    chain: Verification, anchors: Sequence[Anchor], hash_at: Callable[[int], str | None], first_seq: int
) -> Verification:
    """`chain` (already verified) against published heads: each must be an entry it still holds.

    An anchor beyond the head: entries after the head were deleted (truncation). An anchor whose
    entry has another hash: the log was rewritten from there on. Anchors at or before `first_seq`
    (pruned by retention) cannot be checked and are counted apart, except the prune's own head.
    """
    checked = pruned = 0
    for anchor in anchors:
        if anchor.seq == 0:
            continue
        if anchor.seq > chain.head_seq:
            return _anchor_problem(
                chain,
                anchor,
                f"the log ends at entry {chain.head_seq} but {anchor.source} published entry {anchor.seq}: "
                "entries were deleted",
            )
        if anchor.seq <= first_seq:
            if anchor.seq == first_seq and anchor.hash != chain.anchored_at:
                return _anchor_problem(
                    chain, anchor, f"{anchor.source}: the prune's head is not the published one"
                )
            pruned += 1
            continue
        found = hash_at(anchor.seq)
        if found != anchor.hash:
            return _anchor_problem(
                chain,
                anchor,
                f"entry {anchor.seq} has hash {found} but {anchor.source} published {anchor.hash}: "
                "the log was rewritten",
            )
        checked += 1
    return Verification(
        chain.entries,
        chain.head,
        None,
        anchored_at=chain.anchored_at,
        head_seq=chain.head_seq,
        anchors_checked=checked,
        anchors_pruned=pruned,
    )


def _anchor_problem(chain: Verification, anchor: Anchor, problem: str) -> Verification:
    return Verification(
        chain.entries, chain.head, anchor.seq, problem, chain.anchored_at, chain.head_seq, by_anchor=True
    )


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
    first_seq = entries[0].seq - 1 if entries else 0
    return verify_chain(entries, start, 0 if start == GENESIS else first_seq)


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
