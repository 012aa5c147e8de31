"""Enforcing authorisations: refused, lapsed or expired means every face watchlist under it is deleted.

Urgent use may start before approval (EU AI Act Art. 5(3)): the authorisation is recorded
pending with a deadline (`governance.urgent_deadline_realtime_h`, 24 h, or
`..._retrospective_h`, 48 h). If it is refused, or not approved by the deadline, or when any
authorisation expires, matching stops at once (`Authorisation.in_force`) and `enforce` deletes
the watchlists it governs with their persons, photos, templates, alerts and the face vectors
kept for those matches, and logs each deletion in the audit chain. `enforce` runs in
`safecity serve` at every register reload, after `authorisation refuse`, and on
`safecity authorisation enforce` (for a cron job when nothing is serving).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from safecity.governance.audit import AuditAction, AuditLog
from safecity.store.authorisations import ENDED, AuthorisationStore
from safecity.store.database import Database
from safecity.store.face_watchlists import FaceWatchlistStore, Removal
from safecity.store.media import MediaStore
from safecity.store.models import WatchlistRow, utcnow
from safecity.types import Authorisation


@dataclass(frozen=True, slots=True)
class Enforcement:
    authorisation_id: str
    reference: str
    status: str
    watchlists: int
    removal: Removal


def _end_state(auth: Authorisation, now: datetime) -> str | None:
    """The state an authorisation must end in now (None: it stays as it is)."""
    if auth.status in ENDED:
        return auth.status  # already ended: make sure nothing of it is left
    if now >= auth.expires_at:
        return "expired"
    if auth.status == "pending" and auth.approval_deadline is not None and now >= auth.approval_deadline:
        return "lapsed"
    return None


def enforce(
    db: Database, media: MediaStore, *, now: datetime | None = None, by: str = "system"
) -> list[Enforcement]:
    """End what must end at `now` and delete what was collected under it; one audit entry each."""
    now = now or utcnow()
    auths = AuthorisationStore(db)
    faces = FaceWatchlistStore(db, media)
    audit = AuditLog(db)
    done: list[Enforcement] = []
    for auth in auths.list():
        state = _end_state(auth, now)
        if state is None:
            continue
        with db.session() as session:
            lists = list(
                session.scalars(select(WatchlistRow.id).where(WatchlistRow.authorisation_id == auth.id))
            )
        if state == auth.status and not lists:
            continue  # ended earlier and already cleaned up
        if state != auth.status:
            auth = auths.decide(auth.id, state, by, now=now)
        total = Removal()
        for watchlist_id in lists:
            r = faces.remove(watchlist_id)
            total = Removal(
                total.persons + r.persons,
                total.photos + r.photos,
                total.media_files + r.media_files,
                total.alerts + r.alerts,
                total.vectors + r.vectors,
            )
        audit.record(
            AuditAction.AUTHORISATION_CHANGE,
            username=by,
            role="system",
            target=auth.id,
            justification=f"{auth.authority} {auth.reference}: {state}",
            details={
                "change": f"{state}: data deleted",
                "watchlists": len(lists),
                "persons": total.persons,
                "photos": total.photos,
                "alerts": total.alerts,
                "vectors": total.vectors,
            },
        )
        done.append(Enforcement(auth.id, auth.reference, state, len(lists), total))
    return done
