"""The operator's alerts page: filters, paging, bulk acknowledge."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
