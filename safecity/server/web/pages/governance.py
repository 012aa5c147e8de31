"""Administrator screens for authorisations (record, approve, refuse) and retention (preview, sweep)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
