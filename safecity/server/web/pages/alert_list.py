"""The operator's alerts page: every alert the caller may see, filtered by kind, camera, status and
time, one page at a time, and bulk acknowledgement of the selected plate and camera alerts.

Listing goes through the API's `Listing` (the same gated, recorded read as `GET /api/v1/alerts`);
each acknowledgement of a bulk post is `governance.confirmation.acknowledge`, the function behind
`safecity alert ack` and `POST /api/v1/alerts/{id}/ack`, so each is checked and audited on its own.
Face matches are never acknowledged in bulk: two different people must confirm or reject them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.datastructures import QueryParams

from safecity.governance.access import AccessDenied, Caller
from safecity.governance.confirmation import AlertStatus, ConfirmationError, acknowledge
from safecity.governance.permissions import Permission
from safecity.server.api.routes.observations import Listing, Window
from safecity.server.web.common import (
    context_of,
    error_page,
    forbidden,
    guard,
    guard_post,
    parse_time,
    render,
    visible_cameras,
)
from safecity.store.alerts import StoredAlert
from safecity.store.cameras import CameraStore
from safecity.store.field_limits import ALERT_CONFIRMATION
from safecity.store.observation_pages import alert_page
from safecity.types import AlertKind, Camera

router = APIRouter(include_in_schema=False)

KIND_WORDS = {
    AlertKind.PLATE_HOTLIST: "hotlisted plate",
    AlertKind.FACE_WATCHLIST: "face match",
    AlertKind.SPEEDING: "speeding",
    AlertKind.CAMERA_HEALTH: "camera health",
}
"""Each kind as the page names it (a kind added later shows its code until it gets words here)."""
STATUS_WORDS = {
    AlertStatus.NEW: "new (not handled)",
    AlertStatus.CONFIRMING: "confirming (one of two)",
    AlertStatus.CONFIRMED: "confirmed",
    AlertStatus.REJECTED: "rejected",
    AlertStatus.ACKNOWLEDGED: "acknowledged",
}
MAX_PAGE = 100_000
PAGE_NUMBER = re.compile(r"[0-9]{1,9}")
"""ASCII digits, few of them: `str.isdigit` also takes "²", and `int` refuses 5,000 digits."""
"""Highest page number accepted: beyond it the offset is no listing a person pages through."""


class FilterError(ValueError):
    """A filter value the page cannot use; the message says which and why (a 400 page)."""


@dataclass(frozen=True, slots=True)
class Filters:
    """What the alerts page is asked to show (all empty: every alert the caller may see)."""

    kinds: tuple[AlertKind, ...] = ()
    statuses: tuple[AlertStatus, ...] = ()
    camera: str = ""
    since: datetime | None = None
    until: datetime | None = None
    since_text: str = ""
    until_text: str = ""
    page: int = 1

    def query(self, page: int | None = None) -> str:
        """The query string of these filters (on `page`, else this one)."""
        pairs: list[tuple[str, str]] = [("kind", k.value) for k in self.kinds]
        pairs += [("status", s.value) for s in self.statuses]
        for name, value in (("camera", self.camera), ("since", self.since_text), ("until", self.until_text)):
            if value:
                pairs.append((name, value))
        number = self.page if page is None else page
        if number > 1:
            pairs.append(("page", str(number)))
        return urlencode(pairs)


E = TypeVar("E", AlertKind, AlertStatus)


def _one_of(name: str, values: list[str], choices: type[E]) -> tuple[E, ...]:
    out: list[E] = []
    for value in values:
        if not value:
            continue  # "all" in the form
        try:
            out.append(choices(value))
        except ValueError:
            known = ", ".join(c.value for c in choices)
            raise FilterError(f"{name}: {value[:40]!r} is not one of {known}") from None
    return tuple(dict.fromkeys(out))


def parse_filters(params: QueryParams, cameras: list[Camera]) -> Filters:
    """The filters of a query string; FilterError names the first value that cannot be used."""
    kinds = _one_of("kind", params.getlist("kind"), AlertKind)
    statuses = _one_of("status", params.getlist("status"), AlertStatus)
    camera = params.get("camera", "").strip()
    if camera and camera not in {c.id for c in cameras}:
        raise FilterError(f"camera: there is no camera {camera[:40]!r} among the cameras you may see")
    since_text, until_text = params.get("since", "").strip(), params.get("until", "").strip()
    try:
        since, until = parse_time("from", since_text), parse_time("to", until_text)
    except ValueError as exc:
        raise FilterError(str(exc)) from None
    if since is not None and until is not None and since >= until:
        raise FilterError(f"from ({since_text}) must be before to ({until_text})")
    page_text = params.get("page", "1").strip() or "1"
    if not PAGE_NUMBER.fullmatch(page_text) or not 1 <= int(page_text) <= MAX_PAGE:
        raise FilterError(f"page: {page_text[:20]!r} is not a page number (1 to {MAX_PAGE})")
    return Filters(kinds, statuses, camera, since, until, since_text, until_text, int(page_text))


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What a bulk acknowledgement did, alert by alert."""

    acknowledged: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()
    """(alert id, why) of each alert that was not acknowledged."""


@dataclass(slots=True)
class _Shown:
    alerts: list[StoredAlert] = field(default_factory=list)
    next_page: bool = False


def _listed(request: Request, caller: Caller, filters: Filters, size: int) -> _Shown:
    """One page of alerts through the gate (recorded as the API's alert listing is)."""
    ctx = context_of(request)
    window = Window(size, (filters.page - 1) * size)
    listing = Listing(window, (filters.camera,) if filters.camera else (), filters.since, filters.until)
    kinds = [k.value for k in filters.kinds]
    statuses = [s.value for s in filters.statuses]
    with listing.read(ctx, caller, "alert list", kinds=kinds, statuses=statuses) as read:
        found = alert_page(read.session, kinds=filters.kinds, statuses=statuses, **listing.query(read))
        page = listing.page(read, found, lambda a: a.alert.id)
    return _Shown(page.items, page.next_offset is not None)


def _page(
    request: Request,
    caller: Caller,
    params: QueryParams,
    *,
    result: BulkResult | None = None,
    status: int = 200,
) -> Response:
    ctx = context_of(request)
    cameras = visible_cameras(caller, CameraStore(ctx.db).all())
    try:
        filters = parse_filters(params, cameras)
    except FilterError as exc:
        message = f"The alerts cannot be filtered that way: {exc}."
        return error_page(request, caller, 400, "Bad request", message)
    size = ctx.settings.api.alerts_page_size
    try:
        shown = _listed(request, caller, filters, size)
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    return render(
        request,
        "alerts.html",
        caller,
        status=status,
        alerts=shown.alerts,
        filters=filters,
        cameras=cameras,
        kinds=[(k, KIND_WORDS.get(k, k.value)) for k in AlertKind],
        statuses=[(s, STATUS_WORDS[s]) for s in AlertStatus],
        kind_words={k.value: KIND_WORDS.get(k, k.value) for k in AlertKind},
        previous_query=filters.query(filters.page - 1) if filters.page > 1 else None,
        next_query=filters.query(filters.page + 1) if shown.next_page else None,
        this_query=filters.query(),
        first_shown=(filters.page - 1) * size + 1,
        may_acknowledge=caller.can(Permission.CONFIRM_MATCH),
        note_max=ALERT_CONFIRMATION["note"],
        result=result,
    )


@router.get("/alerts")
def alert_list(request: Request) -> Response:
    caller = guard(request, Permission.VIEW_OBSERVATIONS)
    if isinstance(caller, Response):
        return caller
    return _page(request, caller, request.query_params)


def acknowledge_each(request: Request, caller: Caller, alert_ids: list[str], note: str) -> BulkResult:
    """Acknowledge each alert on its own (its own check, transaction and audit entry)."""
    gate = context_of(request).gate
    done: list[str] = []
    refused: list[tuple[str, str]] = []
    for alert_id in dict.fromkeys(alert_ids):
        try:
            acknowledge(gate, caller, alert_id, note)
        except ConfirmationError as exc:
            why = str(exc)
            if "face match" in why:
                why = "a face match is not acknowledged: two different people must confirm or reject it"
            refused.append((alert_id, why))
        except AccessDenied as exc:
            refused.append((alert_id, str(exc)))
        else:
            done.append(alert_id)
    return BulkResult(tuple(done), tuple(refused))


@router.post("/alerts/acknowledge")
def bulk_acknowledge(
    request: Request,
    alert: Annotated[list[str] | None, Form()] = None,
    note: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    caller = guard_post(request, Permission.CONFIRM_MATCH, action="acknowledge alerts")
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    chosen = [a.strip() for a in alert or [] if a.strip()]
    params = QueryParams(back)
    try:
        parse_filters(params, visible_cameras(caller, CameraStore(ctx.db).all()))
    except FilterError:
        params = QueryParams("")  # the list to return to is only a convenience: show it unfiltered
    if not chosen:
        return _page(
            request, caller, params, result=BulkResult(refused=(("", "no alert was selected"),)), status=400
        )
    most = ctx.settings.api.page_max
    if len(chosen) > most:
        message = (
            f"At most {most} alerts can be acknowledged at once (api.page_max); {len(chosen)} were sent."
        )
        return error_page(request, caller, 400, "Bad request", message)
    if len(note) > ALERT_CONFIRMATION["note"]:
        message = f"The note may hold at most {ALERT_CONFIRMATION['note']} characters; it has {len(note)}."
        return error_page(request, caller, 400, "Bad request", message)
    result = acknowledge_each(request, caller, chosen, note)
    return _page(request, caller, params, result=result, status=200 if result.acknowledged else 409)
