"""Faces: authorisations, face watchlists (templates, photos), face vectors in a table of their own.

- `authorisations` (unique authority + reference) and `watchlists.authorisation_id`.
- `cameras.retain_face_vectors` (false): whether a camera keeps the vectors of faces that match nothing.
- `watchlist_entries.template` and `watchlist_photos` (one row per enrolled photo).
- `face_vectors`: the embeddings of face sightings, keyed by an integer that is never reused
  (SQLite AUTOINCREMENT, PostgreSQL bigserial) so it can serve as the FAISS id of the search
  index. Existing `face_sightings.embedding` values move there, oldest sighting first, and the
  column is dropped; downgrade moves them back.

SQLite and foreign keys: the store connects with `PRAGMA foreign_keys=ON`, which cannot be
switched off inside the migration's transaction. A batch "recreate" of a table that others
reference (copy, DROP, rename) would then run the DROP's implicit DELETE and cascade it into the
children (watchlist_entries of watchlists; face_vectors of face_sightings). So every change to an
existing SQLite table here is an in-place ALTER: ADD COLUMN (with a column-level REFERENCES for
`watchlists.authorisation_id`) and DROP COLUMN (SQLite >= 3.35), via `recreate="never"`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_WATCHLIST_FK = "fk_watchlists_authorisation_id_authorisations"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name

    op.create_table(
        "authorisations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorisations")),
        sa.UniqueConstraint("authority", "reference", name=op.f("uq_authorisations_authority")),
    )

    op.add_column(
        "cameras",
        sa.Column("retain_face_vectors", sa.Boolean(), server_default=sa.false(), nullable=False),
    )

    if dialect == "sqlite":
        # Column-level REFERENCES: SQLite adds it in place (see the module docstring).
        op.execute(
            "ALTER TABLE watchlists ADD COLUMN authorisation_id VARCHAR(64) "
            f"CONSTRAINT {_WATCHLIST_FK} REFERENCES authorisations (id)"
        )
    else:
        op.add_column("watchlists", sa.Column("authorisation_id", sa.String(length=64), nullable=True))
        op.create_foreign_key(_WATCHLIST_FK, "watchlists", "authorisations", ["authorisation_id"], ["id"])

    op.add_column("watchlist_entries", sa.Column("template", sa.LargeBinary(), nullable=True))

    op.create_table(
        "watchlist_photos",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("media_ref", sa.String(length=300), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("x", sa.Integer(), nullable=False),
        sa.Column("y", sa.Integer(), nullable=False),
        sa.Column("w", sa.Integer(), nullable=False),
        sa.Column("h", sa.Integer(), nullable=False),
        sa.Column("quality", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["watchlist_entries.id"],
            name=op.f("fk_watchlist_photos_entry_id_watchlist_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_photos")),
    )
    op.create_index(op.f("ix_watchlist_photos_entry_id"), "watchlist_photos", ["entry_id"], unique=False)

    op.create_table(
        "face_vectors",
        sa.Column(
            "key", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sighting_id", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.DateTime(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sighting_id"],
            ["face_sightings.id"],
            name=op.f("fk_face_vectors_sighting_id_face_sightings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_face_vectors")),
        sa.UniqueConstraint("sighting_id", name=op.f("uq_face_vectors_sighting_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_face_vectors_camera_ts", "face_vectors", ["camera_id", "ts"], unique=False)
    op.create_index("ix_face_vectors_ts", "face_vectors", ["ts"], unique=False)

    # Oldest first, so the keys (and the search index built from them) follow time as new rows will.
    op.execute(
        "INSERT INTO face_vectors (sighting_id, camera_id, ts, embedding) "
        "SELECT id, camera_id, ts, embedding FROM face_sightings WHERE embedding IS NOT NULL "
        "ORDER BY ts, id"
    )
    with op.batch_alter_table("face_sightings", recreate="never") as batch_op:
        batch_op.drop_column("embedding")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name

    op.add_column("face_sightings", sa.Column("embedding", sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE face_sightings SET embedding = "
        "(SELECT fv.embedding FROM face_vectors fv WHERE fv.sighting_id = face_sightings.id) "
        "WHERE EXISTS (SELECT 1 FROM face_vectors fv WHERE fv.sighting_id = face_sightings.id)"
    )
    op.drop_index("ix_face_vectors_ts", table_name="face_vectors")
    op.drop_index("ix_face_vectors_camera_ts", table_name="face_vectors")
    op.drop_table("face_vectors")

    op.drop_index(op.f("ix_watchlist_photos_entry_id"), table_name="watchlist_photos")
    op.drop_table("watchlist_photos")

    with op.batch_alter_table("watchlist_entries", recreate="never") as batch_op:
        batch_op.drop_column("template")

    if dialect != "sqlite":
        op.drop_constraint(_WATCHLIST_FK, "watchlists", type_="foreignkey")
    # On SQLite the column's own REFERENCES clause goes with it; DROP COLUMN allows that.
    with op.batch_alter_table("watchlists", recreate="never") as batch_op:
        batch_op.drop_column("authorisation_id")

    op.drop_table("authorisations")

    with op.batch_alter_table("cameras", recreate="never") as batch_op:
        batch_op.drop_column("retain_face_vectors")
