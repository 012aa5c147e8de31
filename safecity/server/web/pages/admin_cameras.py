"""Administrator screens for the camera register: list, add, edit, disable, import, counting lines."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
