"""Plate search keys fold diacritics on both backends: stored reads, search, hotlists, migration 0012.

The printed `text` keeps Š, Đ, Č, Ć, Ž; `normalised` (and everything keyed on it) is ASCII, so a
plate read as "ŠA 123-AB" is found by "SA123AB" and by "ša 123-ab", and a hotlist entry typed with
the diacritic matches a read without it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from factories import T0, camera, plate_read, site
from sqlalchemy import inspect, select, text

from safecity.analytics.plates.confusion import confusion_key
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.hotlists import HotlistStore
from safecity.store.models import PlateReadRow
from safecity.store.plate_index import FTS_TABLE
from safecity.store.plate_search import PlateQuery, SearchMode, search_plates
from safecity.store.writer import write_batch
from safecity.types import PlateMatchKind, PlateRead
from safecity.watch.hotlists import HotlistMatcher

PRINTED = "ŠA 123-AB"
"""As the Serbian formats print it (Šabac); its search key is SA123AB."""

# (query as typed, mode, how the read matches it)
FINDS = [
    ("SA123AB", SearchMode.EXACT, PlateMatchKind.EXACT),
    ("ša 123-ab", SearchMode.EXACT, PlateMatchKind.EXACT),
    ("ŠA123AB", SearchMode.EXACT, PlateMatchKind.EXACT),
    ("SA*", SearchMode.WILDCARD, PlateMatchKind.EXACT),
    ("Š?123*", SearchMode.WILDCARD, PlateMatchKind.EXACT),
    ("*123AB", SearchMode.WILDCARD, PlateMatchKind.EXACT),
    ("5A123AB", SearchMode.FUZZY, PlateMatchKind.CONFUSABLE),
    ("SA123A", SearchMode.FUZZY, PlateMatchKind.ONE_EDIT),
    ("ŠA123AB", SearchMode.FUZZY, PlateMatchKind.EXACT),
]


def diacritic_read(plate_text: str = PRINTED, normalised: str = "ŠA123AB") -> PlateRead:
    """A read as the reader hands it over: the formats' key still holds the diacritic."""
    return replace(plate_read(), text=plate_text, normalised=normalised, candidates=((normalised, 1.0),))


@pytest.fixture
def registered(db: Database) -> Database:
    CameraStore(db).save([site()], [camera("cam-1")])
    return db


def stored(db: Database) -> tuple[str, str, str]:
    with db.session() as s:
        row = s.execute(select(PlateReadRow.text, PlateReadRow.normalised, PlateReadRow.confusion_key)).one()
    return row[0], row[1], row[2]


def test_writer_stores_the_folded_key_and_the_printed_text(registered: Database) -> None:
    write_batch(registered, [diacritic_read()])
    assert stored(registered) == (PRINTED, "SA123AB", confusion_key("SA123AB"))


@pytest.mark.parametrize(("query", "mode", "kind"), FINDS)
def test_read_with_diacritic_is_found(
    registered: Database, query: str, mode: SearchMode, kind: PlateMatchKind
) -> None:
    read = diacritic_read()
    write_batch(registered, [read])
    hits = search_plates(registered, PlateQuery.parse(query, mode))
    assert [(h.id, h.text, h.match) for h in hits] == [(read.id, PRINTED, kind)]


def test_hotlist_entry_with_diacritic_is_stored_folded(registered: Database) -> None:
    entry = HotlistStore(registered).add("ŠA123AB", reason="stolen", owner="ops", expires_at=None)
    assert entry.plate == "SA123AB"


@pytest.mark.parametrize(
    ("entry_plate", "read_key"),
    [("ŠA123AB", "SA123AB"), ("SA123AB", "ŠA123AB"), ("ŠA1*", "SA123AB"), ("šA 123-ab", "ŠA123AB")],
)
def test_hotlist_matches_across_diacritics(registered: Database, entry_plate: str, read_key: str) -> None:
    store = HotlistStore(registered)
    entry = store.add(entry_plate, reason="stolen", owner="ops", expires_at=None, now=T0)
    hits = HotlistMatcher.from_store(store, T0).hits(diacritic_read(normalised=read_key), T0)
    assert [(h.entry.id, h.kind) for h in hits] == [(entry.id, PlateMatchKind.EXACT)]


# ---------------------------------------------------------------- migration 0012


def _insert_unfolded_at_0011(db: Database) -> None:
    """What a database held before 0012: the key with its diacritic, keyed and indexed as such."""
    ts = datetime(2026, 3, 2, 7, 30)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plate_reads (id, camera_id, ts, x, y, w, h, confidence, track_id, snapshot, "
                "text, normalised, confusion_key, country, candidates) VALUES "
                "(:id, 'cam-1', :ts, 0, 0, 10, 5, 0.9, NULL, '', :text, :plate, :key, 'RS', '[]')"
            ),
            [
                {"id": "r1", "ts": ts, "text": PRINTED, "plate": "ŠA123AB", "key": confusion_key("ŠA123AB")},
                {"id": "r2", "ts": ts + timedelta(minutes=1), "text": "BG 12-ĐŽ", "plate": "BG12ĐŽ"}
                | {"key": confusion_key("BG12ĐŽ")},
                {"id": "r3", "ts": ts + timedelta(minutes=2), "text": "BG 9-AB", "plate": "BG9AB"}
                | {"key": confusion_key("BG9AB")},
            ],
        )
        conn.execute(
            text(
                "INSERT INTO hotlist_entries (id, plate, reason, owner, created_at, expires_at, active, "
                "removed_at) VALUES ('h1', 'ČA*', 'stolen', 'ops', :ts, NULL, :yes, NULL)"
            ),
            {"ts": ts, "yes": True},
        )
        conn.execute(
            text(
                "INSERT INTO watchlists (id, name, kind, description, version, created_by, created_at) "
                "VALUES ('w1', 'plates', 'plate', '', 1, '', :ts)"
            ),
            {"ts": ts},
        )
        conn.execute(
            text(
                "INSERT INTO watchlist_entries (id, watchlist_id, label, plate_normalised, note, created_at) "
                "VALUES ('e1', 'w1', 'van', 'KŠ123AB', '', :ts)"
            ),
            {"ts": ts},
        )


@pytest.fixture
def migrated(registered: Database) -> Database:
    """A database holding unfolded keys at 0011, then upgraded to head."""
    registered.downgrade("0011")
    _insert_unfolded_at_0011(registered)
    registered.upgrade()
    return registered


def test_upgrade_folds_keys_and_keeps_text(migrated: Database) -> None:
    with migrated.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, text, normalised, confusion_key FROM plate_reads ORDER BY id"))
        assert [tuple(r) for r in rows] == [
            ("r1", PRINTED, "SA123AB", confusion_key("SA123AB")),
            ("r2", "BG 12-ĐŽ", "BG12DZ", confusion_key("BG12DZ")),
            ("r3", "BG 9-AB", "BG9AB", confusion_key("BG9AB")),
        ]


def test_upgrade_folds_hotlist_and_watchlist_plates(migrated: Database) -> None:
    with migrated.engine.connect() as conn:
        assert conn.execute(text("SELECT plate FROM hotlist_entries")).scalar_one() == "CA*"
        assert conn.execute(text("SELECT plate_normalised FROM watchlist_entries")).scalar_one() == "KS123AB"


@pytest.mark.parametrize(("query", "mode", "kind"), FINDS)
def test_upgraded_read_is_found(
    migrated: Database, query: str, mode: SearchMode, kind: PlateMatchKind
) -> None:
    hits = search_plates(migrated, PlateQuery.parse(query, mode))
    assert [(h.id, h.match) for h in hits] == [("r1", kind)]


def test_upgrade_replaces_the_old_trigram_documents(sqlite_db: Database) -> None:
    """SQLite: the update trigger of 0002 swaps each changed row's document, so no search finds the
    old key and the new one is found (PostgreSQL's GIN index has no documents of its own)."""
    CameraStore(sqlite_db).save([site()], [camera("cam-1")])
    sqlite_db.downgrade("0011")
    _insert_unfolded_at_0011(sqlite_db)
    sqlite_db.upgrade()
    with sqlite_db.engine.connect() as conn:
        old = conn.execute(text(f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH '\"ĐŽ$\"'"))
        new = conn.execute(text(f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH '\"DZ$\"'"))
        assert (old.scalar_one(), new.scalar_one()) == (0, 1)


def test_downgrade_drops_camera_plate_countries(registered: Database) -> None:
    registered.downgrade("0011")
    assert "plate_countries" not in {c["name"] for c in inspect(registered.engine).get_columns("cameras")}
