"""Database writing: the `[store]` section (`StoreSettings`), write batches, SQLite and PostgreSQL
connection limits, snapshot encoding, partitions and write retries.
"""

from __future__ import annotations

from pydantic import Field

from safecity.config.base import SectionModel


class StoreSettings(SectionModel):
    """Database writing."""

    batch_size: int = Field(500, ge=1, description="Observations per write transaction.")
    flush_interval_s: float = Field(1.0, gt=0, description="Longest an observation waits for its batch.")
    sqlite_busy_timeout_ms: int = Field(10_000, ge=0, description="How long SQLite waits for a lock.")
    snapshot_jpeg_quality: int = Field(85, ge=10, le=100, description="JPEG quality of stored snapshots.")
    snapshot_margin: float = Field(
        0.15, ge=0, le=2, description="Context around an object's box in its snapshot, as a share of the box."
    )
    pg_pool_size: int = Field(5, ge=1, description="PostgreSQL connections kept open per process.")
    pg_max_overflow: int = Field(5, ge=0, description="Extra PostgreSQL connections allowed under load.")
    partition_months_ahead: int = Field(
        3,
        ge=0,
        le=120,
        description="PostgreSQL: months after the current one whose observation partitions are created in "
        "advance (by `safecity db upgrade` and `safecity db partitions --ensure`); rows of months without "
        "one are kept in the default partition.",
    )
    write_retry_initial_s: float = Field(
        0.5, gt=0, description="First wait before a batch is written again after the database went away."
    )
    write_retry_cap_s: float = Field(10.0, gt=0, description="Longest wait between two tries of one batch.")
    write_retry_give_up_s: float = Field(
        600.0,
        ge=0,
        description="How long the writer keeps retrying a batch while the database is unreachable before it "
        "stops and reports the error (0: never retry).",
    )
