"""Users: camera scope, login throttling, API tokens.

- `users.camera_ids` (JSON, nullable): the cameras a user may act on; NULL means every camera, so
  existing users keep the access they had.
- `login_failures` (username, ts): one row per failed login. A table of its own rather than
  counters on `users`: failures for usernames that do not exist are throttled the same way (a
  guesser learns nothing from the throttle), a sliding window is a plain COUNT over recent rows,
  and every process that shares the database sees the same count.
- `api_tokens`: the SHA-256 of each token's secret (unique), its expiry, revocation and last use;
  deleting a user deletes their tokens.

SQLite and foreign keys (see 0003): `users` gets its column by an in-place ADD COLUMN, never a
batch "recreate", so no implicit DELETE cascades into `api_tokens`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("camera_ids", sa.JSON(), nullable=True))

    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_username"), "login_failures", ["username"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_login_failures_username"), table_name="login_failures")
    op.drop_table("login_failures")
    # In place (SQLite >= 3.35 DROP COLUMN): no rebuild of `users`, see the module docstring.
    with op.batch_alter_table("users", recreate="never") as batch_op:
        batch_op.drop_column("camera_ids")
