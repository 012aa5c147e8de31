"""Initial schema: sites, cameras, observations (one table per kind), alerts, watchlists, users, audit, runs.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27 18:16:03.968131
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entries_hash")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_ts"), ["ts"], unique=False)

    op.create_table(
        "sites",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "watchlists",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlists")),
        sa.UniqueConstraint("name", name=op.f("uq_watchlists_name")),
    )
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        sa.Column("mount_height_m", sa.Float(), nullable=True),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("capabilities", sa.String(length=100), nullable=False),
        sa.Column("stream_url", sa.Text(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("zone", sa.String(length=40), nullable=False),
        sa.Column("camera_type", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_cameras_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cameras")),
    )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cameras_site_id"), ["site_id"], unique=False)

    op.create_table(
        "watchlist_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("watchlist_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("plate_normalised", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["watchlist_id"],
            ["watchlists.id"],
            name=op.f("fk_watchlist_entries_watchlist_id_watchlists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_entries")),
    )
    with op.batch_alter_table("watchlist_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_watchlist_entries_plate_normalised"), ["plate_normalised"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_watchlist_entries_watchlist_id"), ["watchlist_id"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("observation_id", sa.String(length=32), nullable=True),
        sa.Column("watchlist_id", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("handled_by", sa.String(length=100), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], name=op.f("fk_alerts_camera_id_cameras")),
        sa.ForeignKeyConstraint(
            ["watchlist_id"], ["watchlists.id"], name=op.f("fk_alerts_watchlist_id_watchlists")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_ts"), ["ts"], unique=False)

    op.create_table(
        "face_sightings",
        sa.Column("quality", sa.Float(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("w", sa.Integer(), nullable=False),
        sa.Column("h", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("snapshot", sa.String(length=300), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_face_sightings_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_sightings")),
    )
    with op.batch_alter_table("face_sightings", schema=None) as batch_op:
        batch_op.create_index("ix_face_sightings_camera_ts", ["camera_id", "ts"], unique=False)
        batch_op.create_index("ix_face_sightings_ts", ["ts"], unique=False)

    op.create_table(
        "line_crossings",
        sa.Column("line_name", sa.String(length=100), nullable=False),
        sa.Column("direction", sa.String(length=20), nullable=False),
        sa.Column("object_class", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("w", sa.Integer(), nullable=False),
        sa.Column("h", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("snapshot", sa.String(length=300), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_line_crossings_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_crossings")),
    )
    with op.batch_alter_table("line_crossings", schema=None) as batch_op:
        batch_op.create_index("ix_line_crossings_camera_ts", ["camera_id", "ts"], unique=False)
        batch_op.create_index("ix_line_crossings_ts", ["ts"], unique=False)

    op.create_table(
        "motion_tracks",
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("w", sa.Integer(), nullable=False),
        sa.Column("h", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("snapshot", sa.String(length=300), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_motion_tracks_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_motion_tracks")),
    )
    with op.batch_alter_table("motion_tracks", schema=None) as batch_op:
        batch_op.create_index("ix_motion_tracks_camera_ts", ["camera_id", "ts"], unique=False)
        batch_op.create_index("ix_motion_tracks_ts", ["ts"], unique=False)

    op.create_table(
        "plate_reads",
        sa.Column("text", sa.String(length=32), nullable=False),
        sa.Column("normalised", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=8), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("w", sa.Integer(), nullable=False),
        sa.Column("h", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("track_id", sa.Integer(), nullable=True),
        sa.Column("snapshot", sa.String(length=300), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], name=op.f("fk_plate_reads_camera_id_cameras")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plate_reads")),
    )
    with op.batch_alter_table("plate_reads", schema=None) as batch_op:
        batch_op.create_index("ix_plate_reads_camera_ts", ["camera_id", "ts"], unique=False)
        batch_op.create_index(batch_op.f("ix_plate_reads_normalised"), ["normalised"], unique=False)
        batch_op.create_index("ix_plate_reads_ts", ["ts"], unique=False)

    op.create_table(
        "processing_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("frames_decoded", sa.Integer(), nullable=False),
        sa.Column("frames_analysed", sa.Integer(), nullable=False),
        sa.Column("frames_with_motion", sa.Integer(), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_processing_runs_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processing_runs")),
    )
    with op.batch_alter_table("processing_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processing_runs_camera_id"), ["camera_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("processing_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processing_runs_camera_id"))

    op.drop_table("processing_runs")
    with op.batch_alter_table("plate_reads", schema=None) as batch_op:
        batch_op.drop_index("ix_plate_reads_ts")
        batch_op.drop_index(batch_op.f("ix_plate_reads_normalised"))
        batch_op.drop_index("ix_plate_reads_camera_ts")

    op.drop_table("plate_reads")
    with op.batch_alter_table("motion_tracks", schema=None) as batch_op:
        batch_op.drop_index("ix_motion_tracks_ts")
        batch_op.drop_index("ix_motion_tracks_camera_ts")

    op.drop_table("motion_tracks")
    with op.batch_alter_table("line_crossings", schema=None) as batch_op:
        batch_op.drop_index("ix_line_crossings_ts")
        batch_op.drop_index("ix_line_crossings_camera_ts")

    op.drop_table("line_crossings")
    with op.batch_alter_table("face_sightings", schema=None) as batch_op:
        batch_op.drop_index("ix_face_sightings_ts")
        batch_op.drop_index("ix_face_sightings_camera_ts")

    op.drop_table("face_sightings")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_ts"))

    op.drop_table("alerts")
    with op.batch_alter_table("watchlist_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watchlist_entries_watchlist_id"))
        batch_op.drop_index(batch_op.f("ix_watchlist_entries_plate_normalised"))

    op.drop_table("watchlist_entries")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_site_id"))

    op.drop_table("cameras")
    op.drop_table("watchlists")
    op.drop_table("users")
    op.drop_table("sites")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_ts"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_action"))

    op.drop_table("audit_entries")
