"""Error bodies as RFC 9457 problem details (`application/problem+json`), one handler per error kind.

Domain errors raised below the API (a refused access, a missing reason, an unknown id, a match
not confirmed) are mapped here once, so route handlers raise what the domain raises and never
build error responses themselves. Nothing in a problem body comes from a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from safecity.governance.access import AccessDenied, ReasonRequired
from safecity.governance.users import AuthError, LoginThrottled, UserError
from safecity.registry.errors import RegistryError
from safecity.store.authorisations import AuthorisationError
from safecity.store.cameras import CameraStoreError
from safecity.store.face_watchlists import FaceWatchlistError
from safecity.store.hotlists import HotlistError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class NotFound(LookupError):
    """An id that names nothing (404)."""


class Conflict(ValueError):
    """A request that contradicts the stored state (409): decided already, not confirmed, exists."""


class BadRequest(ValueError):
    """A request the domain refuses as malformed or out of range (400)."""


class PayloadTooLarge(ValueError):
    """An upload over `api.max_upload_bytes` (413)."""


class UnsupportedMedia(ValueError):
    """An upload of a type the endpoint does not take (415)."""


class Unavailable(RuntimeError):
    """A service at its limit for now (503): too many viewers of a camera."""


def problem(status: int, detail: str, *, title: str | None = None, **extra: Any) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (AccessDenied, 403),
    (ReasonRequired, 422),
    (LoginThrottled, 429),
    (AuthError, 401),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (UnsupportedMedia, 415),
    (BadRequest, 400),
    (Unavailable, 503),
    # Store refusals; routes turn an unknown id into NotFound and a decided state into Conflict first.
    (RegistryError, 422),
    (CameraStoreError, 409),
    (HotlistError, 400),
    (AuthorisationError, 400),
    (FaceWatchlistError, 400),
    (UserError, 400),
)


HtmlError = Callable[[Request, int, str], Response]
"""Renders an error as the web UI's page: (request, status, detail) → response."""


def wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API, not a script): it gets the web UI's error page."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


INTERNAL = "internal error; the server log has the details"


def install(app: FastAPI, html_error: HtmlError | None = None) -> None:
    """Register the handlers on `app`; with `html_error`, a browser's request for a page that does
    not exist (or fails) gets a page in words rather than a JSON problem."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if html_error is not None and wants_html(request):
            return html_error(request, exc.status_code, str(exc.detail))
        return problem(exc.status_code, str(exc.detail))

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else str(first["msg"])
        return problem(422, detail, title="Invalid request", errors=errors)

    async def domain_error(request: Request, exc: Exception) -> Response:
        for kind, status in _STATUS:
            if isinstance(exc, kind):
                return problem(status, str(exc) or HTTPStatus(status).phrase)
        log.exception("unhandled error", exc_info=exc)
        if html_error is not None and wants_html(request):
            return html_error(request, 500, INTERNAL)
        return problem(500, INTERNAL)

    async def unhandled(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        if html_error is not None and wants_html(request):
            return html_error(request, 500, INTERNAL)
        return problem(500, INTERNAL)

    app.add_exception_handler(Exception, unhandled)  # a bug: a clear 500, never a stack trace
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    for kind, _status in _STATUS:
        app.add_exception_handler(kind, domain_error)
