"""The plate hotlist and face watchlists from the web UI: list, add and remove hotlist entries;
create a watchlist under an authorisation, enrol a person from several photos, see the persons with
their reference photos, remove one.

Every change goes through the function the CLI and the API call (`governance.list_changes`, and
`enrol_uploads` of the API for an enrolment), so it is checked and audited the same way; a refusal
is the page again with the reason in words and a 4xx status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from safecity.governance import list_changes
from safecity.governance.access import AccessDenied, Caller
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor
from safecity.server.problems import Conflict, PayloadTooLarge, UnsupportedMedia
from safecity.server.web.common import (
    SECURITY_HEADERS,
    context_of,
    error_page,
    forbidden,
    guard,
    guard_post,
    parse_time,
    render,
)
from safecity.store.authorisations import AuthorisationError, AuthorisationStore
from safecity.store.face_watchlists import FaceWatchlistError, FaceWatchlistStore
from safecity.store.field_limits import AUDIT_ENTRY, HOTLIST_ENTRY, WATCHLIST, WATCHLIST_ENTRY
from safecity.store.hotlists import HotlistError, HotlistStore
from safecity.store.models import utcnow
from safecity.types import Authorisation, FaceWatchlist

router = APIRouter(include_in_schema=False)

PLATE_MAX = 50
"""As the API's hotlist body: a plate or pattern longer than this is no plate."""


def countdown(deadline: datetime | None, now: datetime) -> tuple[str, str]:
    """A deadline in words from `now` ("expires in 3 days", "expired 2 hours ago") and its CSS class."""
    if deadline is None:
        return "no deadline", ""
    seconds = (deadline - now).total_seconds()
    span = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if span >= size:
            n = int(span // size)
            words = f"{n} {unit}{'s' if n != 1 else ''}"
            break
    else:
        words = "less than a minute"
    if seconds <= 0:
        return f"{words} ago", "deadline-past"
    return f"in {words}", "deadline-soon" if seconds < 3 * 86400 else ""


def _too_long(**fields: tuple[str, int]) -> str | None:
    for name, (value, limit) in fields.items():
        if len(value) > limit:
            return f"{name.replace('_', ' ')}: at most {limit} characters, got {len(value)}"
    return None


# ------------------------------------------------------------------ hotlist


def _hotlist_page(request: Request, caller: Caller, status: int = 200, **values: Any) -> Response:
    ctx = context_of(request)
    store = HotlistStore(ctx.db, ctx.settings.hotlists)
    now = utcnow()
    with ctx.gate.read(caller, AuditAction.VIEW_SIGHTING, Permission.VIEW_OBSERVATIONS) as read:
        entries = store.all()
        read.record([e.id for e in entries], what="hotlist", via="web")

    def state(e: Any) -> str:
        if not e.active:
            return "removed"
        return "expired" if e.expires_at is not None and e.expires_at <= now else "in force"

    # Entries in force first (what an operator acts on), then the record of the rest.
    rows = sorted(((e, state(e)) for e in entries), key=lambda r: (r[1] != "in force", r[0].created_at))
    values.setdefault("form", {})
    return render(
        request,
        "hotlists.html",
        caller,
        status=status,
        entries=rows,
        may_change=caller.can(Permission.SEARCH_PLATE),
        min_reason=ctx.gate.min_reason_len,
        max_reason=HOTLIST_ENTRY["reason"],
        max_owner=HOTLIST_ENTRY["owner"],
        max_plate=PLATE_MAX,
        default_days=ctx.settings.hotlists.default_expiry_days,
        **values,
    )


@router.get("/hotlists")
def hotlists(request: Request) -> Response:
    caller = guard(request, Permission.VIEW_OBSERVATIONS)
    if isinstance(caller, Response):
        return caller
    done = request.query_params.get("done", "")
    return _hotlist_page(request, caller, done=done[:200])


@router.post("/hotlists")
def hotlist_add(
    request: Request,
    plate: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    expires: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "",
) -> Response:
    """Hotlist a plate or pattern (search_plate, as the API), through `list_changes.add_hotlist_entry`."""
    caller = guard_post(request, Permission.SEARCH_PLATE, action="change the hotlist")
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    form = {"plate": plate, "reason": reason, "owner": owner, "expires": expires, "days": days}
    problem = _too_long(
        plate=(plate, PLATE_MAX),
        reason=(reason, HOTLIST_ENTRY["reason"]),
        owner=(owner, HOTLIST_ENTRY["owner"]),
    )
    if problem is None and not plate.strip():
        problem = "plate: give a plate (BG 123-AB) or a pattern (BG*AB)"
    if problem is None and not owner.strip():
        problem = "owner: say who answers for the entry (person or unit)"
    if problem is not None:
        return _hotlist_page(request, caller, 400, form=form, error=problem)
    try:
        expires_at = parse_time("expires", expires)
        n_days = int(days) if days.strip() else None
        entry = list_changes.add_hotlist_entry(
            ctx.db,
            ctx.settings,
            Actor.of(caller),
            plate,
            reason=reason,
            owner=owner,
            expires_at=expires_at,
            days=n_days,
        )
    except ValueError as exc:  # HotlistError, ReasonRequired, a time or number that is none
        message = str(exc)
        if message.startswith("invalid literal for int()"):
            message = f"days: {days!r} is not a whole number of days"
        return _hotlist_page(request, caller, 422, form=form, error=message)
    kind = "pattern" if entry.is_pattern else "plate"
    return done_redirect("/hotlists", f"Hotlisted {kind} {entry.plate}; recorded in the audit log.")


@router.post("/hotlists/{entry_id}/remove")
def hotlist_remove(entry_id: str, request: Request, reason: Annotated[str, Form()] = "") -> Response:
    """Take an entry off the hotlist with a reason, through `list_changes.remove_hotlist_entry`."""
    caller = guard_post(request, Permission.SEARCH_PLATE, action="change the hotlist")
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    if len(reason) > AUDIT_ENTRY["justification"] or not reason.strip():
        error = "Say why the entry comes off the hotlist (it is kept in the audit log)."
        return _hotlist_page(request, caller, 400, error=error)
    try:
        entry = list_changes.remove_hotlist_entry(
            ctx.db, ctx.settings, Actor.of(caller), entry_id, reason=reason
        )
    except HotlistError as exc:
        status = 404 if str(exc).startswith("no hotlist entry") else 409
        return _hotlist_page(request, caller, status, error=str(exc)[:300])
    return done_redirect("/hotlists", f"Removed {entry.plate} from the hotlist; recorded in the audit log.")


def done_redirect(path: str, message: str) -> Response:
    # Post/redirect/get: a reload does not send the change again.
    from urllib.parse import quote

    return RedirectResponse(f"{path}?done={quote(message)}", status_code=303, headers=SECURITY_HEADERS)


# ------------------------------------------------------------------ watchlists


def _usable(auths: list[Authorisation], now: datetime) -> list[Authorisation]:
    return [a for a in auths if a.in_force(now)]


def _watchlists_page(request: Request, caller: Caller, status: int = 200, **values: Any) -> Response:
    ctx = context_of(request)
    lists = []
    if caller.can(Permission.MANAGE_WATCHLISTS):
        store = FaceWatchlistStore(ctx.db, ctx.media)
        lists = [(wl, len(store.persons(wl.id))) for wl in store.list_watchlists()]
    now = ctx.gate.clock()  # past its expiry an authorisation reads expired, swept or not
    auths = [a.as_of(now) for a in AuthorisationStore(ctx.db).list()]
    values.setdefault("form", {})
    return render(
        request,
        "watchlists.html",
        caller,
        status=status,
        watchlists=lists,
        authorisations=auths,
        usable=_usable(auths, now),
        by_id={a.id: a for a in auths},
        now=now,
        countdown=countdown,
        max_name=WATCHLIST["name"],
        max_description=WATCHLIST["description"],
        **values,
    )


@router.get("/watchlists")
def watchlists(request: Request) -> Response:
    caller = guard(request, Permission.MANAGE_WATCHLISTS, Permission.MANAGE_AUTHORISATIONS)
    if isinstance(caller, Response):
        return caller
    return _watchlists_page(request, caller, done=request.query_params.get("done", "")[:200])


@router.post("/watchlists")
def watchlist_create(
    request: Request,
    name: Annotated[str, Form()] = "",
    authorisation: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    """Create a watchlist under an authorisation in force, through `list_changes.create_watchlist`."""
    caller = guard_post(request, Permission.MANAGE_WATCHLISTS, action="create a face watchlist")
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    form = {"name": name, "authorisation": authorisation, "description": description}
    problem = _too_long(name=(name, WATCHLIST["name"]), description=(description, WATCHLIST["description"]))
    if problem is None and not name.strip():
        problem = "name: give the watchlist a name"
    if problem is None and not authorisation.strip():
        problem = "authorisation: choose the authorisation the list runs under"
    if problem is not None:
        return _watchlists_page(request, caller, 400, form=form, error=problem)
    try:
        auth = AuthorisationStore(ctx.db).get(authorisation[:100])
    except AuthorisationError:
        return _watchlists_page(request, caller, 400, form=form, error="authorisation: no such authorisation")
    try:
        wl = list_changes.create_watchlist(
            FaceWatchlistStore(ctx.db, ctx.media), Actor.of(caller), name, auth, description=description
        )
    except FaceWatchlistError as exc:  # not in force, expired, or the name is taken
        return _watchlists_page(request, caller, 409, form=form, error=str(exc))
    return done_redirect(f"/watchlists/{wl.id}", f"Watchlist {wl.name} created under {auth.reference}.")


def _watchlist_of(
    request: Request, caller: Caller, ref: str
) -> tuple[FaceWatchlistStore, FaceWatchlist] | Response:
    store = FaceWatchlistStore(context_of(request).db, context_of(request).media)
    try:
        return store, store.get(ref[:100])
    except FaceWatchlistError:
        return error_page(request, caller, 404, "Not found", "There is no such face watchlist.")


def _watchlist_page(
    request: Request,
    caller: Caller,
    store: FaceWatchlistStore,
    wl: FaceWatchlist,
    status: int = 200,
    **values: Any,
) -> Response:
    ctx = context_of(request)
    # Who is on a list is personal data: the read is recorded, as the API's and the CLI's.
    with ctx.gate.read(caller, AuditAction.VIEW_SIGHTING, Permission.MANAGE_WATCHLISTS) as read:
        persons = store.persons(wl.id)
        read.record([p.id for p in persons], what="watchlist persons", watchlist_id=wl.id, via="web")
    now = ctx.gate.clock()
    try:
        auth: Authorisation | None = AuthorisationStore(ctx.db).get(wl.authorisation_id).as_of(now)
    except AuthorisationError:
        auth = None
    values.setdefault("form", {})
    return render(
        request,
        "watchlist.html",
        caller,
        status=status,
        wl=wl,
        persons=persons,
        auth=auth,
        in_force=auth is not None and auth.in_force(now),
        max_label=WATCHLIST_ENTRY["label"],
        max_note=WATCHLIST_ENTRY["note"],
        max_upload_mb=max(1, ctx.settings.api.max_upload_bytes // 1_000_000),
        **values,
    )


@router.get("/watchlists/{ref}")
def watchlist(ref: str, request: Request) -> Response:
    caller = guard(request, Permission.MANAGE_WATCHLISTS)
    if isinstance(caller, Response):
        return caller
    found = _watchlist_of(request, caller, ref)
    if isinstance(found, Response):
        return found
    try:
        return _watchlist_page(request, caller, *found, done=request.query_params.get("done", "")[:200])
    except AccessDenied as exc:
        return forbidden(request, caller, exc)


@router.post("/watchlists/{ref}/persons")
def watchlist_enrol(
    ref: str,
    request: Request,
    label: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Enrol a person from photos through the API's `enrol_uploads`: nothing is kept unless every
    photo shows one usable face; the refusal names the photo."""
    from safecity.analytics.faces.analyser import FacePhotoError
    from safecity.server.api.routes.watchlists import enrol_uploads

    caller = guard_post(request, Permission.MANAGE_WATCHLISTS, action="enrol a person")
    if isinstance(caller, Response):
        return caller
    found = _watchlist_of(request, caller, ref)
    if isinstance(found, Response):
        return found
    store, wl = found
    form = {"label": label, "note": note}
    chosen = [p for p in photos or [] if p.filename]
    problem = _too_long(label=(label, WATCHLIST_ENTRY["label"]), note=(note, WATCHLIST_ENTRY["note"]))
    if problem is None and not label.strip():
        problem = "label: say who the person is (name or case label)"
    if problem is None and not chosen:
        problem = "photos: choose one or more photos of the person alone"
    if problem is not None:
        return _watchlist_page(request, caller, store, wl, 400, form=form, error=problem)
    try:
        person = enrol_uploads(context_of(request), caller, store, wl, label, chosen, note=note)
    except (PayloadTooLarge, UnsupportedMedia, Conflict, FacePhotoError, FaceWatchlistError) as exc:
        status = {PayloadTooLarge: 413, UnsupportedMedia: 415, Conflict: 409}.get(type(exc), 422)
        return _watchlist_page(
            request, caller, store, wl, status, form=form, error=f"{exc} Nothing was enrolled."
        )
    return done_redirect(
        f"/watchlists/{wl.id}",
        f"Enrolled {person.label} from {len(person.photos)} photos; recorded in the audit log.",
    )


@router.post("/watchlists/{ref}/persons/{person_id}/remove")
def watchlist_remove_person(
    ref: str, person_id: str, request: Request, reason: Annotated[str, Form()] = ""
) -> Response:
    """Remove one person with their photos and alerts, through `list_changes.remove_person`."""
    caller = guard_post(request, Permission.MANAGE_WATCHLISTS, action="remove an enrolled person")
    if isinstance(caller, Response):
        return caller
    found = _watchlist_of(request, caller, ref)
    if isinstance(found, Response):
        return found
    store, wl = found
    if not reason.strip() or len(reason) > AUDIT_ENTRY["justification"]:
        error = "Say why the person is removed (it is kept in the audit log)."
        return _watchlist_page(request, caller, store, wl, 400, error=error)
    try:
        removed = list_changes.remove_person(store, Actor.of(caller), wl, person_id[:100], reason=reason)
    except FaceWatchlistError as exc:
        return _watchlist_page(request, caller, store, wl, 404, error=str(exc))
    return done_redirect(
        f"/watchlists/{wl.id}",
        f"Removed the person with {removed.photos} photos and {removed.alerts} alerts; "
        "recorded in the audit log.",
    )


@router.get("/watchlists/{ref}/photos/{photo_id}")
def watchlist_photo(ref: str, photo_id: str, request: Request) -> Response:
    """An enrolled reference photo, to those who manage watchlists (shown with the persons' list,
    whose read is recorded)."""
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    caller = guard(request, Permission.MANAGE_WATCHLISTS)
    if isinstance(caller, Response):
        return caller
    found = _watchlist_of(request, caller, ref)
    if isinstance(found, Response):
        return found
    store, wl = found
    ctx = context_of(request)
    for person in store.persons(wl.id):
        for photo in person.photos:
            if photo.id == photo_id:
                path = ctx.media.path(photo.media_ref)
                if path is not None and path.is_file():
                    return Response(path.read_bytes(), media_type="image/jpeg", headers=headers)
    return Response("no such photo", status_code=404, headers=headers)
