"""Two-person confirmation of face matches: a match is acted on only after two people agree.

A face-match alert starts `new` (unconfirmed). Each user with `confirm_match` on the alert's
camera may decide once: confirm, or reject. One rejection ends it (`rejected`: the system's
match is not acted on); `governance.confirmations_required` confirmations from different users
make it `confirmed`. Until then it may not be exported or acted on (`require_confirmed`).

Every decision passes the access gate, so it is checked and recorded in the same transaction;
the decision that completes a confirmation records the persons who verified the match (AI Act
Art. 12(3)(d), Art. 14(5)) beside the watchlist, its version and the input that matched.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safecity.governance.access import AccessGate, Caller
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.store.models import AlertConfirmationRow, AlertRow
from safecity.types import AlertKind


class AlertStatus(enum.StrEnum):
    NEW = "new"
    """Unconfirmed: nobody has decided yet."""
    CONFIRMING = "confirming"
    """Confirmed by fewer users than required."""
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    ACKNOWLEDGED = "acknowledged"
    """Seen and handled by an operator (alerts that need no confirmation)."""


class Decision(enum.StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"


class ConfirmationError(ValueError):
    """A decision that cannot be taken: unknown alert, not a face match, decided already."""


class NotConfirmed(ConfirmationError):
    """A face match that may not be exported or acted on yet."""


@dataclass(frozen=True, slots=True)
class UserDecision:
    username: str
    role: str
    decision: Decision
    ts: datetime
    note: str


@dataclass(frozen=True, slots=True)
class ConfirmationState:
    alert_id: str
    status: AlertStatus
    decisions: tuple[UserDecision, ...]
    required: int

    @property
    def confirmed_by(self) -> tuple[str, ...]:
        return tuple(d.username for d in self.decisions if d.decision is Decision.CONFIRM)

    @property
    def confirmed(self) -> bool:
        return self.status is AlertStatus.CONFIRMED


def decisions_of(session: Session, alert_id: str) -> tuple[UserDecision, ...]:
    rows = session.scalars(
        select(AlertConfirmationRow)
        .where(AlertConfirmationRow.alert_id == alert_id)
        .order_by(AlertConfirmationRow.ts, AlertConfirmationRow.id)
    )
    return tuple(UserDecision(r.username, r.role, Decision(r.decision), r.ts, r.note) for r in rows)


def require_confirmed(session: Session, alert: AlertRow, required: int) -> ConfirmationState:
    """The alert's state; raises `NotConfirmed` for a face match that is not confirmed."""
    state = ConfirmationState(alert.id, AlertStatus(alert.status), decisions_of(session, alert.id), required)
    if alert.kind == AlertKind.FACE_WATCHLIST.value and not state.confirmed:
        raise NotConfirmed(
            f"face match {alert.id} is {state.status} ({len(state.confirmed_by)} of {required} "
            "confirmations): it may not be exported or acted on until confirmed"
        )
    return state


class MatchConfirmations:
    """Takes users' decisions on face-match alerts through the access gate."""

    def __init__(self, gate: AccessGate, *, required: int = 2) -> None:
        if required < 2:
            raise ValueError(f"a face match needs at least 2 confirmations, got {required}")
        self.gate = gate
        self.required = required

    def decide(self, caller: Caller, alert_id: str, decision: Decision, note: str = "") -> ConfirmationState:
        action = AuditAction.CONFIRM_MATCH if decision is Decision.CONFIRM else AuditAction.REJECT_MATCH
        if not caller.is_person:
            raise self.gate.deny(caller, action, "a confirmation must come from a logged-in user")
        try:
            with self.gate.read(caller, action, Permission.CONFIRM_MATCH, justification=note) as read:
                # Locked: concurrent decisions on one match are counted one after the other.
                row = read.session.get(AlertRow, alert_id, with_for_update=True)
                if row is None:
                    raise ConfirmationError(f"no alert with id {alert_id!r}")
                if not read.visible(row.camera_id):
                    raise self.gate.deny(caller, action, f"camera {row.camera_id} is outside its limits")
                state = self._decide(read.session, row, caller, decision, note, read.started_at)
                evidence = row.evidence or {}
                read.record(
                    [row.id],
                    status=str(state.status),
                    watchlist_id=row.watchlist_id,
                    watchlist_version=evidence.get("watchlist_version"),
                    authorisation_id=evidence.get("authorisation_id"),
                    input_sighting_id=row.observation_id,
                    verified_by=list(state.confirmed_by) if state.confirmed else [],
                )
        except IntegrityError as exc:
            # Two decisions of one user raced past the check below; the unique key refused the second.
            raise ConfirmationError(f"{caller.username} has already decided on alert {alert_id}") from exc
        return state

    def state(self, session: Session, alert_id: str) -> ConfirmationState:
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise ConfirmationError(f"no alert with id {alert_id!r}")
        return ConfirmationState(
            row.id, AlertStatus(row.status), decisions_of(session, row.id), self.required
        )

    def _decide(
        self,
        session: Session,
        row: AlertRow,
        caller: Caller,
        decision: Decision,
        note: str,
        now: datetime,
    ) -> ConfirmationState:
        if row.kind != AlertKind.FACE_WATCHLIST.value:
            raise ConfirmationError(f"alert {row.id} is a {row.kind} alert; only face matches are confirmed")
        status = AlertStatus(row.status)
        if status in (AlertStatus.CONFIRMED, AlertStatus.REJECTED):
            raise ConfirmationError(f"alert {row.id} is {status} already")
        before = decisions_of(session, row.id)
        if any(d.username == caller.username for d in before):
            raise ConfirmationError(
                f"{caller.username} has already decided on alert {row.id}; a second person must confirm"
            )
        session.add(
            AlertConfirmationRow(
                alert_id=row.id,
                username=caller.username,
                role=caller.role,
                decision=decision.value,
                ts=now,
                note=note.strip(),
            )
        )
        session.flush()
        decisions = (*before, UserDecision(caller.username, caller.role, decision, now, note.strip()))
        confirms = sum(1 for d in decisions if d.decision is Decision.CONFIRM)
        if decision is Decision.REJECT:
            row.status = AlertStatus.REJECTED.value
        elif confirms >= self.required:
            row.status = AlertStatus.CONFIRMED.value
        else:
            row.status = AlertStatus.CONFIRMING.value
        row.handled_by = ",".join(d.username for d in decisions)[:100]
        row.handled_at = now
        return ConfirmationState(row.id, AlertStatus(row.status), decisions, self.required)


def acknowledge(gate: AccessGate, caller: Caller, alert_id: str, note: str = "") -> AlertStatus:
    """Mark a plate or camera alert handled; face matches are confirmed or rejected instead."""
    action = AuditAction.ACKNOWLEDGE_ALERT
    with gate.read(caller, action, Permission.CONFIRM_MATCH, justification=note) as read:
        # Locked until the end of the transaction: two operators at once must not both see it new.
        row = read.session.get(AlertRow, alert_id, with_for_update=True)
        if row is None:
            raise ConfirmationError(f"no alert with id {alert_id!r}")
        if not read.visible(row.camera_id):
            raise gate.deny(caller, action, f"camera {row.camera_id} is outside its limits")
        if row.kind == AlertKind.FACE_WATCHLIST.value:
            raise ConfirmationError(f"alert {row.id} is a face match: confirm or reject it (two persons)")
        if row.status != AlertStatus.NEW.value:
            raise ConfirmationError(f"alert {row.id} is {row.status} already")
        row.status = AlertStatus.ACKNOWLEDGED.value
        row.handled_by = caller.username
        row.handled_at = read.started_at
        read.record([row.id], kind=row.kind)
    return AlertStatus.ACKNOWLEDGED
