"""Stored observations: plate reads and face sightings, listed and their snapshots shown, all recorded.

Every listing and every snapshot passes the access gate with `view_observations` and leaves a
`view_sighting` entry naming what was shown; a caller limited to some cameras sees only those.
Face sightings are listed with where the face was and how good it was, never the embedding.
A face sighting's snapshot is returned as stored: blurred, unless the face matched a watchlist,
and then it is the unblurred probe, which only those who confirm matches see (as for the alert).

The shared listing parameters (`PageWindow`, `aware`) live here; `routes.alerts` uses them too.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, TypedDict, TypeVar

from fastapi import APIRouter, Depends, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from safecity.governance.access import Caller, GatedRead
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut, Page, page_of
from safecity.server.context import ApiContext
from safecity.server.problems import BadRequest, NotFound
from safecity.server.security import Context, CurrentCaller
from safecity.server.security import require as require_permission
from safecity.store.media import MediaStore
from safecity.store.models import FaceSightingRow, PlateReadRow
from safecity.store.observation_pages import face_match_alert_of, face_sighting_page, plate_read_page

router = APIRouter(
    dependencies=[require_permission(Permission.VIEW_OBSERVATIONS)],
    prefix="/observations",
    tags=["observations"],
    responses=PROBLEM_RESPONSES,
)

T = TypeVar("T")
JPEG = "image/jpeg"
JPEG_RESPONSE: dict[int | str, dict[str, object]] = {
    200: {"content": {JPEG: {}}, "description": "The snapshot (JPEG)"}
}


# ---------------------------------------------------------------- shared listing parameters


@dataclass(frozen=True, slots=True)
class Window:
    """One page asked for: at most `limit` items from `offset` on."""

    limit: int
    offset: int


def page_window(
    ctx: Context,
    limit: Annotated[
        int | None,
        Query(ge=1, description="Items on the page (default api.page_default, most api.page_max)."),
    ] = None,
    offset: Annotated[int, Query(ge=0, description="Items to skip (the previous page's next_offset).")] = 0,
) -> Window:
    api = ctx.settings.api
    if limit is not None and limit > api.page_max:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "limit"),
                    "msg": f"Input should be less than or equal to {api.page_max} (api.page_max)",
                    "type": "less_than_equal",
                }
            ]
        )
    return Window(limit if limit is not None else min(api.page_default, api.page_max), offset)


PageWindow = Annotated[Window, Depends(page_window)]
Since = Annotated[datetime | None, Query(description="At or after this time, ISO 8601 with UTC offset.")]
Until = Annotated[datetime | None, Query(description="Before this time, ISO 8601 with UTC offset.")]
Cameras = Annotated[list[str] | None, Query(description="Only these cameras (repeatable).")]


def aware(name: str, value: datetime | None) -> datetime | None:
    """`value` if it carries a UTC offset; a naive time is ambiguous, so it is refused (400)."""
    if value is not None and value.tzinfo is None:
        raise BadRequest(f"{name}: {value.isoformat()} has no UTC offset (write e.g. 2026-05-01T08:00:00Z)")
    return value


class PageQuery(TypedDict):
    """The store's page arguments (`store.observation_pages`): one more item than shown tells that
    a next page exists."""

    camera_ids: tuple[str, ...] | None
    since: datetime | None
    until: datetime | None
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class Listing:
    """What a listing of observations or alerts asks for: a page, some cameras, a time range."""

    window: Window
    cameras: tuple[str, ...]
    since: datetime | None
    until: datetime | None

    def read(
        self, ctx: ApiContext, caller: Caller, what: str, **filters: object
    ) -> AbstractContextManager[GatedRead]:
        """The gated read (`view_observations`, recorded as `view_sighting` with the filters)."""
        details = {
            "what": what,
            **filters,
            "since": _iso(self.since),
            "until": _iso(self.until),
            "offset": self.window.offset,
        }
        return ctx.gate.read(
            caller,
            AuditAction.VIEW_SIGHTING,
            Permission.VIEW_OBSERVATIONS,
            cameras=self.cameras,
            details=details,
        )

    def query(self, read: GatedRead) -> PageQuery:
        """The store's page arguments, narrowed to the cameras the read allows."""
        return PageQuery(
            camera_ids=read.cameras,
            since=self.since,
            until=self.until,
            limit=self.window.limit + 1,
            offset=self.window.offset,
        )

    def page(self, read: GatedRead, items: list[T], ids: Callable[[T], str]) -> Page[T]:
        """Record the ids shown (not the look-ahead item) and cut the page."""
        read.record([ids(item) for item in items[: self.window.limit]])
        return page_of(items, self.window.limit, self.window.offset)


def listing(window: PageWindow, camera: Cameras = None, since: Since = None, until: Until = None) -> Listing:
    return Listing(window, tuple(camera or ()), aware("since", since), aware("until", until))


ObservationListing = Annotated[Listing, Depends(listing)]


def snapshot_response(media: MediaStore, ref: str, what: str) -> Response:
    """The JPEG a media reference names; NotFound when none was stored or the file is gone."""
    if not ref:
        raise NotFound(f"{what} has no snapshot")
    try:
        path = media.path(ref)
    except ValueError as exc:
        raise NotFound(f"{what} has no snapshot") from exc
    if not path.is_file():
        raise NotFound(f"{what}: the snapshot file is gone (deleted by retention?)")
    return Response(path.read_bytes(), media_type=JPEG, headers={"Cache-Control": "no-store"})


def deny_outside(ctx: ApiContext, read: GatedRead, camera_id: str) -> None:
    """Refuse (and record) a read of one item on a camera outside the caller's limits."""
    if not read.visible(camera_id):
        raise ctx.gate.deny(
            read.caller, AuditAction.VIEW_SIGHTING, f"camera {camera_id} is outside its limits"
        )


# ---------------------------------------------------------------- bodies


class Box(BaseModel):
    """Where in the camera frame, in pixels."""

    x: int
    y: int
    w: int
    h: int


class PlateReadOut(DomainOut):
    id: str
    camera_id: str
    time: datetime = Field(validation_alias="ts")
    text: str
    normalised: str
    country: str
    confidence: float
    bbox: Box
    has_snapshot: bool


class FaceSightingOut(DomainOut):
    id: str
    camera_id: str
    time: datetime = Field(validation_alias="ts")
    bbox: Box
    confidence: float
    quality: float
    has_vector: bool = Field(description="Whether the embedding was kept (matches, vector-keeping cameras).")
    has_snapshot: bool


class ObservationKind(enum.StrEnum):
    PLATES = "plates"
    FACES = "faces"


def _box(row: PlateReadRow | FaceSightingRow) -> Box:
    return Box(x=row.x, y=row.y, w=row.w, h=row.h)


# ---------------------------------------------------------------- routes


@router.get("/plates", response_model=Page[PlateReadOut])
def list_plate_reads(ctx: Context, caller: CurrentCaller, listing: ObservationListing) -> Page[PlateReadOut]:
    """Plate reads, newest first (`view_observations`; recorded)."""
    with listing.read(ctx, caller, "plate_reads") as read:
        rows = plate_read_page(read.session, **listing.query(read))
        items = [PlateReadOut.of(r, bbox=_box(r), has_snapshot=bool(r.snapshot)) for r in rows]
        return listing.page(read, items, lambda r: r.id)


@router.get("/faces", response_model=Page[FaceSightingOut])
def list_face_sightings(
    ctx: Context, caller: CurrentCaller, listing: ObservationListing
) -> Page[FaceSightingOut]:
    """Face sightings, newest first, without embeddings (`view_observations`; recorded)."""
    with listing.read(ctx, caller, "face_sightings") as read:
        items = [
            FaceSightingOut.of(
                s.row, bbox=_box(s.row), has_vector=s.has_vector, has_snapshot=bool(s.row.snapshot)
            )
            for s in face_sighting_page(read.session, **listing.query(read))
        ]
        return listing.page(read, items, lambda f: f.id)


@router.get(
    "/{kind}/{observation_id}/snapshot",
    response_class=Response,
    responses=JPEG_RESPONSE,
)
def observation_snapshot(
    kind: ObservationKind, observation_id: str, ctx: Context, caller: CurrentCaller
) -> Response:
    """A plate read's or face sighting's snapshot as stored (`view_observations`; recorded).

    A face sighting that matched a watchlist is stored unblurred: its snapshot is shown only to
    callers who may also confirm matches (`confirm_match`), as the alert's own snapshot is.
    """
    with ctx.gate.read(
        caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS, details={"what": f"{kind} snapshot"}
    ) as read:
        row: PlateReadRow | FaceSightingRow | None = (
            read.session.get(PlateReadRow, observation_id)
            if kind is ObservationKind.PLATES
            else read.session.get(FaceSightingRow, observation_id)
        )
        if row is None:
            raise NotFound(f"no {kind} observation with id {observation_id!r}")
        deny_outside(ctx, read, row.camera_id)
        if kind is ObservationKind.FACES:
            alert_id = face_match_alert_of(read.session, row.id)
            if alert_id is not None and not caller.can(Permission.CONFIRM_MATCH):
                raise ctx.gate.deny(
                    caller,
                    AuditAction.VIEW_SIGHTING,
                    f"sighting {row.id} matched a watchlist (alert {alert_id}); its unblurred face is "
                    f"shown only to roles with {Permission.CONFIRM_MATCH}",
                )
        response = snapshot_response(ctx.media, row.snapshot, f"{kind} observation {row.id}")
        read.record([row.id], what="snapshot", kind=str(kind), camera_id=row.camera_id)
    return response


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
