"""/api/v1 routes for authorisations (to be filled)."""

from __future__ import annotations

from fastapi import APIRouter

from safecity.api.schemas import PROBLEM_RESPONSES

router = APIRouter(tags=["authorisations"], responses=PROBLEM_RESPONSES)
