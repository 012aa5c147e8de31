"""Hotlist persistence: plate and pattern entries, and the alerts their matches raise, with evidence.

Hotlists have a table of their own (`hotlist_entries`) rather than reusing `watchlist_entries`
with kind="plate": an entry carries what a watchlist entry has no column for (a pattern, the
reason, the owner, its own expiry, removal), and it is added and removed one plate at a time by
an operator, while a watchlist is a named, versioned list that for faces is bound to a legal
authorisation. Reusing those tables would need a synthetic watchlist per entry or columns that
mean nothing for faces. Removing an entry only deactivates it: alerts keep pointing at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select

from safecity.config import HotlistSettings
from safecity.store.alerts import alert_from_row, alert_row
from safecity.store.database import Database
from safecity.store.field_limits import HOTLIST_ENTRY
from safecity.store.models import AlertRow, HotlistEntryRow, utcnow
from safecity.store.plate_index import clean_plate_query, is_pattern, literal_count
from safecity.types import Alert, AlertKind, HotlistEntry, HotlistHit, PlateMatchKind, new_id

MAX_OWNER_LEN = HOTLIST_ENTRY["owner"]
MAX_REASON_LEN = HOTLIST_ENTRY["reason"]


class HotlistError(ValueError):
    """A hotlist change that cannot be made: bad plate or pattern, unknown entry, past expiry."""


@dataclass(frozen=True, slots=True)
class PlateEvidence:
    """What a hotlist alert stores beside the alert itself, so it can be judged without a join."""

    plate_text: str
    normalised: str
    snapshot: str
    read_confidence: float
    read_at: str
    match: PlateMatchKind
    entry_plate: str
    reason: str
    owner: str


@dataclass(frozen=True, slots=True)
class StoredHotlistAlert:
    alert: Alert
    hotlist_entry_id: str
    evidence: PlateEvidence


def default_expiry(now: datetime, settings: HotlistSettings) -> datetime | None:
    """When an entry added at `now` without an explicit expiry lapses (None: never)."""
    days = settings.default_expiry_days
    return now + timedelta(days=days) if days > 0 else None


def entry_from_row(row: HotlistEntryRow) -> HotlistEntry:
    return HotlistEntry(
        id=row.id,
        plate=row.plate,
        reason=row.reason,
        owner=row.owner,
        created_at=row.created_at,
        expires_at=row.expires_at,
        active=row.active,
        removed_at=row.removed_at,
    )


def evidence_of(hit: HotlistHit) -> PlateEvidence:
    return PlateEvidence(
        plate_text=hit.read.text,
        normalised=hit.read.normalised,
        snapshot=hit.read.snapshot,
        read_confidence=hit.read.confidence,
        read_at=hit.read.timestamp.isoformat(),
        match=hit.kind,
        entry_plate=hit.entry.plate,
        reason=hit.entry.reason,
        owner=hit.entry.owner,
    )


class HotlistStore:
    """Adds, lists and removes hotlist entries; stores the alerts that matches raise."""

    def __init__(self, db: Database, settings: HotlistSettings | None = None) -> None:
        self.db = db
        self.settings = settings or HotlistSettings()

    def add(
        self,
        plate_or_pattern: str,
        *,
        reason: str,
        owner: str,
        expires_at: datetime | None,
        now: datetime | None = None,
    ) -> HotlistEntry:
        """Hotlist a plate ("BG 123-AB") or pattern ("BG*AB") until `expires_at` (None: no expiry)."""
        now = now or utcnow()
        try:
            plate = clean_plate_query(plate_or_pattern)
        except ValueError as exc:
            raise HotlistError(str(exc)) from exc
        minimum = self.settings.min_pattern_literals
        if is_pattern(plate) and literal_count(plate) < minimum:
            raise HotlistError(
                f"pattern {plate!r} fixes {literal_count(plate)} character(s); a hotlist pattern needs at "
                f"least {minimum}, or it would match most cars"
            )
        reason, owner = reason.strip(), owner.strip()
        if not reason:
            raise HotlistError("a hotlist entry needs a reason")
        if not owner:
            raise HotlistError("a hotlist entry needs an owner")
        if len(owner) > MAX_OWNER_LEN:
            raise HotlistError(f"owner is longer than {MAX_OWNER_LEN} characters")
        if len(reason) > MAX_REASON_LEN:
            raise HotlistError(f"reason is longer than {MAX_REASON_LEN} characters ({len(reason)})")
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise HotlistError(f"expiry {expires_at.isoformat()} has no UTC offset")
            if expires_at <= now:
                raise HotlistError(f"expiry {expires_at.isoformat()} is not in the future")
        entry = HotlistEntry(
            id=new_id(), plate=plate, reason=reason, owner=owner, created_at=now, expires_at=expires_at
        )
        with self.db.session() as session:
            session.add(
                HotlistEntryRow(
                    id=entry.id,
                    plate=entry.plate,
                    reason=entry.reason,
                    owner=entry.owner,
                    created_at=entry.created_at,
                    expires_at=entry.expires_at,
                    active=True,
                    removed_at=None,
                )
            )
        return entry

    def get(self, entry_id: str) -> HotlistEntry:
        with self.db.session() as session:
            row = session.get(HotlistEntryRow, entry_id)
            if row is None:
                raise HotlistError(f"no hotlist entry with id {entry_id!r}")
            return entry_from_row(row)

    def in_force(self, now: datetime | None = None) -> list[HotlistEntry]:
        """Entries that match reads at `now`: active and not expired."""
        now = now or utcnow()
        query = (
            select(HotlistEntryRow)
            .where(HotlistEntryRow.active.is_(True))
            .where(or_(HotlistEntryRow.expires_at.is_(None), HotlistEntryRow.expires_at > now))
            .order_by(HotlistEntryRow.created_at, HotlistEntryRow.id)
        )
        with self.db.session() as session:
            return [entry_from_row(r) for r in session.scalars(query)]

    def all(self) -> list[HotlistEntry]:
        """Every entry ever added, removed and expired ones included."""
        query = select(HotlistEntryRow).order_by(HotlistEntryRow.created_at, HotlistEntryRow.id)
        with self.db.session() as session:
            return [entry_from_row(r) for r in session.scalars(query)]

    def remove(self, entry_id: str, now: datetime | None = None) -> HotlistEntry:
        """Deactivate an entry: it stops matching at once; it stays on record for its alerts."""
        now = now or utcnow()
        with self.db.session() as session:
            row = session.get(HotlistEntryRow, entry_id)
            if row is None:
                raise HotlistError(f"no hotlist entry with id {entry_id!r}")
            if not row.active:
                removed = row.removed_at.isoformat() if row.removed_at is not None else "earlier"
                raise HotlistError(f"hotlist entry {entry_id} was already removed ({removed})")
            row.active = False
            row.removed_at = now
            session.flush()
            return entry_from_row(row)

    def save_alerts(self, hits: Sequence[HotlistHit]) -> None:
        """Store the alerts of `hits` with their evidence, in one transaction."""
        if not hits:
            return
        rows = [
            alert_row(hit.alert, evidence=asdict(evidence_of(hit)), hotlist_entry_id=hit.entry.id)
            for hit in hits
        ]
        with self.db.session() as session:
            session.execute(insert(AlertRow), rows)

    def alerts(self, entry_id: str | None = None) -> list[StoredHotlistAlert]:
        """Stored hotlist alerts (of one entry, or all), oldest first."""
        query = select(AlertRow).where(AlertRow.kind == AlertKind.PLATE_HOTLIST.value)
        if entry_id is not None:
            query = query.where(AlertRow.hotlist_entry_id == entry_id)
        with self.db.session() as session:
            return [_stored_alert(r) for r in session.scalars(query.order_by(AlertRow.ts, AlertRow.id))]


def _stored_alert(row: AlertRow) -> StoredHotlistAlert:
    data = dict(row.evidence or {})
    evidence = PlateEvidence(
        plate_text=str(data.get("plate_text", "")),
        normalised=str(data.get("normalised", "")),
        snapshot=str(data.get("snapshot", "")),
        read_confidence=float(data.get("read_confidence", 0.0)),
        read_at=str(data.get("read_at", "")),
        match=PlateMatchKind(str(data.get("match", PlateMatchKind.EXACT.value))),
        entry_plate=str(data.get("entry_plate", "")),
        reason=str(data.get("reason", "")),
        owner=str(data.get("owner", "")),
    )
    alert = alert_from_row(row)
    return StoredHotlistAlert(alert=alert, hotlist_entry_id=row.hotlist_entry_id or "", evidence=evidence)
