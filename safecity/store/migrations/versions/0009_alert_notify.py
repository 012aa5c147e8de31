"""PostgreSQL tells its listeners of every new alert (`NOTIFY safecity_alerts, '<alert id>'`).

- A trigger on `alerts` (after insert, per row) calls `pg_notify`, so every API replica that
  LISTENs pushes an alert to its control-room screens as soon as it is committed, whichever
  process stored it, instead of at its next poll. SQLite has no such thing: there the live feed
  polls (`api.live_poll_s`), as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE OR REPLACE FUNCTION safecity_notify_alert() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('safecity_alerts', NEW.id);
            RETURN NEW;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER alerts_notify AFTER INSERT ON alerts "
        "FOR EACH ROW EXECUTE FUNCTION safecity_notify_alert()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS alerts_notify ON alerts")
    op.execute("DROP FUNCTION IF EXISTS safecity_notify_alert()")
