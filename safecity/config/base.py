"""The base model every settings section derives from (`SectionModel`): unknown keys are refused, so a
misspelt TOML key or `SAFECITY_*` variable is an error rather than silently ignored, and a section is
immutable once loaded, so a settings tree can be shared between threads and workers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SectionModel(BaseModel):
    """A section of the settings tree: extra keys forbidden, frozen after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True)
