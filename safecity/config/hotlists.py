"""Plate hotlists: the `[hotlists]` section (`HotlistSettings`), how loosely a read may match an entry,
how alerts are scored and how long entries last.
"""

from __future__ import annotations

from pydantic import Field

from safecity.config.base import SectionModel


class HotlistSettings(SectionModel):
    """Plate hotlists: how loosely a read may match an entry, how alerts are scored, how long entries last."""

    one_edit: bool = Field(
        True, description="Also match reads within one OCR-confusion edit of a plate entry (not patterns)."
    )
    one_edit_min_length: int = Field(
        5, ge=2, description="Plate entries shorter than this match only exactly or by confusable characters."
    )
    confusable_factor: float = Field(
        0.9, gt=0, le=1, description="Alert score = read confidence times this, for a confusable match."
    )
    one_edit_factor: float = Field(
        0.7, gt=0, le=1, description="Alert score = read confidence times this, for a one-edit match."
    )
    min_score: float = Field(0.0, ge=0, le=1, description="Matches scoring below this raise no alert.")
    default_expiry_days: int = Field(
        30, ge=0, description="Days an entry stays in force unless added with its own expiry; 0: no expiry."
    )
    max_days: int = Field(
        3650, ge=1, description="Most days an entry may be added for (web, CLI and API refuse more)."
    )
    min_pattern_literals: int = Field(
        3, ge=1, description="Letters or digits a pattern must fix, so that `*` cannot hotlist every car."
    )
    reload_interval_s: float = Field(
        30.0, gt=0, description="How often a running matcher re-reads the hotlist from the store."
    )
