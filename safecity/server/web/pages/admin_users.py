"""Administrator screens for users: add, role, camera limits, disable, revoke tokens."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
