"""Face watchlists over HTTP: created under an authorisation, persons enrolled from photos, removed.

Investigators (manage_watchlists) do what `safecity watchlist create|enrol|list|remove` do, with
the same store and enrolment code. Who is on a list is personal data: reading the persons passes
the access gate and is recorded; every change is an audit entry naming the investigator.
"""

from __future__ import annotations

import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from pydantic import BaseModel, Field

from safecity.analytics.image_header import ImageLimits
from safecity.governance import list_changes
from safecity.governance.access import Caller
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor
from safecity.server.api.routes.authorisations import find_authorisation
from safecity.server.api.routes.cameras import require
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut
from safecity.server.context import ApiContext
from safecity.server.problems import BadRequest, Conflict, NotFound, UnsupportedMedia
from safecity.server.security import Context, CurrentCaller
from safecity.server.security import require as require_permission
from safecity.server.uploads import check_photo, read_upload
from safecity.store.authorisations import AuthorisationStore
from safecity.store.face_watchlists import FaceWatchlistError, FaceWatchlistStore, Removal
from safecity.store.field_limits import AUTHORISATION, ID_MAX, WATCHLIST, WATCHLIST_ENTRY
from safecity.store.models import utcnow
from safecity.types import FaceWatchlist, WatchlistPerson

router = APIRouter(
    dependencies=[require_permission(Permission.MANAGE_WATCHLISTS)],
    tags=["watchlists"],
    responses=PROBLEM_RESPONSES,
)

UPLOAD_RESPONSES: dict[int | str, dict[str, object]] = {
    409: PROBLEM_RESPONSES[400],
    413: PROBLEM_RESPONSES[400],
    415: PROBLEM_RESPONSES[400],
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class WatchlistOut(DomainOut):
    id: str
    name: str
    description: str
    version: int
    authorisation_id: str
    persons: int
    created_by: str
    created_at: datetime


class WatchlistIn(BaseModel):
    name: str = Field(min_length=1, max_length=WATCHLIST["name"])
    authorisation: str = Field(
        min_length=1,
        max_length=max(ID_MAX, AUTHORISATION["reference"]),
        description="Authorisation id or reference it runs under.",
    )
    description: str = Field("", max_length=WATCHLIST["description"])


class PhotoOut(DomainOut):
    id: str
    quality: float


class PersonOut(DomainOut):
    id: str
    watchlist_id: str
    label: str
    note: str
    created_at: datetime
    photos: list[PhotoOut]


class RemovalOut(DomainOut):
    persons: int
    photos: int
    alerts: int
    vectors: int = Field(
        description="Face vectors that were kept only because they matched what was removed."
    )


def watchlist_out(wl: FaceWatchlist, persons: int) -> WatchlistOut:
    return WatchlistOut.of(wl, persons=persons)


def person_out(p: WatchlistPerson) -> PersonOut:
    return PersonOut.of(p)


def removal_out(r: Removal) -> RemovalOut:
    return RemovalOut.of(r)


def _store(ctx: Context) -> FaceWatchlistStore:
    return FaceWatchlistStore(ctx.db, ctx.media)


def _watchlist(store: FaceWatchlistStore, ref: str) -> FaceWatchlist:
    try:
        return store.get(ref)
    except FaceWatchlistError as exc:
        raise NotFound(str(exc)) from None


@router.get("/watchlists", response_model=list[WatchlistOut])
def list_watchlists(ctx: Context, caller: CurrentCaller) -> list[WatchlistOut]:
    """The face watchlists with their persons counted (manage_watchlists)."""
    require(ctx, caller, Permission.MANAGE_WATCHLISTS, "list face watchlists")
    store = _store(ctx)
    return [watchlist_out(wl, len(store.persons(wl.id))) for wl in store.list_watchlists()]


@router.get("/watchlists/{watchlist}/persons", response_model=list[PersonOut])
def list_persons(watchlist: str, ctx: Context, caller: CurrentCaller) -> list[PersonOut]:
    """The persons enrolled on a list, by id or name (manage_watchlists; the read is recorded)."""
    store = _store(ctx)
    with ctx.gate.read(caller, AuditAction.VIEW_SIGHTING, Permission.MANAGE_WATCHLISTS) as read:
        wl = _watchlist(store, watchlist)
        persons = store.persons(wl.id)
        read.record([p.id for p in persons], what="watchlist persons", watchlist_id=wl.id)
    return [person_out(p) for p in persons]


@router.post(
    "/watchlists", response_model=WatchlistOut, status_code=201, responses={409: PROBLEM_RESPONSES[400]}
)
def create_watchlist(body: WatchlistIn, ctx: Context, caller: CurrentCaller) -> WatchlistOut:
    """Create an empty list under an approved authorisation (manage_watchlists); 409 if it is not in force."""
    require(ctx, caller, Permission.MANAGE_WATCHLISTS, "create a face watchlist")
    try:
        auth = find_authorisation(AuthorisationStore(ctx.db), body.authorisation)
    except NotFound as exc:
        raise BadRequest(f"authorisation: {exc}") from None
    try:
        wl = list_changes.create_watchlist(
            _store(ctx), Actor.of(caller), body.name, auth, description=body.description
        )
    except FaceWatchlistError as exc:  # not in force, expired, or the name is taken
        raise Conflict(str(exc)) from None
    return watchlist_out(wl, 0)


@router.post(
    "/watchlists/{watchlist}/persons",
    response_model=PersonOut,
    status_code=201,
    responses=UPLOAD_RESPONSES,
)
def enrol_person(
    watchlist: str,
    ctx: Context,
    caller: CurrentCaller,
    label: Annotated[
        str, Form(min_length=1, max_length=WATCHLIST_ENTRY["label"], description="Who the person is.")
    ],
    photos: Annotated[list[UploadFile], File(description="Photos of the person alone (one face each).")],
    note: Annotated[str, Form(max_length=WATCHLIST_ENTRY["note"])] = "",
) -> PersonOut:
    """Enrol a person from photos (manage_watchlists): each must show one usable face, or nothing is kept.

    Each photo may be up to `api.max_upload_bytes` and declare at most `api.max_image_pixels` and
    `api.max_image_side` (413, read from its header before anything is decoded) and must be an
    image (415); a photo without exactly one usable face is a 422 naming it.
    """
    require(ctx, caller, Permission.MANAGE_WATCHLISTS, "enrol a person")
    from safecity.analytics.faces.analyser import FacePhotoError

    store = _store(ctx)
    wl = _watchlist(store, watchlist)
    try:
        person = enrol_uploads(ctx, caller, store, wl, label, photos, note=note)
    except FacePhotoError as exc:
        raise HTTPException(422, str(exc)) from None
    return person_out(person)


@router.delete("/watchlists/{watchlist}", response_model=RemovalOut)
def remove_watchlist(watchlist: str, ctx: Context, caller: CurrentCaller) -> RemovalOut:
    """Delete a list with its persons, photos, templates and alerts (manage_watchlists)."""
    require(ctx, caller, Permission.MANAGE_WATCHLISTS, "remove a face watchlist")
    store = _store(ctx)
    wl = _watchlist(store, watchlist)
    removed = list_changes.remove_watchlist(store, Actor.of(caller), wl)
    return removal_out(removed)


@router.delete("/watchlists/{watchlist}/persons/{person_id}", response_model=RemovalOut)
def remove_person(watchlist: str, person_id: str, ctx: Context, caller: CurrentCaller) -> RemovalOut:
    """Delete one enrolled person with their photos and alerts (manage_watchlists)."""
    require(ctx, caller, Permission.MANAGE_WATCHLISTS, "remove an enrolled person")
    store = _store(ctx)
    wl = _watchlist(store, watchlist)
    try:
        removed = list_changes.remove_person(store, Actor.of(caller), wl, person_id)
    except FaceWatchlistError as exc:
        raise NotFound(str(exc)) from None
    return removal_out(removed)


def enrol_uploads(
    ctx: ApiContext,
    caller: Caller,
    store: FaceWatchlistStore,
    wl: FaceWatchlist,
    label: str,
    photos: list[UploadFile],
    *,
    note: str = "",
) -> WatchlistPerson:
    """Enrol `label` on `wl` from uploaded photos and record it: the one path behind the API and the
    web page. Conflict if the list's authorisation is not in force; PayloadTooLarge or
    UnsupportedMedia naming the photo; FacePhotoError (naming the photo) when one has no usable face,
    and then nothing is enrolled."""
    from safecity.analytics.faces.analyser import FacePhotoError
    from safecity.watch.face_enrolment import enrol_photos

    auth = AuthorisationStore(ctx.db).get(wl.authorisation_id)
    if not auth.in_force(utcnow()):
        raise Conflict(
            f"authorisation {auth.reference} is {auth.status}, not in force: nothing can be enrolled"
        )
    limit, limits = ctx.settings.api.max_upload_bytes, ImageLimits.of(ctx.settings.api)
    uploads: list[tuple[str, bytes]] = []
    for i, photo in enumerate(photos):
        name = f"{i + 1}-{_SAFE_NAME.sub('_', photo.filename or 'photo')[:80]}"
        data = read_upload(photo.file, limit, f"photo {photo.filename or i + 1}")
        if not (photo.content_type or "image/").startswith("image/"):
            raise UnsupportedMedia(
                f"photo {photo.filename or i + 1}: not an image (JPEG, PNG, BMP, WebP or TIFF expected)"
            )
        # The format from the header, and the size it declares, before anything decodes the photo.
        check_photo(data, limits, f"photo {photo.filename or i + 1}")
        uploads.append((name, data))
    with tempfile.TemporaryDirectory(prefix="safecity-enrol-") as tmp:
        paths = []
        for name, data in uploads:
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(path)
        try:
            person = enrol_photos(ctx.analyser(), store, wl.id, label, paths, note=note, limits=limits)
        except FacePhotoError as exc:
            raise FacePhotoError(str(exc).replace(f"{tmp}/", "photo ")) from None
    list_changes.record_enrolment(store, Actor.of(caller), wl, person.id, person.label, len(paths))
    return person
