"""Plate text as the store indexes and queries it: user input, wildcard patterns, confusion keys.

Plates are looked up by their search key, `normalise_plate`: upper case, no separators, diacritics
folded (`ŠA 123-AB` -> `SA123AB`), for stored reads (the writer), hotlist entries and queries
alike; the printed `text` keeps the diacritics. Three ways to look a plate up among millions of
reads, each answered newest first from an index that lets the search stop at its limit instead
of sorting every match:

- exact: the `(normalised, ts)` btree, read backwards from the plate's newest read.
- wildcard (`*` any run of characters, `?` exactly one):
  - SQLite: a contentless FTS5 trigram table over `^normalised$` yields candidates and `GLOB`
    rechecks them. The anchors make a fixed start or end searchable although it is shorter than
    a trigram: `BG*AB` asks for `^BG` and `AB$`. The table's document id is the read's time in
    seconds since 2000 (high bits) over its rowid (low 32 bits), so FTS5 hands candidates out
    newest first and a time range is a document-id range. A pattern without a three-character
    run (anchors included) falls back to the btree prefix, else to a walk of the time index.
  - PostgreSQL: `LIKE`, served by one GIN index over the plate's trigrams (pg_trgm) and the
    read's UTC day (btree_gin): the search asks for one day's matches, then the next one, two,
    four... days' (see `plate_search`), and the planner walks the time index instead when a
    pattern is frequent.
- fuzzy: `plate_reads.confusion_key` is `normalised` with OCR-confusable characters folded, so
  `BG120AB` and `8G12OAB` share a key. The keys within one edit of the query's are enumerated
  here (a few hundred for a 7-character plate) and looked up on the `(confusion_key, normalised)`
  btree: exact, no extension needed. Trigram similarity would over-fetch: after a one-character
  change most plates of a city still share trigrams with the query.

The confusion classes are `safecity.analytics.plates.confusion`, the one definition shared with
track voting and hotlist matching. Stored keys depend on them: a change of the classes needs a
migration that runs `recompute_confusion_keys`. On SQLite the trigram table refers to the
implicit rowid of `plate_reads`: after `VACUUM` (which may renumber rowids) or a migration that
rebuilds `plate_reads`, call `rebuild_search_index` (and re-create the triggers of migration 0002).
"""

from __future__ import annotations

import math
import re
import string
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from safecity.analytics.plates.confusion import CONFUSION_CLASSES, confusion_key
from safecity.analytics.plates.formats import normalise_plate

MAX_PLATE_LEN = 32
"""Longest plate or pattern the store holds (the width of `plate_reads.normalised`)."""
WILDCARDS = "*?"
START, END = "^", "$"
"""Anchors around each plate in the SQLite trigram table."""

FTS_TABLE = "plate_reads_trigram"
"""SQLite: contentless FTS5 trigram table over `^normalised$`, kept in sync by triggers."""
FTS_TIME_BASE = 946_684_800
"""Unix time of 2000-01-01T00:00:00Z: trigram document ids count seconds from here (until 2068)."""
FTS_ROWID_BITS = 32
FTS_ROWID_MASK = (1 << FTS_ROWID_BITS) - 1
FTS_DOCID_SQL = (
    "(((CAST(strftime('%s', substr({row}.ts, 1, 19)) AS INTEGER) - 946684800) << 32) | {row}.rowid)"
)
"""SQLite expression of a read's trigram document id (the same as migration 0002's triggers)."""
PG_TRGM_INDEX = "ix_plate_reads_normalised_trgm"
"""PostgreSQL: GIN index on `plate_reads.normalised` (pg_trgm) and `CAST(ts AS date)` (btree_gin)."""

_SEARCH_INDEX_NAMES = frozenset({PG_TRGM_INDEX})
_SEARCH_TABLE_PREFIX = FTS_TABLE

# The characters of a key, confusion classes folded: A-Z and 0-9 (search keys fold diacritics).
# Keys one edit away are built from this alphabet.
KEY_ALPHABET = "".join(sorted({confusion_key(c) for c in string.ascii_uppercase + string.digits}))

_RUNS = re.compile(r"[*?]")
_STARS = re.compile(r"\*+")


def clean_plate_query(raw: str) -> str:
    """A plate or pattern as typed ("bg 123-ab", "BG*ab") in normalised form; ValueError if unusable."""
    plate = _STARS.sub("*", normalise_plate(raw))
    if not plate:
        raise ValueError(f"plate {raw!r} is empty once spaces and separators are removed")
    bad = sorted({ch for ch in plate if not (ch.isalnum() or ch in WILDCARDS)})
    if bad:
        raise ValueError(
            f"plate {raw!r} contains {''.join(bad)!r}; use letters, digits and the wildcards * and ?"
        )
    if len(plate) > MAX_PLATE_LEN:
        raise ValueError(f"plate {raw!r} is longer than {MAX_PLATE_LEN} characters")
    return plate


def is_pattern(plate: str) -> bool:
    return any(w in plate for w in WILDCARDS)


def literal_count(pattern: str) -> int:
    """How many characters the pattern fixes (everything but `*` and `?`)."""
    return sum(1 for ch in pattern if ch not in WILDCARDS)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A compiled regex that `fullmatch`es exactly the plates the pattern stands for."""
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL)


def like_pattern(pattern: str) -> str:
    """The pattern for SQL LIKE (cleaned plates hold no `%`, `_` or backslash to escape)."""
    return pattern.replace("*", "%").replace("?", "_")


def glob_pattern(pattern: str) -> str:
    """The pattern for SQLite GLOB (same wildcards; cleaned plates hold no `[`)."""
    return pattern


def literal_prefix(pattern: str) -> str:
    match = _RUNS.search(pattern)
    return pattern if match is None else pattern[: match.start()]


def pattern_trigrams(pattern: str) -> tuple[str, ...]:
    """The trigrams every plate matching the pattern contains in the anchored trigram table."""
    out: dict[str, None] = {}
    for run in _RUNS.split(f"{START}{pattern}{END}"):
        for i in range(len(run) - 2):
            out[run[i : i + 3]] = None
    return tuple(out)


def fts_query(trigrams: tuple[str, ...]) -> str:
    """An FTS5 MATCH expression requiring all the trigrams."""
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in trigrams)


def fts_document(normalised: str) -> str:
    return f"{START}{normalised}{END}"


def fts_docid_floor(t: datetime) -> int:
    """The smallest trigram document id of a read at or after `t` (aware)."""
    return (math.floor(t.timestamp()) - FTS_TIME_BASE) << FTS_ROWID_BITS


def fts_docid_second(docid: int) -> int:
    """The Unix second (fractions cut off) of the read behind a trigram document id."""
    return (docid >> FTS_ROWID_BITS) + FTS_TIME_BASE


def keys_within_one_edit(key: str) -> frozenset[str]:
    """`key` and every key one substitution, insertion or deletion away (over KEY_ALPHABET)."""
    out = {key}
    for i in range(len(key) + 1):
        head, tail = key[:i], key[i:]
        for ch in KEY_ALPHABET:
            out.add(head + ch + tail)
            if tail:
                out.add(head + ch + tail[1:])
        if tail:
            out.add(head + tail[1:])
    out.discard("")
    return frozenset(k for k in out if len(k) <= MAX_PLATE_LEN)


def _folds() -> list[tuple[str, str]]:
    return [(ch, cls[0]) for cls in CONFUSION_CLASSES for ch in cls[1:]]


def sql_confusion_key(column: str, dialect: str) -> str:
    """SQL that computes `confusion_key` of a column, identical to the Python function."""
    folds = _folds()
    if dialect == "postgresql":
        src = "".join(a for a, _ in folds)
        dst = "".join(b for _, b in folds)
        return f"translate({column}, '{src}', '{dst}')"
    if dialect == "sqlite":
        expr = column
        for a, b in folds:
            expr = f"replace({expr}, '{a}', '{b}')"
        return expr
    raise ValueError(f"no confusion-key SQL for dialect {dialect!r}; use sqlite or postgresql")


def recompute_confusion_keys(conn: Connection) -> int:
    """Set every read's `confusion_key` from its `normalised` text; returns the rows changed."""
    expr = sql_confusion_key("normalised", conn.dialect.name)
    result = conn.execute(
        text(f"UPDATE plate_reads SET confusion_key = {expr} WHERE confusion_key <> {expr}")
    )
    return int(result.rowcount)


def rebuild_search_index(conn: Connection) -> None:
    """SQLite: refill the trigram table from `plate_reads` (after VACUUM); PostgreSQL: REINDEX.

    Where `plate_reads` is partitioned (migration 0010) the index of each partition is rebuilt in
    turn: PostgreSQL reindexes a partitioned index as a whole only outside a transaction.
    """
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')"))
        docid = FTS_DOCID_SQL.format(row="plate_reads")
        conn.execute(
            text(
                f"INSERT INTO {FTS_TABLE}(rowid, plate) "
                f"SELECT {docid}, '{START}' || normalised || '{END}' FROM plate_reads"
            )
        )
    else:
        partition_indexes = conn.execute(
            text("SELECT relid::regclass::text FROM pg_partition_tree(to_regclass(:i)) WHERE isleaf"),
            {"i": PG_TRGM_INDEX},
        ).scalars()
        for index in list(partition_indexes) or [PG_TRGM_INDEX]:
            conn.execute(text(f"REINDEX INDEX {index}"))


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic filter: the search index objects live outside the models (dialect-specific DDL)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(_SEARCH_TABLE_PREFIX)
    if type_ == "index":
        return name not in _SEARCH_INDEX_NAMES
    return True
