"""Counting lines and zones stored with the camera in the registry.

- `cameras.counting` (JSON, nullable): the camera's lines (two points, direction names), zones
  (polygons), counting method and anchor, in its image pixels. NULL: none registered (the
  settings' `[[counting.cameras]]`, if any, apply).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cameras", sa.Column("counting", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cameras", recreate="never") as batch_op:
        batch_op.drop_column("counting")
