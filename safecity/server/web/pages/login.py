"""The login page and the static files (stylesheet, script, icon)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from safecity.server.web.common import (
    STATIC_FILES,
    render,
    web_caller,
)
from safecity.server.web.redirects import safe_next

router = APIRouter(include_in_schema=False)


@router.get("/static/{name}")
async def static(name: str, request: Request) -> Response:
    """The stylesheet, the script and the icon (StaticFiles over `safecity/server/web/static`)."""
    response = await STATIC_FILES.get_response(name, request.scope)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


VENDOR_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""One folder or file name under `static/vendor/`: no dot-dot, no slash, no hidden file."""


@router.get("/static/vendor/{path:path}")
async def vendored(path: str, request: Request) -> Response:
    """The vendored libraries (`static/vendor/<package>/...`, see its README): names checked one by one."""
    parts = path.split("/")
    if not 1 <= len(parts) <= 3 or not all(VENDOR_SEGMENT.fullmatch(p) and ".." not in p for p in parts):
        return Response("no such file", status_code=404, media_type="text/plain")
    response = await STATIC_FILES.get_response("/".join(["vendor", *parts]), request.scope)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/login")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", web_caller(request), next=safe_next(next))
