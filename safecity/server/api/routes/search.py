"""Retrospective searches: plates by text or pattern, faces by photo. Each needs a reason and is recorded.

The same domain functions as `safecity search plate` / `safecity search face`: `PlateQuery.parse`, then
`search.plates.search_plates_gated` and `search.faces.search_face`, through the access gate. A role without
the permission is refused (403, recorded) before anything is parsed or a model is loaded; a
missing reason is a 422 problem. A face photo is an upload: at most `api.max_upload_bytes`
(413), JPEG or PNG that decodes as an image (415); the search records its SHA-256, not the photo.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from safecity.analytics.image_header import ImageLimits
from safecity.governance.access import Caller, ReasonRequired, check_reason
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.search.plates import search_plates_gated
from safecity.server.api.routes.observations import aware
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut, Problem
from safecity.server.context import ApiContext
from safecity.server.limits import check_list_length
from safecity.server.problems import BadRequest
from safecity.server.security import Context, CurrentCaller
from safecity.server.security import require as require_permission
from safecity.server.uploads import image_suffix, read_upload
from safecity.store.cameras import CameraStore
from safecity.store.field_limits import AUDIT_ENTRY, ID_MAX
from safecity.store.plate_search import PlateQuery, SearchMode
from safecity.types import PlateMatchKind

router = APIRouter(prefix="/search", tags=["search"], responses=PROBLEM_RESPONSES)
CameraId = Annotated[str, Field(max_length=ID_MAX)]

UPLOAD_RESPONSES: dict[int | str, dict[str, object]] = {
    413: {"model": Problem, "description": "The photo is larger than api.max_upload_bytes"},
    415: {"model": Problem, "description": "The photo is not a JPEG or PNG image"},
}


# ---------------------------------------------------------------- bodies


class PlateSearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=64, description="Plate (BG 123-AB) or pattern (BG*AB).")
    mode: SearchMode | None = Field(
        None, description="Default: wildcard if the query has * or ?, else exact."
    )
    cameras: list[CameraId] = Field(
        default_factory=list, description="Only these cameras (at most api.max_list_items)."
    )
    site: str | None = Field(None, max_length=ID_MAX, description="Only cameras at this site.")
    since: datetime | None = Field(None, description="Reads at or after, ISO 8601 with UTC offset.")
    until: datetime | None = Field(None, description="Reads before, ISO 8601 with UTC offset.")
    limit: int | None = Field(None, ge=1, description="Most results (default search.default_limit).")
    reason: str = Field(
        "",
        max_length=AUDIT_ENTRY["justification"],
        description="Why (case number, purpose); required, recorded.",
    )


class PlateHit(DomainOut):
    """A `PlateSearchHit` as the API shows it (`time` is its timestamp)."""

    id: str
    time: datetime = Field(validation_alias="timestamp")
    camera_id: str
    site_id: str
    text: str
    normalised: str
    country: str
    confidence: float
    match: PlateMatchKind


class PlateSearchResponse(BaseModel):
    plate: str = Field(description="The query as searched (normalised).")
    mode: SearchMode
    hits: list[PlateHit]
    audit_seq: int = Field(description="The audit entry that records this search.")


class FaceHit(BaseModel):
    sighting_id: str
    camera_id: str
    time: datetime
    distance: float
    match: bool = Field(description="Whether the distance is within faces.match_threshold.")


class FaceSearchResponse(BaseModel):
    hits: list[FaceHit]
    searched_vectors: int
    photo_sha256: str
    audit_seq: int = Field(description="The audit entry that records this search.")


# ---------------------------------------------------------------- plates


def _require(ctx: ApiContext, caller: Caller, action: AuditAction, permission: Permission) -> None:
    """Refuse (and record) a role without the permission before any work is done for it."""
    if not caller.can(permission):
        raise ctx.gate.deny(caller, action, f"the role {caller.role} lacks {permission}")


def _check_cameras(ctx: ApiContext, cameras: list[str], site: str | None) -> None:
    store = CameraStore(ctx.db)
    known = store.known(cameras)
    for camera_id in cameras:
        if camera_id not in known:
            raise BadRequest(f"cameras: no camera with id {camera_id!r}")
    if site is not None and site not in {x.id for x in store.sites()}:
        raise BadRequest(f"site: no site with id {site!r}")


@router.post(
    "/plates", dependencies=[require_permission(Permission.SEARCH_PLATE)], response_model=PlateSearchResponse
)
def search_plate_reads(body: PlateSearchRequest, ctx: Context, caller: CurrentCaller) -> PlateSearchResponse:
    """Search stored plate reads, newest first; fuzzy: closest first (`search_plate`, reason; recorded)."""
    _require(ctx, caller, AuditAction.SEARCH_PLATE, Permission.SEARCH_PLATE)
    s = ctx.settings
    check_list_length(s, body.cameras, "body", "cameras")
    limit = body.limit if body.limit is not None else s.search.default_limit
    if limit > s.search.max_limit:
        raise BadRequest(f"limit must be at most {s.search.max_limit} (search.max_limit), got {limit}")
    try:
        query = PlateQuery.parse(
            body.query,
            body.mode,
            camera_ids=body.cameras,
            site_id=body.site,
            since=aware("since", body.since),
            until=aware("until", body.until),
            limit=limit,
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    _check_cameras(ctx, body.cameras, body.site)
    result = search_plates_gated(
        ctx.gate,
        caller,
        query,
        body.reason,
        {"query": body.query, "mode": body.mode.value if body.mode else None, "site": body.site},
    )
    return PlateSearchResponse(
        plate=query.plate,
        mode=query.mode,
        hits=[PlateHit.of(h) for h in result.hits],
        audit_seq=result.audit_seq,
    )


# ---------------------------------------------------------------- faces


def _photo_invalid(message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", "photo"), "msg": message, "type": "value_error"}])


@router.post(
    "/faces",
    dependencies=[require_permission(Permission.SEARCH_FACE)],
    response_model=FaceSearchResponse,
    responses=UPLOAD_RESPONSES,
)
def search_faces(
    ctx: Context,
    caller: CurrentCaller,
    photo: Annotated[UploadFile, File(description="Photo of the person sought (one face), JPEG or PNG.")],
    reason: Annotated[
        str,
        Form(
            max_length=AUDIT_ENTRY["justification"],
            description="Why (case number, purpose); required, recorded.",
        ),
    ] = "",
    cameras: Annotated[
        list[CameraId] | None,
        Form(description="Only these cameras (repeatable, at most api.max_list_items)."),
    ] = None,
    since: Annotated[
        datetime | None, Form(description="Sightings at or after, ISO 8601 with offset.")
    ] = None,
    until: Annotated[datetime | None, Form(description="Sightings before, ISO 8601 with offset.")] = None,
    k: Annotated[int | None, Form(ge=1, description="Results (default faces.search_default_k).")] = None,
) -> FaceSearchResponse:
    """Find the stored face sightings nearest to a photo (`search_face`, reason; recorded with the
    photo's SHA-256). Only sightings whose vectors were kept are searchable."""
    from safecity.analytics.faces.analyser import FacePhotoError
    from safecity.search.faces import FaceQuery, FaceSearch, FaceSearchError

    _require(ctx, caller, AuditAction.SEARCH_FACE, Permission.SEARCH_FACE)
    check_list_length(ctx.settings, cameras, "body", "cameras")
    check_reason(reason, ctx.gate.min_reason_len, "a face search")
    s = ctx.settings
    top = k if k is not None else s.faces.search_default_k
    if top > s.search.max_limit:
        raise BadRequest(f"k must be at most {s.search.max_limit} (search.max_limit), got {top}")
    start, end = aware("since", since), aware("until", until)
    data = read_upload(photo.file, s.api.max_upload_bytes)
    limits = ImageLimits.of(s.api)
    suffix = image_suffix(photo.content_type, data, limits)
    try:
        result = FaceSearch(ctx.analyser(), ctx.face_index(), ctx.gate, limits).upload(
            data, suffix, caller, FaceQuery(reason, top, cameras or (), start, end)
        )
    except FacePhotoError as exc:
        raise _photo_invalid(str(exc)) from exc
    except FaceSearchError as exc:
        raise ReasonRequired(str(exc)) from exc
    threshold = s.faces.match_threshold
    return FaceSearchResponse(
        hits=[
            FaceHit(
                sighting_id=h.sighting_id,
                camera_id=h.camera_id,
                time=h.timestamp,
                distance=round(h.distance, 4),
                match=h.distance <= threshold,
            )
            for h in result.hits
        ],
        searched_vectors=result.searched_vectors,
        photo_sha256=result.photo_sha256,
        audit_seq=result.audit_seq,
    )
