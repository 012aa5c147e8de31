"""Retrospective plate search: the `[search]` section (`SearchSettings`), default and maximum result
counts.
"""

from __future__ import annotations

from pydantic import Field

from safecity.config.base import SectionModel


class SearchSettings(SectionModel):
    """Retrospective plate search."""

    default_limit: int = Field(100, ge=1, description="Results returned when a search names no limit.")
    max_limit: int = Field(10_000, ge=1, description="Most results one search may return.")
