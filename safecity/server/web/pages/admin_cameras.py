"""Administrator screens for the camera register: list, add, edit, disable, import, counting lines.

Every change goes through `governance.camera_changes`, the functions the API calls, so it is
validated and audited (`camera_change`) the same way. A refusal is the page again with the reason
next to the field and the values kept, and a 4xx status. A stream URL's password is never put in
a page: the form shows it hidden and an empty stream URL field keeps the stored one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import cv2
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from safecity.config import CountingGeometry, redact_url
from safecity.governance import camera_changes
from safecity.governance.access import Caller
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.permissions import Permission
from safecity.governance.users import Actor
from safecity.registry.errors import RegistryError
from safecity.registry.validation import parse_capabilities, parse_plate_countries
from safecity.server.api.routes.cameras import parse_geojson
from safecity.server.problems import PayloadTooLarge
from safecity.server.uploads import read_upload
from safecity.server.web.common import (
    SECURITY_HEADERS,
    camera_states,
    context_of,
    error_page,
    guard,
    guard_post,
    render,
)
from safecity.store.cameras import CameraStore, CameraStoreError
from safecity.types import Camera, Capability, RecordingMode

router = APIRouter(include_in_schema=False)

TEXT_FIELDS = ("id", "name", "site_id", "site_name", "operator", "legal_basis", "zone", "camera_type")
NUMBER_FIELDS = ("latitude", "longitude", "heading_deg", "mount_height_m")
FIELD_LABELS = {
    "id": "Camera id",
    "name": "Name",
    "site_id": "Site id",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "heading_deg": "Heading",
    "mount_height_m": "Mount height",
    "operator": "Operator",
    "capabilities": "Analyses",
    "stream_url": "Stream URL",
    "retention_days": "Retention",
    "legal_basis": "Legal basis",
    "zone": "Zone",
    "camera_type": "Camera type",
    "plate_countries": "Plate countries",
    "recording": "Recording",
    "counting": "Counting lines",
}
STILL_JPEG_QUALITY = 85
"""JPEG quality of the still an admin draws counting lines on (only shown, never stored)."""


def _done(path: str, message: str) -> RedirectResponse:
    """After a change, the page again with what was done said at its top (post, redirect, get)."""
    location = f"{path}?{urlencode({'done': message})}#done"
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


class FieldError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{FIELD_LABELS.get(field, field)}: {reason}")


def _form_values(form: FormData) -> dict[str, Any]:
    """The posted form as the template refills it (never the stream URL: it may hold a password)."""
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in (*TEXT_FIELDS, *NUMBER_FIELDS)}
    for k in ("retention_days", "plate_countries", "recording"):
        values[k] = str(form.get(k, "")).strip()
    values["capabilities"] = [str(v) for v in form.getlist("capabilities")]
    values["enabled"] = form.get("enabled") is not None
    values["retain_face_vectors"] = form.get("retain_face_vectors") is not None
    return values


def _number(values: dict[str, Any], name: str, *, required: bool) -> float | None:
    text = values[name]
    if not text:
        if required:
            raise FieldError(name, "required")
        return None
    try:
        return float(text)
    except ValueError:
        raise FieldError(name, f"{text!r} is not a number") from None


def _fields(values: dict[str, Any], stream_url: str | None) -> dict[str, Any]:
    """The Camera fields a form gives (FieldError naming the first bad one)."""
    fields: dict[str, Any] = {
        "name": values["name"],
        "latitude": _number(values, "latitude", required=True),
        "longitude": _number(values, "longitude", required=True),
        "heading_deg": _number(values, "heading_deg", required=False),
        "mount_height_m": _number(values, "mount_height_m", required=False),
        "operator": values["operator"],
        "legal_basis": values["legal_basis"],
        "zone": values["zone"] or "town",
        "camera_type": values["camera_type"] or "fixed",
        "enabled": values["enabled"],
        "retain_face_vectors": values["retain_face_vectors"],
    }
    if not values["name"]:
        raise FieldError("name", "required")
    try:
        fields["capabilities"] = parse_capabilities(values["capabilities"])
    except ValueError as exc:
        raise FieldError("capabilities", str(exc)) from None
    try:
        fields["plate_countries"] = parse_plate_countries(values["plate_countries"].replace(",", ";"))
    except ValueError as exc:
        raise FieldError("plate_countries", str(exc)) from None
    try:
        fields["recording"] = RecordingMode(values["recording"] or RecordingMode.NONE.value)
    except ValueError:
        raise FieldError("recording", f"{values['recording']!r} is not a recording mode") from None
    if values["retention_days"]:
        try:
            fields["retention_days"] = int(values["retention_days"])
        except ValueError:
            raise FieldError("retention_days", f"{values['retention_days']!r} is not whole days") from None
    if stream_url is not None:
        fields["stream_url"] = stream_url
    return fields


def _error_of(exc: ValueError) -> tuple[str | None, str]:
    """(field, reason) of a refusal, for the message beside the field."""
    if isinstance(exc, FieldError):
        return exc.field, exc.reason
    if isinstance(exc, RegistryError):
        return exc.field, exc.reason
    return None, str(exc)


def _list_page(request: Request, caller: Caller, status: int = 200, **values: Any) -> Response:
    ctx = context_of(request)
    store = CameraStore(ctx.db)
    defaults = ctx.settings.camera_defaults
    values.setdefault(
        "form",
        {
            "enabled": True,
            "capabilities": [Capability.MOTION.value],
            "recording": RecordingMode.NONE.value,
            "operator": defaults.operator,
            "legal_basis": defaults.legal_basis,
            "retention_days": str(defaults.retention_days),
            "zone": "town",
            "camera_type": "fixed",
        },
    )
    return render(
        request,
        "admin_cameras.html",
        caller,
        status=status,
        cameras=store.all(),
        states=camera_states(ctx),
        capabilities=[c.value for c in Capability],
        recordings=[m.value for m in RecordingMode],
        labels=FIELD_LABELS,
        max_upload=ctx.settings.api.max_upload_bytes,
        **values,
    )


@router.get("/admin/cameras")
def cameras_page(request: Request, done: str = "") -> Response:
    caller = guard(request, Permission.MANAGE_CAMERAS, action="manage cameras")
    if isinstance(caller, Response):
        return caller
    return _list_page(request, caller, done=done[:200])


@router.post("/admin/cameras")
async def add_camera(request: Request) -> Response:
    caller = guard_post(request, Permission.MANAGE_CAMERAS, action="add a camera")
    if isinstance(caller, Response):
        return caller
    form = await request.form()
    values = _form_values(form)
    ctx = context_of(request)
    defaults = ctx.settings.camera_defaults
    try:
        camera_id = values["id"]
        if not camera_id:
            raise FieldError("id", "required")
        fields = _fields(values, str(form.get("stream_url", "")).strip())
        # Left empty on a new camera, as in `camera add`: the settings' camera_defaults.
        fields.setdefault("retention_days", defaults.retention_days)
        fields["operator"] = fields["operator"] or defaults.operator
        fields["legal_basis"] = fields["legal_basis"] or defaults.legal_basis
        camera = Camera(id=camera_id, site_id=values["site_id"] or f"site-{camera_id}", **fields)
        camera_changes.add_camera(ctx.db, Actor.of(caller), camera, site_name=values["site_name"] or None)
    except ValueError as exc:
        field, reason = _error_of(exc)
        status = 409 if isinstance(exc, CameraStoreError) else 422
        return _list_page(request, caller, status, form=values, field=field, error=reason)
    return _done("/admin/cameras", f"Camera {camera.id} added")


@router.post("/admin/cameras/import")
async def import_cameras(
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    replace: Annotated[str, Form()] = "",
) -> Response:
    caller = guard_post(request, Permission.MANAGE_CAMERAS, action="import cameras")
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    if file is None or not file.filename:
        return _list_page(request, caller, 400, import_error="Choose a GeoJSON file to import.")
    try:
        raw = read_upload(file.file, ctx.settings.api.max_upload_bytes, file.filename)
    except PayloadTooLarge as exc:
        return error_page(request, caller, 413, "File too large", f"{exc}. Nothing was imported.")
    try:
        done = camera_changes.import_cameras(
            ctx.db, ctx.settings, Actor.of(caller), parse_geojson(raw, file.filename), replace=bool(replace)
        )
    except RegistryError as exc:
        problem = {"feature": exc.feature, "field": exc.field, "reason": exc.reason}
        return _list_page(request, caller, 422, import_error="Nothing was imported.", import_problem=problem)
    except CameraStoreError as exc:
        message = f"{exc}; nothing was imported (tick “Replace” to update existing cameras)"
        return _list_page(request, caller, 409, import_error=message)
    message = f"Imported {len(done.cameras)} camera(s) at {len(done.sites)} site(s)"
    return _done("/admin/cameras", message)


def _camera_or_404(request: Request, caller: Caller, camera_id: str) -> Camera | Response:
    try:
        return CameraStore(context_of(request).db).get(camera_id)
    except CameraStoreError:
        return error_page(request, caller, 404, "Not found", f"There is no camera {camera_id!r}.")


def _change(request: Request, camera_id: str) -> tuple[Caller, Camera] | Response:
    """The administrator posting a change to `camera_id`, and that camera; else the page to send
    (login, refusal, cross-site, or a 404 for a camera that is not registered)."""
    caller = guard_post(request, Permission.MANAGE_CAMERAS, action="change a camera")
    if isinstance(caller, Response):
        return caller
    camera = _camera_or_404(request, caller, camera_id)
    if isinstance(camera, Response):
        return camera
    return caller, camera


def _values_of(camera: Camera) -> dict[str, Any]:
    values: dict[str, Any] = {
        k: "" if getattr(camera, k) is None else str(getattr(camera, k))
        for k in ("id", "name", "site_id", "operator", "legal_basis", "zone", "camera_type", *NUMBER_FIELDS)
    }
    values.update(
        capabilities=[c.value for c in camera.capabilities],
        retention_days=str(camera.retention_days),
        plate_countries=",".join(camera.plate_countries),
        recording=camera.recording.value,
        enabled=camera.enabled,
        retain_face_vectors=camera.retain_face_vectors,
    )
    return values


def _has_still(request: Request, camera_id: str) -> bool:
    return bool(context_of(request).recordings.all(camera_id))


def _camera_page(
    request: Request, caller: Caller, camera: Camera, status: int = 200, **values: Any
) -> Response:
    values.setdefault("form", _values_of(camera))
    configured = context_of(request).settings.counting.for_camera(camera.id)
    if camera.counting is not None:
        counting = camera.counting.model_dump(mode="json")
    elif configured is not None:  # shown so nobody draws them twice; saving registers them
        counting = configured.model_dump(mode="json", exclude={"camera_id"})
    else:
        counting = {}
    return render(
        request,
        "admin_camera.html",
        caller,
        status=status,
        camera=camera,
        shown_url=redact_url(camera.stream_url),
        capabilities=[c.value for c in Capability],
        recordings=[m.value for m in RecordingMode],
        labels=FIELD_LABELS,
        has_still=_has_still(request, camera.id),
        counting_json=json.dumps(counting),
        counting_from_settings=camera.counting is None and configured is not None,
        **values,
    )


@router.get("/admin/cameras/{camera_id}")
def camera_page(camera_id: str, request: Request, done: str = "") -> Response:
    caller = guard(request, Permission.MANAGE_CAMERAS, action="manage cameras")
    if isinstance(caller, Response):
        return caller
    camera = _camera_or_404(request, caller, camera_id)
    if isinstance(camera, Response):
        return camera
    return _camera_page(request, caller, camera, done=done[:200])


@router.post("/admin/cameras/{camera_id}")
async def edit_camera(camera_id: str, request: Request) -> Response:
    change = _change(request, camera_id)
    if isinstance(change, Response):
        return change
    caller, camera = change
    form = await request.form()
    values = _form_values(form)
    values["id"] = camera_id
    # An empty stream URL field keeps the stored one (the page never holds its password).
    stream_url = str(form.get("stream_url", "")).strip() or None
    try:
        changes = _fields(values, stream_url)
        if values["site_id"]:
            changes["site_id"] = values["site_id"]
        ctx = context_of(request)
        camera_changes.update_camera(
            ctx.db, Actor.of(caller), camera_id, changes, site_name=values["site_name"] or None
        )
    except ValueError as exc:
        field, reason = _error_of(exc)
        return _camera_page(request, caller, camera, 422, form=values, field=field, error=reason)
    return _done(f"/admin/cameras/{camera_id}", "Saved")


@router.post("/admin/cameras/{camera_id}/enabled")
async def enable_camera(camera_id: str, request: Request, enabled: Annotated[str, Form()] = "") -> Response:
    change = _change(request, camera_id)
    if isinstance(change, Response):
        return change
    caller, _camera = change
    on = enabled == "yes"
    camera_changes.set_enabled(context_of(request).db, Actor.of(caller), camera_id, on)
    word = "enabled" if on else "disabled"
    return _done("/admin/cameras", f"Camera {camera_id} {word}")


@router.post("/admin/cameras/{camera_id}/counting")
async def save_counting(camera_id: str, request: Request, counting: Annotated[str, Form()] = "") -> Response:
    change = _change(request, camera_id)
    if isinstance(change, Response):
        return change
    caller, camera = change
    try:
        data = json.loads(counting or "{}")
        geometry = CountingGeometry.model_validate(data) if data else None
        camera_changes.set_counting(context_of(request).db, Actor.of(caller), camera_id, geometry)
    except (ValueError, ValidationError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
        message = str(exc).splitlines()
        reason = "; ".join(message[:3]) if message else "not counting lines"
        return _camera_page(request, caller, camera, 422, counting_error=reason)
    return _done(f"/admin/cameras/{camera_id}", "Counting lines saved")


@router.get("/admin/cameras/{camera_id}/still.jpg")
def still(camera_id: str, request: Request) -> Response:
    """The first frame of the camera's latest recording, to draw counting lines on (the view is
    recorded as video watched: a frame may show people)."""
    caller = guard(request, Permission.MANAGE_CAMERAS, action="manage cameras")
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    segments = ctx.recordings.all(camera_id)
    frame = None
    for segment in reversed(segments):
        capture = cv2.VideoCapture(str(ctx.recordings.file(segment)))
        try:
            ok, image = capture.read()
        finally:
            capture.release()
        if ok:
            frame = image
            AuditLog(ctx.db).record(
                AuditAction.VIEW_VIDEO,
                username=caller.username,
                role=caller.role,
                target=camera_id,
                details={"what": "still for counting lines", "segment": segment.id, "via": "web"},
            )
            break
    if frame is None:
        return error_page(request, caller, 404, "No still", f"Camera {camera_id} has no recorded video yet.")
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, STILL_JPEG_QUALITY])
    assert ok
    headers = {**SECURITY_HEADERS, "Last-Modified": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")}
    return Response(jpeg.tobytes(), media_type="image/jpeg", headers=headers)
