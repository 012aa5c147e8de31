"""The login page and the static files (stylesheet, script, icon)."""

from __future__ import annotations

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


@router.get("/login")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", web_caller(request), next=safe_next(next))
