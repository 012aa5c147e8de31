"""Video recording: a camera's recording mode and the index of recorded segments.

- `cameras.recording` (text, default "none"): none, continuous, motion or events.
- `recordings`: one row per segment file (camera, start, end, path, size, mode).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recording", sa.String(length=20), nullable=False, server_default="none")
        )
    op.create_table(
        "recordings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("path", name=op.f("uq_recordings_path")),
    )
    op.create_index("ix_recordings_camera_start", "recordings", ["camera_id", "start"], unique=False)
    op.create_index(op.f("ix_recordings_end"), "recordings", ["end"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_recordings_end"), table_name="recordings")
    op.drop_index("ix_recordings_camera_start", table_name="recordings")
    op.drop_table("recordings")
    # SQLite drops a column in place (3.35+): recreating `cameras` would break the foreign keys on it.
    with op.batch_alter_table("cameras", recreate="never") as batch_op:
        batch_op.drop_column("recording")
