"""When an alert was raised (server time), so that live feeds can follow alerts in the order stored.

- `alerts.raised_at` (nullable; earlier alerts keep NULL), indexed. An alert's `ts` is the time of
  the observation behind it, which can be in the past (a recorded file analysed today).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("raised_at", sa.DateTime(), nullable=True))
    op.create_index("ix_alerts_raised_at", "alerts", ["raised_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_raised_at", table_name="alerts")
    with op.batch_alter_table("alerts", recreate="never") as batch_op:
        batch_op.drop_column("raised_at")
