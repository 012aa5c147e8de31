"""Authorisation workflow: urgent use before approval, its deadline, and who decided when.

- `authorisations.urgent` (false), `.use` (realtime | retrospective), `.approval_deadline`,
  `.decided_by`, `.decided_at`. Existing authorisations stay approved, not urgent.

Columns are added in place (no batch rebuild on SQLite): rebuilding `authorisations` with foreign
keys on would cascade into the watchlists that point at it (see 0003).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = ("urgent", "use", "approval_deadline", "decided_by", "decided_at")


def upgrade() -> None:
    op.add_column(
        "authorisations", sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(
        "authorisations", sa.Column("use", sa.String(length=20), server_default="realtime", nullable=False)
    )
    op.add_column("authorisations", sa.Column("approval_deadline", sa.DateTime(), nullable=True))
    op.add_column(
        "authorisations", sa.Column("decided_by", sa.String(length=100), server_default="", nullable=False)
    )
    op.add_column("authorisations", sa.Column("decided_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("authorisations", recreate="never") as batch_op:
        for column in reversed(_COLUMNS):
            batch_op.drop_column(column)
