"""Data retention: the `[retention]` section (`RetentionSettings`), how long each kind of data is kept and
how the sweep runs, with the legal floor for audit entries (`MIN_AUDIT_RETENTION_DAYS`).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from safecity.config.base import SectionModel

MIN_AUDIT_RETENTION_DAYS = 183
"""Audit entries are kept at least six months; configuration may lengthen this, never shorten it."""


class RetentionSettings(SectionModel):
    """How long each kind of data is kept; a camera's own `retention_days` shortens every class."""

    plate_reads_days: int = Field(30, ge=1, le=3650, description="Days plate reads are kept.")
    face_sightings_days: int = Field(
        30, ge=1, le=3650, description="Days face sightings (and their kept vectors) are kept."
    )
    motion_tracks_days: int = Field(30, ge=1, le=3650, description="Days motion tracks are kept.")
    line_crossings_days: int = Field(30, ge=1, le=3650, description="Days line crossings are kept.")
    snapshots_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Days snapshot files are kept; older ones are deleted even where their row stays.",
    )
    alerts_days: int = Field(
        90, ge=1, le=3650, description="Days alerts (and their evidence files) are kept."
    )
    audit_days: int = Field(
        365,
        le=36500,
        description=f"Days audit entries are kept: {MIN_AUDIT_RETENTION_DAYS} (6 months) or more, not less.",
    )
    export_packages_days: int = Field(
        7,
        ge=1,
        le=3650,
        description="Days an evidence package made from the web UI stays on the server to download.",
    )
    sweep_interval_s: float = Field(
        3600.0, gt=0, description="How often `safecity serve` runs the retention sweep."
    )
    batch_size: int = Field(
        5000, ge=1, le=10_000, description="Rows deleted per transaction by the retention sweep."
    )
    orphan_grace_s: float = Field(
        3600.0,
        ge=60,
        le=30 * 86400,
        description=(
            "Snapshot files that no row refers to (a process killed between writing a snapshot and "
            "committing its row) are deleted by the retention sweep once this many seconds old; "
            "younger ones may belong to a row about to be committed (keep it above "
            "`store.write_retry_give_up_s`, how long a batch may wait for its commit)."
        ),
    )

    @field_validator("audit_days")
    @classmethod
    def _audit_at_least_six_months(cls, value: int) -> int:
        if value < MIN_AUDIT_RETENTION_DAYS:
            raise ValueError(
                f"audit_days {value} is too short: audit entries are kept at least 6 months "
                f"({MIN_AUDIT_RETENTION_DAYS} days); longer is allowed, never shorter"
            )
        return value
