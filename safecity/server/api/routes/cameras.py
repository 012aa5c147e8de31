"""The camera register over HTTP: read by any logged-in user, changed by the admin, imported as GeoJSON.

What a reader gets is the register without stream URLs (they may carry credentials and tell where
to connect); the admin, who manages cameras, gets the URL with its password hidden (`redact_url`).
Writes use the same rules as `safecity camera add|remove|import` (`registry.validation`, the
camera store's all-or-nothing save) and are recorded in the audit log with the admin's name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, NoReturn, TypeVar

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field, field_validator

from safecity.config import CountingGeometry, Settings, redact_url
from safecity.governance import camera_changes
from safecity.governance.access import Caller
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor
from safecity.registry.errors import RegistryError
from safecity.registry.validation import parse_capabilities, validate_camera
from safecity.server.api.routes.observations import Window, page_window
from safecity.server.api.schemas import PROBLEM_RESPONSES, DomainOut
from safecity.server.problems import NotFound
from safecity.server.security import Context, CurrentCaller
from safecity.server.security import require as require_permission
from safecity.server.uploads import read_upload
from safecity.store.cameras import CameraStore, CameraStoreError
from safecity.store.field_limits import CAMERA, SITE
from safecity.types import Camera, Capability, RecordingMode

router = APIRouter(tags=["cameras"], responses=PROBLEM_RESPONSES)
T = TypeVar("T")

CAMERA_CHANGE = camera_changes.CAMERA_CHANGE


# ---------------------------------------------------------------- bodies

Capabilities = Annotated[
    list[Annotated[str, Field(max_length=CAMERA["capabilities"])]],
    # A few repeats are harmless (they are merged); a list longer than the column could hold is not.
    Field(
        max_length=CAMERA["capabilities"], description=f"Some of: {', '.join(c.value for c in Capability)}."
    ),
]


class CameraOut(DomainOut):
    id: str
    name: str
    site_id: str
    latitude: float
    longitude: float
    heading_deg: float | None
    mount_height_m: float | None
    operator: str
    capabilities: list[str]
    retention_days: int
    legal_basis: str
    enabled: bool
    zone: str
    camera_type: str
    retain_face_vectors: bool
    recording: RecordingMode
    counting: CountingGeometry | None = Field(
        None, description="Counting lines and zones in the camera's pixels; null: none registered."
    )
    stream_url: str | None = Field(
        None,
        # Never read from the camera itself: only what camera_out chose to show this caller.
        validation_alias="shown_stream_url",
        description="Only for those who manage cameras, with its password hidden; null otherwise.",
    )

    @field_validator("capabilities", mode="before")
    @classmethod
    def _sorted_names(cls, value: Iterable[Capability | str]) -> list[str]:
        return sorted(str(c) for c in value)


class CameraDetail(CameraOut):
    observations: dict[str, int] = Field(
        description="Stored observations per kind (table); empty for a camera outside the caller's limits."
    )


class SiteOut(DomainOut):
    id: str
    name: str
    latitude: float
    longitude: float
    address: str


class CameraHealthOut(DomainOut):
    camera_id: str
    state: str = Field(description="The runtime's state of the camera; 'unknown' when no runtime reports.")
    since: datetime | None = None
    last_error: str | None = None
    input_fps: float | None = None
    analysed_fps: float | None = None
    lag_s: float | None = None
    last_frame_at: datetime | None = None
    reconnects: int | None = None
    dropped: int | None = None


class CameraFields(BaseModel):
    """A camera as `safecity camera add` takes it; what is left out comes from `camera_defaults`.

    Text lengths are the register's columns (`store.field_limits`): a longer value is a 422 naming
    the field, on every database, before anything is written.
    """

    name: str = Field(min_length=1, max_length=CAMERA["name"])
    latitude: float
    longitude: float
    site_id: str | None = Field(
        None, max_length=SITE["id"], description="Site id; several cameras may share one (default site-<id>)."
    )
    site_name: str | None = Field(
        None, max_length=SITE["name"], description="Name for a new site (default: the camera's name)."
    )
    heading_deg: float | None = None
    mount_height_m: float | None = None
    operator: str | None = Field(None, max_length=CAMERA["operator"])
    capabilities: Capabilities = Field(default_factory=lambda: ["motion"])
    stream_url: str = Field("", max_length=CAMERA["stream_url"])
    retention_days: int | None = None
    legal_basis: str | None = Field(None, max_length=CAMERA["legal_basis"])
    zone: str = Field("town", max_length=CAMERA["zone"])
    camera_type: str = Field("fixed", max_length=CAMERA["camera_type"])
    enabled: bool = True
    retain_face_vectors: bool = False
    recording: RecordingMode = Field(
        RecordingMode.NONE, description="What of its video is recorded (recording.*_days say how long)."
    )
    counting: CountingGeometry | None = Field(
        None, description="Counting lines and zones in the camera's pixels (else those of the settings)."
    )


class CameraIn(CameraFields):
    id: str = Field(min_length=1, max_length=CAMERA["id"])


class CameraUpdate(BaseModel):
    """Fields to change; each one left out (or null) keeps the stored value, the stream URL included."""

    name: str | None = Field(None, min_length=1, max_length=CAMERA["name"])
    latitude: float | None = None
    longitude: float | None = None
    site_id: str | None = Field(None, max_length=SITE["id"])
    site_name: str | None = Field(None, max_length=SITE["name"])
    heading_deg: float | None = None
    mount_height_m: float | None = None
    operator: str | None = Field(None, max_length=CAMERA["operator"])
    capabilities: Capabilities | None = None
    stream_url: str | None = Field(None, max_length=CAMERA["stream_url"])
    retention_days: int | None = None
    legal_basis: str | None = Field(None, max_length=CAMERA["legal_basis"])
    zone: str | None = Field(None, max_length=CAMERA["zone"])
    camera_type: str | None = Field(None, max_length=CAMERA["camera_type"])
    enabled: bool | None = None
    retain_face_vectors: bool | None = None
    recording: RecordingMode | None = None
    counting: CountingGeometry | None = Field(
        None, description="Replaces the camera's counting lines and zones ({} removes them all)."
    )


class CameraRemoved(BaseModel):
    id: str
    snapshots_deleted: int


class ImportResult(BaseModel):
    cameras: int
    sites: int
    camera_ids: list[str]


# ---------------------------------------------------------------- helpers


def _shown_stream_url(camera: Camera, caller: Caller) -> str | None:
    return redact_url(camera.stream_url) if caller.can(Permission.MANAGE_CAMERAS) else None


def camera_out(camera: Camera, caller: Caller) -> CameraOut:
    return CameraOut.of(camera, shown_stream_url=_shown_stream_url(camera, caller))


def require(ctx: Context, caller: Caller, permission: Permission, action: str) -> None:
    """Refuse (and record the refusal) unless the caller's role holds `permission`."""
    if not caller.can(permission):
        raise ctx.gate.deny(caller, action, f"the role {caller.role} lacks {permission}")


def _camera(store: CameraStore, camera_id: str) -> Camera:
    try:
        return store.get(camera_id)
    except CameraStoreError as exc:
        raise NotFound(str(exc)) from None


def _record(ctx: Context, caller: Caller, target: str, **details: Any) -> None:
    camera_changes.record(ctx.db, Actor.of(caller), target, **details)


_invalid = camera_changes.invalid


def _built(settings: Settings, body: CameraIn) -> Camera:
    defaults = settings.camera_defaults
    try:
        camera = Camera(
            id=body.id,
            name=body.name,
            site_id=body.site_id or f"site-{body.id}",
            latitude=body.latitude,
            longitude=body.longitude,
            heading_deg=body.heading_deg,
            mount_height_m=body.mount_height_m,
            operator=body.operator if body.operator is not None else defaults.operator,
            capabilities=parse_capabilities(body.capabilities),
            stream_url=body.stream_url,
            retention_days=body.retention_days
            if body.retention_days is not None
            else defaults.retention_days,
            legal_basis=body.legal_basis if body.legal_basis is not None else defaults.legal_basis,
            enabled=body.enabled,
            zone=body.zone,
            camera_type=body.camera_type,
            retain_face_vectors=body.retain_face_vectors,
            recording=body.recording,
            counting=body.counting,
        )
        validate_camera(camera)
    except ValueError as exc:
        _invalid(body.id, exc)
    return camera


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON value")


def parse_geojson(raw: bytes, what: str) -> object:
    """Upload bytes as JSON, refused (RegistryError) as `registry.geojson.load_geojson_file` refuses files."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{what}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RegistryError(
            f"{what}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise RegistryError(f"{what}: invalid JSON: {exc}") from None


# ---------------------------------------------------------------- reads


def register_window(
    ctx: Context,
    limit: Annotated[
        int | None, Query(ge=1, description="Items on the page (default and most: api.page_max).")
    ] = None,
    offset: Annotated[int, Query(ge=0, description="Items to skip (the previous page's X-Next-Offset).")] = 0,
) -> Window:
    """A page of the register. Unlike other listings the default is `api.page_max`, not
    `api.page_default`: the listing was whole before it was paged, and a client that never asks
    for a page still gets a register of up to `api.page_max` cameras whole."""
    window = page_window(ctx, limit, offset)  # the same 422 over api.page_max as every listing
    return window if limit is not None else Window(ctx.settings.api.page_max, offset)


RegisterWindow = Annotated[Window, Depends(register_window)]
PAGED_HEADERS: dict[str, Any] = {
    "X-Next-Offset": {
        "description": "Offset of the next page; absent on the last page.",
        "schema": {"type": "integer"},
    },
    "Link": {
        "description": 'The next page as rel="next" (RFC 8288); absent on the last page.',
        "schema": {"type": "string"},
    },
}


def _paged(items: list[T], window: Window, request: Request, response: Response) -> list[T]:
    """The page of `items` (fetched `limit + 1`: the extra one only tells that more follow).

    The body stays a plain list, as before the listing was paged; where the next page starts is
    said in headers, as RFC 8288 pages a list.
    """
    if len(items) > window.limit:
        following = window.offset + window.limit
        url = request.url.include_query_params(limit=window.limit, offset=following)
        response.headers["X-Next-Offset"] = str(following)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return items[: window.limit]


@router.get("/cameras", response_model=list[CameraOut], responses={200: {"headers": PAGED_HEADERS}})
def list_cameras(
    ctx: Context,
    caller: CurrentCaller,
    window: RegisterWindow,
    request: Request,
    response: Response,
    enabled: Annotated[bool, Query(description="Only enabled cameras.")] = False,
) -> list[CameraOut]:
    """The register by id, a page at a time (any logged-in user); stream URLs only for admins,
    with passwords hidden."""
    cameras = CameraStore(ctx.db).all(enabled_only=enabled, limit=window.limit + 1, offset=window.offset)
    return _paged([camera_out(c, caller) for c in cameras], window, request, response)


@router.get("/sites", response_model=list[SiteOut], responses={200: {"headers": PAGED_HEADERS}})
def list_sites(
    ctx: Context, caller: CurrentCaller, window: RegisterWindow, request: Request, response: Response
) -> list[SiteOut]:
    """The sites cameras are mounted at, by id, a page at a time (any logged-in user)."""
    sites = CameraStore(ctx.db).sites(limit=window.limit + 1, offset=window.offset)
    return _paged(
        [SiteOut.of(s) for s in sites],
        window,
        request,
        response,
    )


@router.get(
    "/cameras/health",
    dependencies=[require_permission(Permission.VIEW_LIVE)],
    response_model=list[CameraHealthOut],
)
def camera_health(ctx: Context, caller: CurrentCaller) -> list[CameraHealthOut]:
    """Live camera states from the runtime beside the API (view_live); 'unknown' when none runs.
    A caller limited to some cameras gets only theirs, as on the live feed."""
    require(ctx, caller, Permission.VIEW_LIVE, "view camera health")
    registered = [c.id for c in CameraStore(ctx.db).all()]
    live = {h.camera_id: h for h in ctx.camera_health()} if ctx.camera_health is not None else {}
    out: list[CameraHealthOut] = []
    for camera_id in sorted(set(registered) | set(live)):
        if not caller.can(Permission.VIEW_LIVE, camera_id):
            continue
        h = live.get(camera_id)
        if h is None:
            out.append(CameraHealthOut(camera_id=camera_id, state="unknown"))
            continue
        out.append(CameraHealthOut.of(h))
    return out


@router.get("/cameras/{camera_id}", response_model=CameraDetail)
def get_camera(camera_id: str, ctx: Context, caller: CurrentCaller) -> CameraDetail:
    """One camera with its stored observation counts (counts only: no personal data); the counts
    only of a camera the caller may see (none for one outside its limits)."""
    store = CameraStore(ctx.db)
    camera = _camera(store, camera_id)
    visible = caller.camera_ids is None or camera_id in caller.camera_ids
    return CameraDetail.of(
        camera,
        shown_stream_url=_shown_stream_url(camera, caller),
        observations=store.observation_counts(camera_id) if visible else {},
    )


# ---------------------------------------------------------------- writes (admin)


@router.post(
    "/cameras",
    dependencies=[require_permission(Permission.MANAGE_CAMERAS)],
    response_model=CameraOut,
    status_code=201,
    responses={409: PROBLEM_RESPONSES[400]},
)
def add_camera(body: CameraIn, ctx: Context, caller: CurrentCaller) -> CameraOut:
    """Register one camera (manage_cameras), checked as `safecity camera add` checks it."""
    require(ctx, caller, Permission.MANAGE_CAMERAS, "add a camera")
    camera = camera_changes.add_camera(
        ctx.db, Actor.of(caller), _built(ctx.settings, body), site_name=body.site_name
    )
    return camera_out(camera, caller)


@router.put(
    "/cameras/{camera_id}",
    dependencies=[require_permission(Permission.MANAGE_CAMERAS)],
    response_model=CameraOut,
)
def update_camera(camera_id: str, body: CameraUpdate, ctx: Context, caller: CurrentCaller) -> CameraOut:
    """Change a camera (manage_cameras); fields left out keep their stored values."""
    require(ctx, caller, Permission.MANAGE_CAMERAS, "change a camera")
    _camera(CameraStore(ctx.db), camera_id)
    changes: dict[str, Any] = body.model_dump(exclude_none=True, exclude={"site_name"})
    try:
        if "capabilities" in changes:
            changes["capabilities"] = parse_capabilities(body.capabilities or [])
    except ValueError as exc:
        _invalid(camera_id, exc)
    if body.counting is not None:
        changes["counting"] = body.counting
    camera = camera_changes.update_camera(
        ctx.db, Actor.of(caller), camera_id, changes, site_name=body.site_name
    )
    return camera_out(camera, caller)


@router.delete(
    "/cameras/{camera_id}",
    dependencies=[require_permission(Permission.MANAGE_CAMERAS)],
    response_model=CameraRemoved,
    responses={409: PROBLEM_RESPONSES[400]},
)
def remove_camera(
    camera_id: str,
    ctx: Context,
    caller: CurrentCaller,
    purge: Annotated[bool, Query(description="Also delete its observations and snapshots.")] = False,
) -> CameraRemoved:
    """Remove a camera (manage_cameras); one with stored observations only with `purge` (else 409)."""
    require(ctx, caller, Permission.MANAGE_CAMERAS, "remove a camera")
    store = CameraStore(ctx.db)
    _camera(store, camera_id)
    refs = store.remove(camera_id, purge=purge)
    deleted = sum(ctx.media.delete(r) for r in refs)
    _record(ctx, caller, camera_id, change="removed", purge=purge, snapshots_deleted=deleted)
    return CameraRemoved(id=camera_id, snapshots_deleted=deleted)


@router.post(
    "/cameras/import",
    dependencies=[require_permission(Permission.MANAGE_CAMERAS)],
    response_model=ImportResult,
    responses={409: PROBLEM_RESPONSES[400], 413: PROBLEM_RESPONSES[400]},
)
def import_cameras(
    ctx: Context,
    caller: CurrentCaller,
    file: Annotated[UploadFile, File(description="GeoJSON FeatureCollection (OSM surveillance tags).")],
    replace: Annotated[bool, Query(description="Overwrite cameras with the same id.")] = False,
) -> ImportResult:
    """Import cameras from GeoJSON (manage_cameras), all or nothing, as `safecity camera import`."""
    require(ctx, caller, Permission.MANAGE_CAMERAS, "import cameras")
    what = file.filename or "upload"
    raw = read_upload(file.file, ctx.settings.api.max_upload_bytes, what)
    try:
        done = camera_changes.import_cameras(
            ctx.db, ctx.settings, Actor.of(caller), parse_geojson(raw, what), replace=replace
        )
    except CameraStoreError as exc:
        raise CameraStoreError(
            f"{exc}; nothing was imported (replace=true updates existing cameras)"
        ) from None
    return ImportResult(
        cameras=len(done.cameras), sites=len(done.sites), camera_ids=[c.id for c in done.cameras]
    )
