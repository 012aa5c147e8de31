"""Pages of stored observations and alerts for listings: filtered, newest first, by limit and offset.

The API lists through these inside an open access gate (`governance.access`), in the gate's
session, with the camera filter the gate narrowed. Each query fetches `limit` rows as asked; a
caller that wants to know whether a next page exists asks for one more (`api.schemas.page_of`).
`camera_ids` None means every camera, () none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from safecity.store.alerts import StoredAlert, stored_alert
from safecity.store.models import AlertRow, FaceSightingRow, FaceVectorRow, PlateReadRow
from safecity.types import AlertKind, BBox


@dataclass(frozen=True, slots=True)
class SightingRow:
    """A face sighting as listed: the row, and whether its embedding was kept (never the embedding)."""

    row: FaceSightingRow
    has_vector: bool


Ts = TypeVarTuple("Ts")


def _window(
    query: Select[*Ts],
    table: type[PlateReadRow] | type[FaceSightingRow] | type[AlertRow],
    camera_ids: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> Select[*Ts]:
    if camera_ids is not None:
        query = query.where(table.camera_id.in_(list(camera_ids)))
    if since is not None:
        query = query.where(table.ts >= since)
    if until is not None:
        query = query.where(table.ts < until)
    return query.order_by(table.ts.desc(), table.id).limit(limit).offset(offset)


def plate_read_page(
    session: Session,
    *,
    camera_ids: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[PlateReadRow]:
    """Plate reads, newest first."""
    query = _window(select(PlateReadRow), PlateReadRow, camera_ids, since, until, limit, offset)
    return list(session.scalars(query))


def face_sighting_page(
    session: Session,
    *,
    camera_ids: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[SightingRow]:
    """Face sightings, newest first, each with whether a vector is stored for it."""
    has_vector = exists().where(FaceVectorRow.sighting_id == FaceSightingRow.id).label("has_vector")
    query = _window(
        select(FaceSightingRow, has_vector), FaceSightingRow, camera_ids, since, until, limit, offset
    )
    return [SightingRow(row, bool(flag)) for row, flag in session.execute(query)]


def alert_page(
    session: Session,
    *,
    kinds: Sequence[AlertKind] = (),
    camera_ids: Sequence[str] | None = None,
    statuses: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[StoredAlert]:
    """Alerts newest first, filtered as `store.alerts.find_alerts` filters them, one page of them."""
    query = select(AlertRow)
    if kinds:
        query = query.where(AlertRow.kind.in_([k.value for k in kinds]))
    if statuses:
        query = query.where(AlertRow.status.in_(list(statuses)))
    query = _window(query, AlertRow, camera_ids, since, until, limit, offset)
    return [stored_alert(r) for r in session.scalars(query)]


def face_match_alert_of(session: Session, sighting_id: str) -> str | None:
    """The id of a face-match alert raised on a sighting, if any (its snapshot is then kept unblurred)."""
    query = (
        select(AlertRow.id)
        .where(AlertRow.kind == AlertKind.FACE_WATCHLIST.value, AlertRow.observation_id == sighting_id)
        .limit(1)
    )
    return session.scalars(query).first()


def face_boxes(
    session: Session, camera_id: str, since: datetime, until: datetime, *, limit: int
) -> list[tuple[datetime, BBox, int | None]]:
    """(time, box in the frame, track) of each face the camera's analysis saw in [since, until)."""
    row = FaceSightingRow
    query = (
        select(row.ts, row.x, row.y, row.w, row.h, row.track_id)
        .where(row.camera_id == camera_id, row.ts >= since, row.ts < until)
        .order_by(row.ts)
        .limit(limit)
    )
    return [(ts, BBox(x, y, w, h), track) for ts, x, y, w, h, track in session.execute(query)]
