"""Evidence export from the web UI: reason, recipients, the package and its manifest."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
