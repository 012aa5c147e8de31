"""Legal authorisations for face matching over HTTP: recorded and decided by the admin.

Investigators read them (a watchlist is created under one); only the admin records an
authorisation and enters the authority's decision, as `safecity authorisation add|approve|refuse`
do. A refusal is enforced at once: every watchlist under it is deleted with its matches
(`governance.authorisations.enforce`), and each step is in the audit log under the admin's name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from safecity.governance.access import Caller
from safecity.governance.list_changes import decide_authorisation, record_authorisation
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor
from safecity.server.api.routes.cameras import require
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut
from safecity.server.limits import check_list_length
from safecity.server.problems import Conflict, NotFound
from safecity.server.security import Context, CurrentCaller
from safecity.server.security import require as require_permission
from safecity.store.authorisations import USES, AuthorisationError, AuthorisationStore
from safecity.store.field_limits import AUDIT_ENTRY, AUTHORISATION, ID_MAX
from safecity.types import Authorisation, AuthorisationPurpose

router = APIRouter(tags=["authorisations"], responses=PROBLEM_RESPONSES)


class AuthorisationOut(DomainOut):
    id: str
    authority: str
    reference: str
    purpose: AuthorisationPurpose
    cameras: list[str] = Field(validation_alias="camera_ids")
    valid_from: datetime
    valid_until: datetime
    expires_at: datetime
    status: str = Field(description="approved, pending (urgent use), refused, lapsed or expired")
    urgent: bool
    use: str
    approval_deadline: datetime | None
    note: str
    created_by: str
    created_at: datetime
    decided_by: str
    decided_at: datetime | None


class AuthorisationIn(BaseModel):
    authority: str = Field(
        min_length=1, max_length=AUTHORISATION["authority"], description="Court or authority that granted it."
    )
    reference: str = Field(
        min_length=1, max_length=AUTHORISATION["reference"], description="The authority's reference number."
    )
    purpose: AuthorisationPurpose
    cameras: list[Annotated[str, Field(max_length=ID_MAX)]] = Field(
        min_length=1, description="Cameras it allows (at most api.max_list_items)."
    )
    valid_from: datetime
    valid_until: datetime
    expires_at: datetime | None = Field(None, description="When it lapses (default: end of the window).")
    note: str = Field("", max_length=AUTHORISATION["note"])
    urgent: bool = Field(False, description="Urgent use before approval: pending until approved in time.")
    use: str = Field(
        "realtime",
        max_length=AUTHORISATION["use"],
        description=f"One of: {', '.join(USES)} (sets the urgent deadline).",
    )


class Refusal(BaseModel):
    reason: str = Field(
        min_length=1,
        max_length=AUDIT_ENTRY["justification"],
        description="The authority's decision (reference, grounds).",
    )


class Enforced(BaseModel):
    authorisation_id: str
    reference: str
    status: str
    watchlists: int
    persons: int
    alerts: int
    vectors: int


class Decision(BaseModel):
    authorisation: AuthorisationOut
    enforced: list[Enforced] = Field(description="Authorisations ended now, and what was deleted under them.")


def authorisation_out(a: Authorisation) -> AuthorisationOut:
    return AuthorisationOut.of(a)


def find_authorisation(store: AuthorisationStore, ref: str) -> Authorisation:
    """An authorisation by id, else by reference (as the CLI finds them); NotFound otherwise."""
    try:
        return store.get(ref)
    except AuthorisationError:
        try:
            return store.find(ref)
        except AuthorisationError as exc:
            raise NotFound(str(exc)) from None


@router.get("/authorisations", response_model=list[AuthorisationOut])
def list_authorisations(ctx: Context, caller: CurrentCaller) -> list[AuthorisationOut]:
    """Every authorisation, oldest first (manage_authorisations or manage_watchlists)."""
    if not (caller.can(Permission.MANAGE_AUTHORISATIONS) or caller.can(Permission.MANAGE_WATCHLISTS)):
        raise ctx.gate.deny(caller, "list authorisations", f"the role {caller.role} manages neither")
    now = ctx.gate.clock()  # an authorisation past its expiry reads expired before any sweep
    return [authorisation_out(a.as_of(now)) for a in AuthorisationStore(ctx.db).list()]


@router.post(
    "/authorisations",
    dependencies=[require_permission(Permission.MANAGE_AUTHORISATIONS)],
    response_model=AuthorisationOut,
    status_code=201,
)
def add_authorisation(body: AuthorisationIn, ctx: Context, caller: CurrentCaller) -> AuthorisationOut:
    """Record an authorisation (manage_authorisations); urgent ones start pending with a deadline."""
    require(ctx, caller, Permission.MANAGE_AUTHORISATIONS, "record an authorisation")
    check_list_length(ctx.settings, body.cameras, "body", "cameras")
    auth = record_authorisation(
        ctx.db,
        ctx.settings,
        Actor.of(caller),
        authority=body.authority,
        reference=body.reference,
        purpose=body.purpose,
        cameras=body.cameras,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        expires_at=body.expires_at,
        note=body.note,
        urgent=body.urgent,
        use=body.use,
    )
    return authorisation_out(auth)


def _decide(ctx: Context, caller: Caller, ref: str, state: str, reason: str) -> Decision:
    require(ctx, caller, Permission.MANAGE_AUTHORISATIONS, f"record an authorisation as {state}")
    store = AuthorisationStore(ctx.db)
    auth = find_authorisation(store, ref)
    try:
        decided, done = decide_authorisation(ctx.db, ctx.settings, Actor.of(caller), auth.id, state, reason)
    except AuthorisationError as exc:
        raise Conflict(str(exc)) from None
    return Decision(
        authorisation=authorisation_out(store.get(decided.id).as_of(ctx.gate.clock())),
        enforced=[
            Enforced(
                authorisation_id=d.authorisation_id,
                reference=d.reference,
                status=d.status,
                watchlists=d.watchlists,
                persons=d.removal.persons,
                alerts=d.removal.alerts,
                vectors=d.removal.vectors,
            )
            for d in done
        ],
    )


@router.post(
    "/authorisations/{authorisation_id}/approve",
    dependencies=[require_permission(Permission.MANAGE_AUTHORISATIONS)],
    response_model=Decision,
    responses={409: PROBLEM_RESPONSES[400]},
)
def approve_authorisation(authorisation_id: str, ctx: Context, caller: CurrentCaller) -> Decision:
    """Record the authority's approval of a pending (urgent) authorisation, before its deadline (409 else)."""
    return _decide(ctx, caller, authorisation_id, "approved", "approved by the authority")


@router.post(
    "/authorisations/{authorisation_id}/refuse",
    dependencies=[require_permission(Permission.MANAGE_AUTHORISATIONS)],
    response_model=Decision,
    responses={409: PROBLEM_RESPONSES[400]},
)
def refuse_authorisation(
    authorisation_id: str, body: Refusal, ctx: Context, caller: CurrentCaller
) -> Decision:
    """Record a refusal: matching stops, and every watchlist under it is deleted with its matches."""
    return _decide(ctx, caller, authorisation_id, "refused", body.reason)
