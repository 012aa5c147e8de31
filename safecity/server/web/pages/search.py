"""Plate search and face search by photo: a reason each, through the access gate (`safecity.search`),
recorded before results are shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from safecity.analytics.image_header import ImageLimits
from safecity.governance.access import AccessDenied, Caller, ReasonRequired
from safecity.governance.audit import AuditAction
from safecity.governance.permissions import Permission
from safecity.search.plates import search_plates_gated
from safecity.server.problems import PayloadTooLarge, UnsupportedMedia
from safecity.server.uploads import image_suffix, read_upload
from safecity.server.web.common import (
    context_of,
    forbidden,
    guard,
    guard_post,
    parse_time,
    render,
    visible_cameras,
)
from safecity.store.cameras import CameraStore
from safecity.store.plate_search import PlateQuery, SearchMode

router = APIRouter(include_in_schema=False)


def _search_page(request: Request, caller: Caller, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = context_of(request)
    cameras = visible_cameras(caller, CameraStore(ctx.db).all())
    form: Mapping[str, Any] = values.pop("form", {})
    return render(
        request,
        "search.html",
        caller,
        status=status,
        cameras=cameras,
        modes=[m.value for m in SearchMode],
        form=form,
        min_reason=ctx.gate.min_reason_len,
        **values,
    )


@router.get("/search")
def plate_search_form(request: Request) -> Response:
    caller = guard(request, Permission.SEARCH_PLATE, action=AuditAction.SEARCH_PLATE)
    if isinstance(caller, Response):
        return caller
    return _search_page(request, caller)


@router.post("/search")
def plate_search(
    request: Request,
    plate: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = "",
    cameras: Annotated[list[str] | None, Form()] = None,
    since: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    caller = guard_post(request, Permission.SEARCH_PLATE, action=AuditAction.SEARCH_PLATE)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    chosen = [c for c in (cameras or []) if c]
    form = {"plate": plate, "mode": mode, "cameras": chosen, "since": since, "until": until, "reason": reason}
    most = ctx.settings.api.max_list_items
    if len(chosen) > most:  # as the API refuses it: a huge list would be a huge audit entry
        return _search_page(
            request,
            caller,
            422,
            form={**form, "cameras": []},
            error=f"At most {most} cameras may be chosen (api.max_list_items), not {len(chosen)}. "
            "Nothing was searched.",
        )
    if not reason.strip():
        return _search_page(
            request,
            caller,
            422,
            form=form,
            error="A reason is required for every search (case number, purpose): it is recorded in the "
            "audit log. Nothing was searched.",
        )
    known = {c.id for c in CameraStore(ctx.db).all()}
    try:
        unknown = [c for c in chosen if c not in known]
        if unknown:
            raise ValueError(
                f"unknown cameras: {', '.join(unknown[:5])}" + (" ..." if len(unknown) > 5 else "")
            )
        query = PlateQuery.parse(
            plate,
            SearchMode(mode) if mode else None,
            camera_ids=chosen,
            since=parse_time("since", since),
            until=parse_time("until", until),
            limit=ctx.settings.search.default_limit,
        )
    except ValueError as exc:
        return _search_page(request, caller, 400, form=form, error=str(exc))
    try:
        result = search_plates_gated(
            ctx.gate, caller, query, reason, {"query": plate, "mode": mode or None, "via": "web"}
        )
    except ReasonRequired as exc:
        return _search_page(request, caller, 422, form=form, error=str(exc))
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    return _search_page(
        request,
        caller,
        form=form,
        hits=list(result.hits),
        audit_seq=result.audit_seq,
        searched=query.plate,
        mode=query.mode,
    )


def _face_page(request: Request, caller: Caller, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = context_of(request)
    cameras = visible_cameras(caller, CameraStore(ctx.db).all())
    return render(
        request,
        "faces.html",
        caller,
        status=status,
        cameras=cameras,
        min_reason=ctx.gate.min_reason_len,
        threshold=ctx.settings.faces.match_threshold,
        form=values.pop("form", {}),
        **values,
    )


@router.get("/search/faces")
def face_search_form(request: Request) -> Response:
    caller = guard(request, Permission.SEARCH_FACE, action=AuditAction.SEARCH_FACE)
    if isinstance(caller, Response):
        return caller
    return _face_page(request, caller)


@router.post("/search/faces")
def face_search(
    request: Request,
    photo: Annotated[UploadFile | None, File()] = None,
    reason: Annotated[str, Form()] = "",
    cameras: Annotated[list[str] | None, Form()] = None,
    since: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
) -> Response:
    from safecity.analytics.faces.analyser import FacePhotoError
    from safecity.search.faces import FaceQuery, FaceSearch, FaceSearchError

    caller = guard_post(request, Permission.SEARCH_FACE, action=AuditAction.SEARCH_FACE)
    if isinstance(caller, Response):
        return caller
    ctx = context_of(request)
    chosen = [c for c in (cameras or []) if c]
    form = {"reason": reason, "cameras": chosen, "since": since, "until": until}
    if len(reason.strip()) < ctx.gate.min_reason_len:
        return _face_page(
            request,
            caller,
            422,
            form=form,
            error=f"A reason of at least {ctx.gate.min_reason_len} characters is required for a face "
            "search (case number, purpose): it is recorded in the audit log. Nothing was searched.",
        )
    s = ctx.settings
    try:
        start, end = parse_time("since", since), parse_time("until", until)
        if photo is None or not photo.filename:
            raise ValueError("choose a photo of the person sought (one face, JPEG or PNG)")
        data = read_upload(photo.file, s.api.max_upload_bytes)
        limits = ImageLimits.of(s.api)
        suffix = image_suffix(photo.content_type, data, limits)
    except ValueError as exc:
        # The API's statuses: an oversize upload or an image bomb is a 413, a file that is no image a 415.
        status = {PayloadTooLarge: 413, UnsupportedMedia: 415}.get(type(exc), 400)
        return _face_page(request, caller, status, form=form, error=str(exc))
    try:
        result = FaceSearch(ctx.analyser(), ctx.face_index(), ctx.gate, limits).upload(
            data, suffix, caller, FaceQuery(reason, s.faces.search_default_k, chosen, start, end)
        )
    except (FacePhotoError, FaceSearchError, ReasonRequired) as exc:
        return _face_page(request, caller, 422, form=form, error=str(exc))
    except AccessDenied as exc:
        return forbidden(request, caller, exc)
    return _face_page(
        request,
        caller,
        form=form,
        result=result,
        hits=[(h, h.distance <= s.faces.match_threshold) for h in result.hits],
    )
