"""Enforcing authorisations: refused, lapsed or expired means every face watchlist under it is deleted.

Urgent use may start before approval (EU AI Act Art. 5(3)): the authorisation is recorded
pending with a deadline (`governance.urgent_deadline_realtime_h`, 24 h, or
`..._retrospective_h`, 48 h). If it is refused, or not approved by the deadline, or when any
authorisation expires, matching stops at once (`Authorisation.in_force`) and `enforce` deletes
the watchlists it governs with their persons, photos, templates, alerts and the face vectors
kept for those matches (rows and face-index entries), and logs each deletion in the audit chain.
`enforce` runs in `safecity serve` at every register reload, after `authorisation refuse`, and on
`safecity authorisation enforce` (for a cron job when nothing is serving).

Until it has run, the end holds all the same: the status shown is computed from the clock
(`Authorisation.status_at`), the matcher checks `in_force` per sighting, and a face search leaves
out the vectors kept only for an ended authorisation's matches (`vectors_of_ended_matches`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.store.authorisations import ENDED, AuthorisationStore
from safecity.store.database import Database
from safecity.store.face_watchlists import FaceWatchlistStore, Removal
from safecity.store.media import MediaStore
from safecity.store.models import WatchlistRow, utcnow
from safecity.types import Authorisation

if TYPE_CHECKING:
    from safecity.store.face_index import FaceIndex


@dataclass(frozen=True, slots=True)
class Enforcement:
    authorisation_id: str
    reference: str
    status: str
    watchlists: int
    removal: Removal


def _end_state(auth: Authorisation, now: datetime) -> str | None:
    """The state an authorisation must end in now (None: it stays as it is); an authorisation ended
    already is returned too, to make sure nothing of it is left."""
    state = auth.status_at(now)
    return state if state in ENDED else None


def enforce(
    db: Database,
    media: MediaStore,
    *,
    now: datetime | None = None,
    by: str = "system",
    face_index: FaceIndex | None = None,
) -> list[Enforcement]:
    """End what must end at `now` and delete what was collected under it; one audit entry each.

    The deleted face vectors leave `face_index` too when one is given (and it is saved); an index
    held elsewhere drops them at its next `sync`, and never returns them meanwhile (their rows are
    gone). `enforce_configured` opens the configured index file for callers that hold none.
    """
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
                total.vector_keys + r.vector_keys,
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
    keys = [k for d in done for k in d.removal.vector_keys]
    if keys and face_index is not None:
        face_index.remove(keys)
        face_index.save()
    return done


def enforce_configured(
    settings: Settings,
    db: Database,
    *,
    now: datetime | None = None,
    by: str = "system",
    face_index: FaceIndex | None = None,
) -> list[Enforcement]:
    """`enforce` with the configured media store; when vectors were deleted and no index is given,
    the configured face index file (if there is one) is opened, has them removed and is saved."""
    done = enforce(db, MediaStore(settings.effective_media_dir), now=now, by=by, face_index=face_index)
    keys = [k for d in done for k in d.removal.vector_keys]
    path = settings.effective_face_index_path
    if keys and face_index is None and path.exists():
        from safecity.store.face_index import FaceIndex

        f = settings.faces
        index = FaceIndex(
            db, path, ivf_min_vectors=f.ivf_min_vectors, nprobe=f.nprobe, oversample=f.search_oversample
        )
        index.remove(keys)
        index.save()
    return done
