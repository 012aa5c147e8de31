"""Plate search on both backends: exact, wildcard and fuzzy modes, filters, order, and the indexes used."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from factories import camera, site
from sqlalchemy import delete, func, select, text, update

from safecity.store import plate_search
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import PlateReadRow
from safecity.store.plate_index import (
    FTS_TABLE,
    pattern_regex,
    rebuild_search_index,
    recompute_confusion_keys,
)
from safecity.store.plate_search import PlateQuery, SearchMode, build_search, search_plates
from safecity.store.writer import write_batch
from safecity.types import BBox, PlateMatchKind, PlateRead, new_id

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)

# (plate, camera, minutes after T0); cam-1 and cam-2 are at site-1, cam-3 at site-2.
READS = [
    ("BG123AB", "cam-1", 0),
    ("BG123AB", "cam-3", 60),
    ("BG120AB", "cam-1", 5),
    ("BG12OAB", "cam-2", 10),
    ("8G120AB", "cam-1", 15),
    ("BG128AB", "cam-2", 20),
    ("BG1200AB", "cam-3", 25),
    ("BG12AB", "cam-1", 30),
    ("NS123AB", "cam-2", 35),
    ("KG1234CD", "cam-3", 40),
    ("BG999XY", "cam-1", 45),
]


def plate(text_: str, camera_id: str, minutes: int) -> PlateRead:
    return PlateRead(
        id=new_id(),
        camera_id=camera_id,
        timestamp=T0 + timedelta(minutes=minutes),
        bbox=BBox(1, 2, 120, 30),
        confidence=0.9,
        text=text_,
        normalised=text_,
        country="RS",
        snapshot=f"{camera_id}/{minutes}.jpg",
    )


def load(db: Database) -> Database:
    CameraStore(db).save(
        [site("site-1"), site("site-2")],
        [camera("cam-1"), camera("cam-2"), camera("cam-3", site_id="site-2")],
    )
    write_batch(db, [plate(*r) for r in READS])
    return db


@pytest.fixture
def reads(db: Database) -> Database:
    return load(db)


@pytest.fixture
def sqlite_reads(sqlite_db: Database) -> Database:
    return load(sqlite_db)


def found(db: Database, raw: str, mode: SearchMode | None = None, **filters: object) -> list[str]:
    return [h.normalised for h in search_plates(db, PlateQuery.parse(raw, mode, **filters))]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "mode", "expected"),
    [
        ("BG 123-AB", SearchMode.EXACT, {"BG123AB"}),
        ("bg120ab", None, {"BG120AB"}),
        ("BG000AA", SearchMode.EXACT, set()),
        ("BG*AB", None, {"BG123AB", "BG120AB", "BG12OAB", "BG128AB", "BG1200AB", "BG12AB"}),
        ("*123*", None, {"BG123AB", "NS123AB", "KG1234CD"}),
        ("?G12?AB", None, {"BG123AB", "BG120AB", "BG12OAB", "BG128AB", "8G120AB"}),
        ("BG12*", None, {"BG123AB", "BG120AB", "BG12OAB", "BG128AB", "BG1200AB", "BG12AB"}),
        ("*XY", None, {"BG999XY"}),
        ("BG999XY", SearchMode.WILDCARD, {"BG999XY"}),
        (
            "BG120AB",
            SearchMode.FUZZY,
            {"BG120AB", "BG12OAB", "8G120AB", "BG128AB", "BG1200AB", "BG12AB", "BG123AB"},
        ),
        ("BG999XV", SearchMode.FUZZY, {"BG999XY"}),
        ("NS1Z3AB", SearchMode.FUZZY, {"NS123AB"}),
    ],
)
def test_search_modes(reads: Database, raw: str, mode: SearchMode | None, expected: set[str]) -> None:
    assert set(found(reads, raw, mode)) == expected


def test_fuzzy_ranks_exact_then_confusable_then_one_edit(reads: Database) -> None:
    hits = search_plates(reads, PlateQuery.parse("BG120AB", SearchMode.FUZZY))
    kinds = [h.match for h in hits]
    assert kinds == sorted(
        kinds, key=[PlateMatchKind.EXACT, PlateMatchKind.CONFUSABLE, PlateMatchKind.ONE_EDIT].index
    )
    assert {h.normalised: h.match for h in hits}["8G120AB"] is PlateMatchKind.CONFUSABLE


def test_results_are_newest_first(reads: Database) -> None:
    hits = search_plates(reads, PlateQuery.parse("BG*AB"))
    assert [h.timestamp for h in hits] == sorted((h.timestamp for h in hits), reverse=True)


def test_limit_keeps_the_newest(reads: Database) -> None:
    assert found(reads, "BG*AB", limit=2) == ["BG123AB", "BG12AB"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"camera_ids": ("cam-3",)}, {"BG123AB", "BG1200AB"}),
        ({"camera_ids": ("cam-1", "cam-2")}, {"BG123AB", "BG120AB", "BG12OAB", "BG128AB", "BG12AB"}),
        ({"site_id": "site-2"}, {"BG123AB", "BG1200AB"}),
        ({"since": T0 + timedelta(minutes=20)}, {"BG123AB", "BG128AB", "BG1200AB", "BG12AB"}),
        ({"until": T0 + timedelta(minutes=10)}, {"BG123AB", "BG120AB"}),
    ],
)
def test_filters(reads: Database, filters: dict[str, object], expected: set[str]) -> None:
    assert set(found(reads, "BG*AB", **filters)) == expected


def test_hit_carries_site_and_evidence(reads: Database) -> None:
    [hit] = search_plates(reads, PlateQuery.parse("NS123AB"))
    assert (hit.camera_id, hit.site_id, hit.snapshot, hit.timestamp) == (
        "cam-2",
        "site-1",
        "cam-2/35.jpg",
        T0 + timedelta(minutes=35),
    )


@pytest.mark.parametrize(
    ("raw", "mode", "kwargs", "message"),
    [
        ("BG*AB", SearchMode.EXACT, {}, "only the wildcard mode"),
        ("BG*AB", SearchMode.FUZZY, {}, "only the wildcard mode"),
        ("BG1", None, {"since": datetime(2026, 3, 2)}, "no UTC offset"),
        ("BG1", None, {"since": T0, "until": T0}, "not before"),
        ("BG1", None, {"limit": 0}, "at least 1"),
        ("BG/1", None, {}, "contains '/'"),
    ],
)
def test_bad_queries_are_refused(
    raw: str, mode: SearchMode | None, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PlateQuery.parse(raw, mode, **kwargs)  # type: ignore[arg-type]


def test_deleted_reads_leave_the_index(reads: Database) -> None:
    with reads.session() as s:
        s.execute(delete(PlateReadRow).where(PlateReadRow.normalised == "NS123AB"))
    assert set(found(reads, "*123*")) == {"BG123AB", "KG1234CD"}


def test_renamed_reads_are_found_by_their_new_text(reads: Database) -> None:
    with reads.session() as s:
        s.execute(
            update(PlateReadRow).where(PlateReadRow.normalised == "NS123AB").values(normalised="NS777AB")
        )
    assert (found(reads, "*777*"), "NS123AB" in found(reads, "*123*")) == (["NS777AB"], False)


def test_sqlite_trigram_table_follows_deletes(sqlite_reads: Database) -> None:
    with sqlite_reads.session() as s:
        s.execute(delete(PlateReadRow))
        left = s.scalar(text(f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH '\"^BG\"'"))
    assert left == 0


def test_rebuild_search_index_restores_lost_entries(reads: Database) -> None:
    if reads.is_sqlite:
        with reads.engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')"))
        assert found(reads, "*123*") == []
    with reads.engine.begin() as conn:
        rebuild_search_index(conn)
    assert set(found(reads, "*123*")) == {"BG123AB", "NS123AB", "KG1234CD"}


def test_writer_fills_the_confusion_key(reads: Database) -> None:
    with reads.session() as s:
        assert (
            s.scalar(select(PlateReadRow.confusion_key).where(PlateReadRow.normalised == "8G120AB"))
            == "BGIZOAB"
        )
        assert s.scalar(select(func.count()).where(PlateReadRow.confusion_key == "")) == 0


@pytest.fixture
def pg_reads(postgres_url: str) -> Iterator[Database]:
    database = Database.connect(postgres_url)
    database.upgrade()
    yield load(database)
    database.close()


def plan(db: Database, query: PlateQuery) -> str:
    compiled = build_search(query, db.engine.dialect.name).compile(
        db.engine, compile_kwargs={"literal_binds": True}
    )
    with db.engine.connect() as conn:
        if db.is_sqlite:
            return " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        # A handful of rows would be scanned; the planner must still be able to use the index.
        conn.execute(text("SET enable_seqscan = off"))
        explained = " ".join(str(r[0]) for r in conn.execute(text(f"EXPLAIN {compiled}")))
        # plate_reads is partitioned by month (0010): the plan names the partitions' indexes, each
        # of which is attached to an index of plate_reads; name that one beside it.
        attached = conn.execute(
            text(
                "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relkind = 'I'"
            )
        ).all()
        for index, parent in attached:
            explained = re.sub(rf"\b{index}\b", f"{index} ({parent})", explained)
        return explained


def test_exact_search_reads_the_plate_time_index(reads: Database) -> None:
    assert "ix_plate_reads_normalised_ts" in plan(reads, PlateQuery.parse("BG123AB"))


def test_postgresql_wildcard_uses_the_trigram_index(pg_reads: Database) -> None:
    assert "ix_plate_reads_normalised_trgm" in plan(pg_reads, PlateQuery.parse("*123*"))


def brute_force(query: PlateQuery) -> list[tuple[datetime, str]]:
    regex = pattern_regex(query.plate)
    cams = {"cam-1": "site-1", "cam-2": "site-1", "cam-3": "site-2"}
    rows = [
        (T0 + timedelta(minutes=m), p)
        for p, cam, m in READS
        if regex.fullmatch(p)
        and (not query.camera_ids or cam in query.camera_ids)
        and (query.site_id is None or cams[cam] == query.site_id)
        and (query.since is None or T0 + timedelta(minutes=m) >= query.since)
        and (query.until is None or T0 + timedelta(minutes=m) < query.until)
    ]
    return sorted(rows, reverse=True)[: query.limit]


@pytest.mark.parametrize("limit", [1, 2, 3])
@pytest.mark.parametrize(
    ("raw", "filters"),
    [
        ("BG*AB", {}),
        ("*123*", {}),
        ("BG*AB", {"camera_ids": ("cam-2",)}),
        ("BG*AB", {"since": T0 + timedelta(minutes=6), "until": T0 + timedelta(minutes=26)}),
        ("?G12?AB", {"until": T0 + timedelta(minutes=10, seconds=30)}),
    ],
)
def test_paged_wildcard_search_equals_brute_force(
    reads: Database, monkeypatch: pytest.MonkeyPatch, raw: str, filters: dict[str, object], limit: int
) -> None:
    # SQLite: one trigram candidate per page; PostgreSQL: day by day to the end.
    monkeypatch.setattr(plate_search, "TRIGRAM_PAGE_FIRST", 1)
    monkeypatch.setattr(plate_search, "PG_RARE_ROWS", -1)
    monkeypatch.setattr(plate_search, "PG_RARE_FACTOR", 0)
    query = PlateQuery.parse(raw, limit=limit, **filters)  # type: ignore[arg-type]
    assert [(h.timestamp, h.normalised) for h in search_plates(reads, query)] == brute_force(query)


# Reads spread over ten days: (plate, days before T0 + 10 days, hour).
SPREAD = [(f"BG{100 + i}{'AB' if i % 3 else 'XY'}", i % 10, i % 24) for i in range(40)]


@pytest.mark.parametrize(
    ("rare", "factor", "cap"), [(-1, 0, 10**6), (3, 0, 10**6), (10**6, 2, 10**6), (-1, 0, 1), (-1, 0, 2)]
)
@pytest.mark.parametrize(
    ("raw", "limit", "camera_id"),
    [("BG*AB", 5, None), ("BG*XY", 20, None), ("*12*", 3, None), ("BG13?AB", 2, None), ("BG*", 6, "cam-2")],
)
def test_day_by_day_wildcard_search_equals_brute_force(
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    rare: int,
    factor: int,
    cap: int,
    raw: str,
    limit: int,
    camera_id: str | None,
) -> None:
    # PostgreSQL: PG_RARE_ROWS -1 (factor 0) reads every day on its own, 10**6 the rest in one
    # query after the first day; a PG_WINDOW_CAP of 1 or 2 makes every window dense (time walk).
    monkeypatch.setattr(plate_search, "PG_RARE_ROWS", rare)
    monkeypatch.setattr(plate_search, "PG_RARE_FACTOR", factor)
    monkeypatch.setattr(plate_search, "PG_WINDOW_CAP", cap)
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2")])
    end = T0 + timedelta(days=10)
    reads = [
        replace(plate(p, f"cam-{1 + i % 7 // 6}", 0), timestamp=end - timedelta(days=d, hours=h))
        for i, (p, d, h) in enumerate(SPREAD)
    ]
    write_batch(db, reads)
    regex = pattern_regex(PlateQuery.parse(raw).plate)
    matching = [r for r in reads if regex.fullmatch(r.normalised) and camera_id in (None, r.camera_id)]
    expected = sorted(((r.timestamp, r.normalised) for r in matching), reverse=True)
    query = PlateQuery.parse(raw, limit=limit, camera_ids=(camera_id,) if camera_id else ())
    assert [(h.timestamp, h.normalised) for h in search_plates(db, query)] == expected[:limit]


def test_reads_in_the_same_second_all_count(reads: Database) -> None:
    same = T0 + timedelta(days=1, microseconds=500)
    write_batch(
        reads,
        [replace(plate("QQ777QQ", "cam-1", 0), timestamp=same + timedelta(microseconds=i)) for i in range(5)],
    )
    assert len(search_plates(reads, PlateQuery.parse("*777*", limit=4))) == 4


def test_recompute_confusion_keys_repairs_stale_keys(reads: Database) -> None:
    with reads.session() as s:
        s.execute(
            update(PlateReadRow).where(PlateReadRow.normalised == "8G120AB").values(confusion_key="stale")
        )
    with reads.engine.begin() as conn:
        changed = recompute_confusion_keys(conn)
    with reads.session() as s:
        key = s.scalar(select(PlateReadRow.confusion_key).where(PlateReadRow.normalised == "8G120AB"))
    assert (changed, key) == (1, "BGIZOAB")
