"""The plate hotlist over HTTP: read through the access gate, changed by operators and investigators.

The same rules as `safecity hotlist add|list|remove` (`store.hotlists`); reading the list is a
recorded read of personal data (plates sought, and why), each change an audit entry naming who.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from safecity.governance import list_changes
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor
from safecity.server.api.routes.cameras import require
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut
from safecity.server.problems import BadRequest, Conflict, NotFound
from safecity.server.security import Context, CurrentCaller
from safecity.server.security import require as require_permission
from safecity.store.field_limits import HOTLIST_ENTRY
from safecity.store.hotlists import HotlistError, HotlistStore
from safecity.store.models import utcnow
from safecity.types import HotlistEntry

router = APIRouter(tags=["hotlists"], responses=PROBLEM_RESPONSES)


class HotlistEntryOut(DomainOut):
    id: str
    plate: str
    pattern: bool = Field(validation_alias="is_pattern")
    reason: str
    owner: str
    created_at: datetime
    expires_at: datetime | None
    removed_at: datetime | None
    status: str = Field(description="active, expired or removed")


class HotlistEntryIn(BaseModel):
    plate: str = Field(min_length=1, max_length=50, description="Plate (BG 123-AB) or pattern (BG*AB).")
    reason: str = Field(
        min_length=1, max_length=HOTLIST_ENTRY["reason"], description="Why the plate is wanted."
    )
    owner: str = Field(
        min_length=1, max_length=HOTLIST_ENTRY["owner"], description="Who answers for the entry."
    )
    days: int | None = Field(None, ge=1, le=3650, description="Lapse after this many days.")
    expires_at: datetime | None = Field(None, description="When it lapses (ISO 8601 with offset).")


def _status(entry: HotlistEntry, now: datetime) -> str:
    if not entry.active:
        return "removed"
    return "active" if entry.in_force(now) else "expired"


def entry_out(entry: HotlistEntry, now: datetime) -> HotlistEntryOut:
    return HotlistEntryOut.of(entry, status=_status(entry, now))


@router.get(
    "/hotlists",
    dependencies=[require_permission(Permission.VIEW_OBSERVATIONS)],
    response_model=list[HotlistEntryOut],
)
def list_hotlist(
    ctx: Context,
    caller: CurrentCaller,
    all_entries: Annotated[bool, Query(alias="all", description="Also expired and removed entries.")] = False,
) -> list[HotlistEntryOut]:
    """The entries in force, or every entry (view_observations; the read is recorded)."""
    store = HotlistStore(ctx.db, ctx.settings.hotlists)
    now = utcnow()
    with ctx.gate.read(caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as read:
        entries = store.all() if all_entries else store.in_force(now)
        read.record([e.id for e in entries], what="hotlist", all=all_entries)
    return [entry_out(e, now) for e in entries]


@router.post(
    "/hotlists",
    dependencies=[require_permission(Permission.SEARCH_PLATE)],
    response_model=HotlistEntryOut,
    status_code=201,
)
def add_hotlist_entry(body: HotlistEntryIn, ctx: Context, caller: CurrentCaller) -> HotlistEntryOut:
    """Hotlist a plate or pattern (search_plate); default expiry `hotlists.default_expiry_days`."""
    require(ctx, caller, Permission.SEARCH_PLATE, "change the hotlist")
    if body.days is not None and body.expires_at is not None:
        raise BadRequest("give days or expires_at, not both")
    now = utcnow()
    entry = list_changes.add_hotlist_entry(
        ctx.db,
        ctx.settings,
        Actor.of(caller),
        body.plate,
        reason=body.reason,
        owner=body.owner,
        expires_at=body.expires_at,
        days=body.days,
        now=now,
    )
    return entry_out(entry, now)


@router.delete(
    "/hotlists/{entry_id}",
    dependencies=[require_permission(Permission.SEARCH_PLATE)],
    response_model=HotlistEntryOut,
    responses={409: PROBLEM_RESPONSES[400]},
)
def remove_hotlist_entry(entry_id: str, ctx: Context, caller: CurrentCaller) -> HotlistEntryOut:
    """Take an entry off the hotlist (search_plate): it stops matching, stays on record (409 if removed)."""
    require(ctx, caller, Permission.SEARCH_PLATE, "change the hotlist")
    store = HotlistStore(ctx.db, ctx.settings.hotlists)
    try:
        store.get(entry_id)
    except HotlistError as exc:
        raise NotFound(str(exc)) from None
    try:
        entry = list_changes.remove_hotlist_entry(ctx.db, ctx.settings, Actor.of(caller), entry_id)
    except HotlistError as exc:
        raise Conflict(str(exc)) from None
    return entry_out(entry, utcnow())
