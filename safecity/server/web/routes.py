"""The web UI's router: every screen's routes (`pages/`), included in the order they are matched.

Pages call the domain functions directly, through the access gate, so every read of personal data
a page shows is checked and recorded exactly as the API's reads are (see `common.py`)."""

from __future__ import annotations

from fastapi import APIRouter

from safecity.server.web.pages import (
    admin_cameras,
    admin_users,
    alert_list,
    alerts,
    audit,
    cameras,
    exports,
    governance,
    lists,
    login,
    maps,
    search,
    tiles,
)

router = APIRouter(include_in_schema=False)
for page in (
    login,
    cameras,
    maps,
    search,
    exports,
    alert_list,
    alerts,
    lists,
    audit,
    admin_cameras,
    admin_users,
    governance,
    tiles,
):
    router.include_router(page.router)
