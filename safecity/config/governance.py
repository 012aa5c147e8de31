"""Accountability rules a city may tune within the law: the `[governance]` section (`GovernanceSettings`),
urgent-use deadlines, justifications, match confirmations, audit anchoring and login throttling.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from safecity.config.base import SectionModel


class GovernanceSettings(SectionModel):
    """Accountability rules a city may tune within the law."""

    urgent_deadline_realtime_h: float = Field(
        24.0, gt=0, description="Urgent real-time use must be approved within this many hours, or data goes."
    )
    urgent_deadline_retrospective_h: float = Field(
        48.0, gt=0, description="Urgent retrospective use must be approved within this many hours."
    )
    min_reason_len: int = Field(
        10, ge=1, le=200, description="Shortest justification a search or an export accepts (characters)."
    )
    confirmations_required: int = Field(
        2, ge=2, le=5, description="Different users who must confirm a face match before it is acted on."
    )
    anchor_interval_s: float = Field(
        300.0,
        gt=0,
        description="Longest time between two audit anchors (head appended to the anchor file and the log).",
    )
    anchor_every_entries: int = Field(
        100, ge=1, description="Audit entries after which the head is anchored again, whatever the time."
    )
    anchor_check_s: float = Field(
        5.0, gt=0, description="How often `serve` and the API look whether an anchor is due."
    )
    anchor_path: Path | None = Field(
        None, description="JSON-lines file of audit anchors; default <data_dir>/audit-anchors.jsonl."
    )
    login_free_failures: int = Field(
        5, ge=1, description="Wrong passwords for one account from one address before delays start."
    )
    login_free_failures_per_address: int = Field(
        30, ge=1, description="Wrong passwords from one address (any accounts) before delays start."
    )
    login_free_failures_per_user: int = Field(
        30, ge=1, description="Wrong passwords for one account (any addresses) before delays start."
    )
    login_delay_initial_s: float = Field(
        1.0, gt=0, description="First delay once the free failures are used; it doubles with each failure."
    )
    login_delay_cap_s: float = Field(
        900.0, gt=0, description="Longest delay for one account from one address, or for one address."
    )
    login_delay_cap_per_user_s: float = Field(
        60.0,
        gt=0,
        description="Longest delay for an account across all addresses: short, so nobody elsewhere can "
        "lock its owner out.",
    )
    login_window_s: float = Field(
        3600.0, gt=0, description="How long a failed login counts towards the delays."
    )
