"""/api/v1 routes for observations (to be filled)."""

from __future__ import annotations

from fastapi import APIRouter

from safecity.api.schemas import PROBLEM_RESPONSES

router = APIRouter(tags=["observations"], responses=PROBLEM_RESPONSES)
