"""The one function per governance change behind `safecity hotlist|authorisation|watchlist`, the API
and the web pages: hotlist entries added and removed, authorisations recorded and decided, face
watchlists created and persons removed. Each checks the rules, makes the change through its store
and writes the audit entry, so a change reads the same in the chain whichever door it came through.

Errors are ValueErrors (`HotlistError`, `AuthorisationError`, `FaceWatchlistError`, `ReasonRequired`)
whose message says what was wrong in words; callers turn them into an exit, a problem or a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from safecity.config import Settings
from safecity.governance.access import check_reason
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.users import Actor
from safecity.store.authorisations import AuthorisationStore
from safecity.store.database import Database
from safecity.store.hotlists import HotlistError, HotlistStore, default_expiry
from safecity.store.models import utcnow
from safecity.types import Authorisation, AuthorisationPurpose, FaceWatchlist, HotlistEntry

if TYPE_CHECKING:
    from safecity.governance.authorisations import Enforcement
    from safecity.store.face_watchlists import FaceWatchlistStore, Removal

# Enforcement and the watchlist store delete photo files through the media store (cv2): imported
# where used, so that the CLI's hotlist and authorisation commands and `safecity --help` stay light.


def _audit(db: Database, by: Actor, action: AuditAction, **entry: object) -> None:
    AuditLog(db).record(action, username=by.username, role=by.role, **entry)  # type: ignore[arg-type]


# ------------------------------------------------------------------ hotlist


def add_hotlist_entry(
    db: Database,
    settings: Settings,
    by: Actor,
    plate: str,
    *,
    reason: str,
    owner: str,
    expires_at: datetime | None = None,
    days: int | None = None,
    now: datetime | None = None,
) -> HotlistEntry:
    """Hotlist a plate or pattern until `expires_at`, for `days`, or `hotlists.default_expiry_days`."""
    # The same floor as a search's reason: an entry makes every camera search for the plate.
    check_reason(reason, settings.governance.min_reason_len, "a hotlist entry")
    if expires_at is not None and days is not None:
        raise HotlistError("give an expiry time or a number of days, not both")
    if days is not None and not 1 <= days <= settings.hotlists.max_days:
        raise HotlistError(f"days must be 1 to {settings.hotlists.max_days}, got {days}")
    now = now or utcnow()
    if days is not None:
        expires_at = now + timedelta(days=days)
    elif expires_at is None:
        expires_at = default_expiry(now, settings.hotlists)
    entry = HotlistStore(db, settings.hotlists).add(
        plate, reason=reason, owner=owner, expires_at=expires_at, now=now
    )
    _audit(
        db,
        by,
        AuditAction.HOTLIST_CHANGE,
        target=entry.id,
        justification=entry.reason,
        details={"change": "added", "plate": entry.plate, "owner": entry.owner},
    )
    return entry


def remove_hotlist_entry(
    db: Database, settings: Settings, by: Actor, entry_id: str, *, reason: str = ""
) -> HotlistEntry:
    """Take an entry off the hotlist (it stays on record for its alerts); HotlistError if unknown or
    already removed."""
    entry = HotlistStore(db, settings.hotlists).remove(entry_id)
    _audit(
        db,
        by,
        AuditAction.HOTLIST_CHANGE,
        target=entry.id,
        justification=reason.strip(),
        details={"change": "removed", "plate": entry.plate},
    )
    return entry


# ------------------------------------------------------------------ authorisations


def record_authorisation(
    db: Database,
    settings: Settings,
    by: Actor,
    *,
    authority: str,
    reference: str,
    purpose: AuthorisationPurpose | str,
    cameras: Sequence[str],
    valid_from: datetime,
    valid_until: datetime,
    expires_at: datetime | None = None,
    note: str = "",
    urgent: bool = False,
    use: str = "realtime",
) -> Authorisation:
    """Record an authorisation (lapsing at `expires_at`, default the end of its window); an urgent
    one starts pending with the configured approval deadline for its use."""
    g = settings.governance
    hours = g.urgent_deadline_realtime_h if use == "realtime" else g.urgent_deadline_retrospective_h
    auth = AuthorisationStore(db).create(
        authority,
        reference,
        purpose,
        list(cameras),
        valid_from,
        valid_until,
        expires_at if expires_at is not None else valid_until,
        created_by=by.username,
        note=note,
        urgent=urgent,
        use=use,
        approval_window=timedelta(hours=hours) if urgent else None,
    )
    _audit(
        db,
        by,
        AuditAction.AUTHORISATION_CHANGE,
        target=auth.id,
        justification=f"{auth.authority} {auth.reference}",
        details={"change": "created", "purpose": auth.purpose.value, "cameras": list(auth.camera_ids)},
    )
    return auth


def decide_authorisation(
    db: Database, settings: Settings, by: Actor, authorisation_id: str, state: str, reason: str
) -> tuple[Authorisation, list[Enforcement]]:
    """Record the authority's decision (`approved` or `refused`, `reason` its reference and grounds),
    then enforce: a refusal deletes every watchlist under it with what was collected. Returns the
    decided authorisation and what enforcement ended and deleted."""
    from safecity.governance.authorisations import enforce_configured

    decided = AuthorisationStore(db).decide(authorisation_id, state, by.username)
    _audit(
        db,
        by,
        AuditAction.AUTHORISATION_CHANGE,
        target=decided.id,
        justification=reason,
        details={"change": state, "reference": decided.reference},
    )
    return decided, enforce_configured(settings, db, by=by.username)


# ------------------------------------------------------------------ face watchlists


def create_watchlist(
    store: FaceWatchlistStore, by: Actor, name: str, auth: Authorisation, *, description: str = ""
) -> FaceWatchlist:
    """An empty face watchlist under `auth`; FaceWatchlistError if it is not in force or the name is taken."""
    wl = store.create(name, auth.id, description=description, created_by=by.username)
    _audit(
        store.db,
        by,
        AuditAction.WATCHLIST_CHANGE,
        target=wl.id,
        justification=f"under {auth.authority} {auth.reference}",
        details={"change": "created", "name": wl.name, "version": wl.version},
    )
    return wl


def record_enrolment(
    store: FaceWatchlistStore, by: Actor, wl: FaceWatchlist, person_id: str, label: str, photos: int
) -> None:
    """The audit entry of an enrolment (the enrolment, which reads faces, is `watch.face_enrolment`)."""
    _audit(
        store.db,
        by,
        AuditAction.WATCHLIST_CHANGE,
        target=f"{wl.id}/{person_id}",
        details={"change": "enrolled", "label": label, "photos": photos},
    )


def remove_watchlist(store: FaceWatchlistStore, by: Actor, wl: FaceWatchlist, *, reason: str = "") -> Removal:
    """Delete a list with its persons, photos, templates and alerts."""
    removed = store.remove(wl.id)
    _record_removal(store, by, wl.id, removed, reason)
    return removed


def remove_person(
    store: FaceWatchlistStore, by: Actor, wl: FaceWatchlist, person_id: str, *, reason: str = ""
) -> Removal:
    """Delete one person enrolled on `wl` with their photos and alerts; FaceWatchlistError if not on it."""
    from safecity.store.face_watchlists import FaceWatchlistError

    if person_id not in {p.id for p in store.persons(wl.id)}:
        raise FaceWatchlistError(f"no person {person_id!r} is enrolled on {wl.name!r}")
    removed = store.remove_person(person_id)
    _record_removal(store, by, f"{wl.id}/{person_id}", removed, reason)
    return removed


def _record_removal(store: FaceWatchlistStore, by: Actor, target: str, removed: Removal, reason: str) -> None:
    _audit(
        store.db,
        by,
        AuditAction.WATCHLIST_CHANGE,
        target=target,
        justification=reason.strip(),
        details={
            "change": "removed",
            "persons": removed.persons,
            "photos": removed.photos,
            "alerts": removed.alerts,
            "vectors": removed.vectors,
        },
    )
