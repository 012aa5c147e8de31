"""The FastAPI application: `/api/v1` routes, problem+json errors, the OpenAPI schema, no outside assets.

`create_app(settings, db)` builds one application over one database; `safecity serve` runs it
beside the camera runtime (uvicorn, `api.host`/`api.port`), tests run it in-process. The
interactive docs pages are off: FastAPI's load their scripts from a CDN, and this server makes
browsers fetch nothing from anywhere else. The schema itself is at `/api/v1/openapi.json`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI

from safecity import __version__
from safecity.config import Settings
from safecity.server import csrf, problems
from safecity.server.api.routes import (
    alerts,
    audit,
    auth,
    authorisations,
    cameras,
    hotlists,
    live,
    observations,
    public,
    search,
    traffic,
    users,
    video,
    watchlists,
)
from safecity.server.context import ApiContext
from safecity.server.web import routes as web
from safecity.server.web.common import html_error
from safecity.store.database import Database

if TYPE_CHECKING:
    from safecity.pipeline.health import CameraHealth
    from safecity.video.hub import VideoHub

API_PREFIX = "/api/v1"
ROUTERS = (
    public,
    auth,
    cameras,
    observations,
    alerts,
    search,
    watchlists,
    hotlists,
    authorisations,
    audit,
    users,
    traffic,
    live,
    video,
)


def create_app(
    settings: Settings,
    db: Database,
    *,
    camera_health: Callable[[], Sequence[CameraHealth]] | None = None,
    video: VideoHub | None = None,
) -> FastAPI:
    """The application; `camera_health` reports live camera states when a runtime runs beside it,
    `video` its recorders (else the app opens cameras for live view itself, on demand)."""
    context = ApiContext.build(settings, db, camera_health=camera_health, video=video)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if context.live is not None:
            context.live.close()  # the alert listener's connection goes with the app
        if context.owns_video and context.video is not None:
            context.video.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Open Safe City API",
        version=__version__,
        description="Open, accountable city video analytics. Every read of personal data is audited.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    problems.install(app, html_error)
    csrf.install(app, context)  # cookie-authenticated unsafe requests: this origin only
    api = APIRouter(prefix=API_PREFIX)
    for module in ROUTERS:
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(web.router)  # the web UI (safecity/web): pages, /static, /register
    return app
