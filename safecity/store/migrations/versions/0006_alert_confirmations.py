"""Two-person confirmation of face matches: one row per user's decision on an alert.

- `alert_confirmations`: alert id (cascade: deleting an alert deletes its decisions), user,
  role, decision (confirm | reject), time, note; one decision per user and alert.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_confirmations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "alert_id", sa.String(length=32), sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.UniqueConstraint("alert_id", "username", name="uq_alert_confirmations_alert_user"),
    )
    op.create_index("ix_alert_confirmations_alert_id", "alert_confirmations", ["alert_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_confirmations_alert_id", table_name="alert_confirmations")
    op.drop_table("alert_confirmations")
