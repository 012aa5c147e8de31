"""Authorisations for face matching: the legal scope every face watchlist lives under.

Remote biometric identification is lawful only for the purposes of EU AI Act Art. 5(1)(h), on
the cameras, in the time window and until the expiry that an authority granted. The store
records those facts as given and refuses anything that cannot be a valid authorisation (no
authority, an unknown purpose, cameras that are not registered, a window that ends before it
starts, an expiry before the window opens), so the matcher can trust `Authorisation.covers`.

Authorisations are created "approved": the authority's decision is entered after the fact. The
governance work adds pending and refused states; `status` is stored for that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from safecity.store.database import Database
from safecity.store.field_limits import AUTHORISATION
from safecity.store.models import AuthorisationRow, CameraRow, utcnow
from safecity.types import Authorisation, AuthorisationPurpose, new_id

MAX_TEXT_LEN = AUTHORISATION["reference"]
MAX_CREATOR_LEN = AUTHORISATION["created_by"]
MAX_NOTE_LEN = AUTHORISATION["note"]


USES = ("realtime", "retrospective")
DECISIONS = ("approved", "refused", "lapsed", "expired")
ENDED = ("refused", "lapsed", "expired")
"""States after which an authorisation's watchlists and matches are gone for good."""


class AuthorisationError(ValueError):
    """An authorisation that cannot be recorded or found; the message says which rule it breaks."""


def authorisation_from_row(row: AuthorisationRow) -> Authorisation:
    return Authorisation(
        id=row.id,
        authority=row.authority,
        reference=row.reference,
        purpose=AuthorisationPurpose(row.purpose),
        camera_ids=tuple(str(c) for c in row.camera_ids),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        expires_at=row.expires_at,
        created_by=row.created_by,
        created_at=row.created_at,
        status=row.status,
        note=row.note,
        urgent=row.urgent,
        use=row.use,
        approval_deadline=row.approval_deadline,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def _purpose(purpose: AuthorisationPurpose | str) -> AuthorisationPurpose:
    try:
        return AuthorisationPurpose(purpose)
    except ValueError:
        allowed = ", ".join(p.value for p in AuthorisationPurpose)
        raise AuthorisationError(
            f"purpose {purpose!r} is not one the AI Act allows for remote biometric identification; "
            f"use one of: {allowed}"
        ) from None


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise AuthorisationError(f"{name} {value.isoformat()} has no UTC offset")
    return value


def _text(name: str, value: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise AuthorisationError(f"an authorisation needs {name}")
    if len(value) > limit:
        raise AuthorisationError(f"{name} is longer than {limit} characters")
    return value


class AuthorisationStore:
    """Records, lists and finds authorisations."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        authority: str,
        reference: str,
        purpose: AuthorisationPurpose | str,
        camera_ids: Sequence[str],
        valid_from: datetime,
        valid_until: datetime,
        expires_at: datetime,
        created_by: str,
        note: str = "",
        now: datetime | None = None,
        *,
        urgent: bool = False,
        use: str = "realtime",
        approval_window: timedelta | None = None,
    ) -> Authorisation:
        """Record an authorisation; AuthorisationError says why one cannot be recorded.

        A normal authorisation is recorded once granted (approved). An urgent one is recorded
        pending: matching may start at once, but unless it is approved within `approval_window`
        (24 h for real-time use, 48 h for retrospective use, from `governance.*`) it lapses and
        everything matched under it is deleted (`governance.authorisations.enforce`).
        """
        now = now or utcnow()
        if use not in USES:
            raise AuthorisationError(f"use must be one of {', '.join(USES)}, got {use!r}")
        if urgent and approval_window is None:
            raise AuthorisationError("urgent use needs an approval window (governance settings)")
        authority = _text("an authority", authority, MAX_TEXT_LEN)
        reference = _text("a reference", reference, MAX_TEXT_LEN)
        chosen = _purpose(purpose)
        if isinstance(camera_ids, str):
            raise AuthorisationError("camera_ids must be a list of camera ids, not one string")
        cameras = tuple(dict.fromkeys(c.strip() for c in camera_ids if c.strip()))
        if not cameras:
            raise AuthorisationError("an authorisation needs at least one camera")
        valid_from = _aware("valid_from", valid_from)
        valid_until = _aware("valid_until", valid_until)
        expires_at = _aware("expires_at", expires_at)
        if valid_until <= valid_from:
            raise AuthorisationError(
                f"the window ends ({valid_until.isoformat()}) before it starts ({valid_from.isoformat()})"
            )
        if expires_at <= valid_from:
            raise AuthorisationError(
                f"expiry {expires_at.isoformat()} is before the window starts ({valid_from.isoformat()})"
            )
        if expires_at <= now:
            raise AuthorisationError(f"expiry {expires_at.isoformat()} has already passed")
        created_by = created_by.strip()
        if len(created_by) > MAX_CREATOR_LEN:
            raise AuthorisationError(f"created_by is longer than {MAX_CREATOR_LEN} characters")
        if len(note) > MAX_NOTE_LEN:
            raise AuthorisationError(f"note is longer than {MAX_NOTE_LEN} characters ({len(note)})")
        auth = Authorisation(
            id=new_id(),
            authority=authority,
            reference=reference,
            purpose=chosen,
            camera_ids=cameras,
            valid_from=valid_from,
            valid_until=valid_until,
            expires_at=expires_at,
            created_by=created_by,
            created_at=now,
            note=note.strip(),
            status="pending" if urgent else "approved",
            urgent=urgent,
            use=use,
            approval_deadline=now + approval_window if urgent and approval_window is not None else None,
        )
        try:
            with self.db.session() as session:
                known = set(session.scalars(select(CameraRow.id).where(CameraRow.id.in_(cameras))))
                unknown = [c for c in cameras if c not in known]
                if unknown:
                    raise AuthorisationError(f"unknown camera id(s): {', '.join(unknown[:5])}")
                duplicate = session.scalar(
                    select(AuthorisationRow.id).where(
                        AuthorisationRow.authority == authority, AuthorisationRow.reference == reference
                    )
                )
                if duplicate is not None:
                    raise AuthorisationError(_duplicate_message(authority, reference, duplicate))
                session.add(_row(auth))
        except IntegrityError as exc:  # recorded by another process between the check and the insert
            raise AuthorisationError(_duplicate_message(authority, reference, "?")) from exc
        return auth

    def decide(
        self, authorisation_id: str, status: str, by: str, now: datetime | None = None
    ) -> Authorisation:
        """Record a decision: approved (a pending one, before its deadline), refused, lapsed or expired."""
        now = now or utcnow()
        if status not in DECISIONS:
            raise AuthorisationError(f"decision must be one of {', '.join(DECISIONS)}, got {status!r}")
        with self.db.session() as session:
            # Locked: two people deciding at once on PostgreSQL must not both find it pending.
            row = session.get(AuthorisationRow, authorisation_id, with_for_update=True)
            if row is None:
                raise AuthorisationError(f"no authorisation with id {authorisation_id!r}")
            if status == "approved":
                if row.status != "pending":
                    raise AuthorisationError(f"authorisation {row.reference} is {row.status}, not pending")
                if row.approval_deadline is not None and now >= row.approval_deadline:
                    raise AuthorisationError(
                        f"authorisation {row.reference}: the approval deadline "
                        f"{row.approval_deadline.isoformat()} has passed; its data is deleted"
                    )
            elif row.status in ENDED:
                raise AuthorisationError(f"authorisation {row.reference} is already {row.status}")
            row.status, row.decided_by, row.decided_at = status, by.strip(), now
            session.flush()
            return authorisation_from_row(row)

    def get(self, authorisation_id: str) -> Authorisation:
        with self.db.session() as session:
            row = session.get(AuthorisationRow, authorisation_id)
            if row is None:
                raise AuthorisationError(f"no authorisation with id {authorisation_id!r}")
            return authorisation_from_row(row)

    def list(self) -> list[Authorisation]:
        """Every authorisation, oldest first (expired ones included: they are part of the record)."""
        query = select(AuthorisationRow).order_by(AuthorisationRow.created_at, AuthorisationRow.id)
        with self.db.session() as session:
            return [authorisation_from_row(r) for r in session.scalars(query)]

    def find(self, reference: str, authority: str | None = None) -> Authorisation:
        """The authorisation with this reference (and authority, when several authorities use it)."""
        query = select(AuthorisationRow).where(AuthorisationRow.reference == reference.strip())
        if authority is not None:
            query = query.where(AuthorisationRow.authority == authority.strip())
        with self.db.session() as session:
            rows = list(session.scalars(query.order_by(AuthorisationRow.authority)))
            if not rows:
                raise AuthorisationError(f"no authorisation with reference {reference!r}")
            if len(rows) > 1:
                authorities = ", ".join(r.authority for r in rows)
                raise AuthorisationError(
                    f"reference {reference!r} is used by several authorities ({authorities}); "
                    "name the authority"
                )
            return authorisation_from_row(rows[0])


def _duplicate_message(authority: str, reference: str, existing: str) -> str:
    return f"{authority} already has an authorisation with reference {reference!r} (id {existing})"


def _row(auth: Authorisation) -> AuthorisationRow:
    return AuthorisationRow(
        id=auth.id,
        authority=auth.authority,
        reference=auth.reference,
        purpose=auth.purpose.value,
        camera_ids=list(auth.camera_ids),
        valid_from=auth.valid_from,
        valid_until=auth.valid_until,
        expires_at=auth.expires_at,
        status=auth.status,
        created_by=auth.created_by,
        created_at=auth.created_at,
        note=auth.note,
        urgent=auth.urgent,
        use=auth.use,
        approval_deadline=auth.approval_deadline,
        decided_by=auth.decided_by,
        decided_at=auth.decided_at,
    )
