"""Alerts that carry no evidence of their own beyond the message: camera health (offline, stalled).

Plate-hotlist and face-watchlist alerts are stored with their evidence by `hotlists` and
`face_watchlists`; this module stores the rest and lists alerts of any kind.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select

from safecity.store.database import Database
from safecity.store.models import AlertRow
from safecity.types import Alert, AlertKind


def save_alerts(db: Database, alerts: Sequence[Alert]) -> None:
    if not alerts:
        return
    rows = [
        {
            "id": a.id,
            "kind": a.kind.value,
            "camera_id": a.camera_id,
            "ts": a.timestamp,
            "message": a.message,
            "observation_id": a.observation_id,
            "watchlist_id": a.watchlist_id,
            "score": a.score,
        }
        for a in alerts
    ]
    with db.session() as session:
        session.execute(insert(AlertRow), rows)


def list_alerts(db: Database, kind: AlertKind | None = None, camera_id: str | None = None) -> list[Alert]:
    query = select(AlertRow).order_by(AlertRow.ts)
    if kind is not None:
        query = query.where(AlertRow.kind == kind.value)
    if camera_id is not None:
        query = query.where(AlertRow.camera_id == camera_id)
    with db.session() as session:
        return [
            Alert(
                id=r.id,
                kind=AlertKind(r.kind),
                camera_id=r.camera_id,
                timestamp=r.ts,
                message=r.message,
                observation_id=r.observation_id,
                watchlist_id=r.watchlist_id,
                score=r.score,
            )
            for r in session.scalars(query)
        ]
