"""Plate search keys fold diacritics; cameras say which plate countries they expect.

- Stored plate search keys become ASCII where a national letter has a plain base: Š -> S, Đ -> D,
  Č and Ć -> C, Ž -> Z (and Ä -> A, Ø -> O...), so "ŠA 123-AB" typed, an OCR model that reads
  "SA123AB" and the plate as printed all find each other. The printed `text` keeps its
  diacritics. Folded in place: `plate_reads.normalised` (its `confusion_key` recomputed with
  it), `hotlist_entries.plate` and `watchlist_entries.plate_normalised`. Only rows holding a
  non-ASCII character are touched: each distinct such key is folded here in Python (the fold
  and the confusion classes are written out below) and its rows updated through the
  `(normalised, ts)` index. The search indexes follow by themselves: on SQLite the trigram
  table's update trigger (0002) replaces each changed row's document, on PostgreSQL the GIN
  index is maintained by the UPDATE. Alert evidence keeps the key as it was when the alert was
  raised: it records what the operator was shown.
- `cameras.plate_countries` (text, default ""): the plate countries a camera expects, most
  frequent first, ';'-separated ISO 3166-1 codes ("RS;HR"); "": the deployment's
  `plates.countries`.

Downgrade drops the column; folded keys stay folded (the diacritic is not recoverable from the
key, and a folded key is a valid key to the earlier code).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Written out rather than imported: this revision's data change stays as it was shipped.
# Letters without a Unicode decomposition, and the Icelandic eth keyboards give for Đ.
_BASE_EXCEPTIONS = {"Đ": "D", "Ð": "D", "Ł": "L", "Ø": "O"}
# safecity.analytics.plates.confusion.CONFUSION_CLASSES as of this revision: the first character
# of each class stands for all of it in `confusion_key`.
_CONFUSION_CLASSES = ("O0DQ", "I1LT", "B8", "S5", "Z2", "G6", "A4")
_CANONICAL = {ch: cls[0] for cls in _CONFUSION_CLASSES for ch in cls}
# (table, key column): every column that holds a plate search key.
_KEY_COLUMNS = (
    ("plate_reads", "normalised"),
    ("hotlist_entries", "plate"),
    ("watchlist_entries", "plate_normalised"),
)


def _fold(key: str) -> str:
    """`normalise_plate`'s fold as of this revision: each letter without its diacritic."""
    composed = unicodedata.normalize("NFC", key)
    return "".join(_BASE_EXCEPTIONS.get(ch) or unicodedata.normalize("NFD", ch)[0] for ch in composed)


def _confusion_key(key: str) -> str:
    return "".join(_CANONICAL.get(ch, ch) for ch in key)


def _non_ascii(column: str, dialect: str) -> str:
    """SQL that is true where `column` holds a character outside ASCII (more bytes than characters)."""
    if dialect == "sqlite":
        return f"length(CAST({column} AS BLOB)) <> length({column})"
    return f"octet_length({column}) <> char_length({column})"


def _fold_column(conn: sa.Connection, table: str, column: str) -> None:
    dialect = conn.dialect.name
    keys = conn.execute(
        sa.text(f"SELECT DISTINCT {column} FROM {table} WHERE {_non_ascii(column, dialect)}")
    ).scalars()
    changes = [{"old": key, "new": _fold(key)} for key in keys if _fold(key) != key]
    if not changes:
        return
    if table == "plate_reads":
        for change in changes:
            change["key"] = _confusion_key(change["new"])
        statement = f"UPDATE {table} SET {column} = :new, confusion_key = :key WHERE {column} = :old"
    else:
        statement = f"UPDATE {table} SET {column} = :new WHERE {column} = :old"
    conn.execute(sa.text(statement), changes)


def upgrade() -> None:
    op.add_column(
        "cameras", sa.Column("plate_countries", sa.String(length=100), server_default="", nullable=False)
    )
    conn = op.get_bind()
    for table, column in _KEY_COLUMNS:
        _fold_column(conn, table, column)


def downgrade() -> None:
    with op.batch_alter_table("cameras", recreate="never") as batch_op:
        batch_op.drop_column("plate_countries")
