"""Alert rows: the one conversion between `Alert` and `alerts`, and the alerts with no evidence.

Plate-hotlist and face-watchlist alerts are stored with their evidence by `hotlists` and
`face_watchlists` through `alert_row` / `alert_from_row`; this module stores the rest (camera
health) and lists alerts of any kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from safecity.store.database import Database
from safecity.store.models import AlertRow, utcnow
from safecity.types import Alert, AlertKind


def alert_row(
    alert: Alert, *, evidence: dict[str, Any] | None = None, hotlist_entry_id: str | None = None
) -> dict[str, object]:
    """The `alerts` row of a new alert, for a bulk insert."""
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "camera_id": alert.camera_id,
        "ts": alert.timestamp,
        "message": alert.message,
        "observation_id": alert.observation_id,
        "watchlist_id": alert.watchlist_id,
        "score": alert.score,
        "status": "new",
        "hotlist_entry_id": hotlist_entry_id,
        "evidence": evidence,
        "raised_at": utcnow(),
    }


def alert_from_row(row: AlertRow) -> Alert:
    return Alert(
        id=row.id,
        kind=AlertKind(row.kind),
        camera_id=row.camera_id,
        timestamp=row.ts,
        message=row.message,
        observation_id=row.observation_id,
        watchlist_id=row.watchlist_id,
        score=row.score,
    )


def save_alerts(db: Database, alerts: Sequence[Alert]) -> None:
    if not alerts:
        return
    with db.session() as session:
        session.execute(insert(AlertRow), [alert_row(a) for a in alerts])


def list_alerts(db: Database, kind: AlertKind | None = None, camera_id: str | None = None) -> list[Alert]:
    query = select(AlertRow).order_by(AlertRow.ts)
    if kind is not None:
        query = query.where(AlertRow.kind == kind.value)
    if camera_id is not None:
        query = query.where(AlertRow.camera_id == camera_id)
    with db.session() as session:
        return [alert_from_row(r) for r in session.scalars(query)]


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as stored: what was raised, and where handling it stands."""

    alert: Alert
    status: str
    handled_by: str | None
    handled_at: datetime | None
    evidence: Mapping[str, Any]
    raised_at: datetime | None = None
    """When the alert was stored (server time); None for alerts stored before it was recorded."""


def stored_alert(row: AlertRow) -> StoredAlert:
    evidence = dict(row.evidence or {})
    return StoredAlert(
        alert_from_row(row), row.status, row.handled_by, row.handled_at, evidence, row.raised_at
    )


def find_alerts(
    session: Session,
    *,
    kinds: Sequence[AlertKind] = (),
    camera_ids: Sequence[str] | None = None,
    statuses: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[StoredAlert]:
    """Alerts newest first, filtered; `camera_ids` None means every camera, () none."""
    query = select(AlertRow).order_by(AlertRow.ts.desc(), AlertRow.id).limit(limit)
    if kinds:
        query = query.where(AlertRow.kind.in_([k.value for k in kinds]))
    if camera_ids is not None:
        query = query.where(AlertRow.camera_id.in_(list(camera_ids)))
    if statuses:
        query = query.where(AlertRow.status.in_(list(statuses)))
    if since is not None:
        query = query.where(AlertRow.ts >= since)
    if until is not None:
        query = query.where(AlertRow.ts < until)
    return [stored_alert(r) for r in session.scalars(query)]


def alerts_raised_after(
    session: Session, after: datetime | None, camera_ids: Sequence[str] | None, limit: int
) -> list[StoredAlert]:
    """Alerts raised (stored) after `after`, oldest first: what a live feed has not sent yet."""
    query = select(AlertRow).where(AlertRow.raised_at.is_not(None))
    if after is not None:
        query = query.where(AlertRow.raised_at > after)
    if camera_ids is not None:
        query = query.where(AlertRow.camera_id.in_(list(camera_ids)))
    rows = session.scalars(query.order_by(AlertRow.raised_at, AlertRow.id).limit(limit))
    return [stored_alert(r) for r in rows]


def latest_raised_at(session: Session) -> datetime | None:
    """When the newest alert was stored; a live feed starts after it."""
    return session.scalar(select(func.max(AlertRow.raised_at)))
