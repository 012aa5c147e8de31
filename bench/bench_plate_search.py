"""Plate search latency (p50/p95) at millions of reads on SQLite and PostgreSQL, against a naive baseline.

Data: N synthetic reads of a city's traffic over 30 days: a fleet of N/8 vehicles (some seen
daily, most rarely), ~85% Serbian plates (BG 123-AB, NS 1234-ČA; area codes weighted by size)
and the rest Croatian, German, Hungarian and Bosnian ones; 3% of reads carry one OCR confusion
(O/0, B/8, ...). Cameras (default 300, two per site) are uniform; reads are inserted in time
order give or take a minute, as a live system writes them (`--shuffled`: in random time order,
as a backfill of old video would, the worst case for locality).

Load: the real schema (migrations to head), secondary indexes and triggers dropped, rows bulk
inserted (sqlite3 executemany / PostgreSQL COPY), then the indexes, the SQLite trigram table and
the triggers re-created exactly as the migrations define them. The build time is reported.

Queries go through `search_plates` (limit 100, newest first), as the CLI runs them:
exact (plates of the fleet), wildcard `BG*AB`, `*123*`, `?G12?AB` and random ones of those
shapes, and fuzzy (fleet plates). Baseline in the same run, same database: the same question
without the search indexes: `(normalised || '') = / GLOB / LIKE` (the expression hides the
column from every index) for exact and wildcard; for fuzzy a scan that filters in Python with
`within_one_edit` on confusion keys. Each query is timed on its first run (its pages may not be
in memory yet) and again (cached); the ratio compares the cached p50 with the baseline's.

    .venv/bin/python bench/bench_plate_search.py [--reads 1000000] [--backends sqlite,postgresql]
        [--cameras 300] [--queries 40] [--naive-queries 5] [--keep-sqlite PATH] [--keep-postgres]

Building 10 M reads took 11 min on SQLite (insert 463 s, of which most is generating the rows in
Python; btree indexes 97 s; trigram table 103 s; 4.0 GB) and 13 min on PostgreSQL (COPY 576 s,
indexes 186 s; 4.3 GB) on the 2-core development machine; 1 M takes about a minute on each.

`--keep-sqlite PATH` keeps (or reuses, if built from the same --reads and migrations) the SQLite
file, so a 10 M database is built once; `--keep-postgres` does the same with a database named
`safecity_bench_keep_<reads>` (drop it by hand when done).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

from safecity.analytics.plates.confusion import confusion_key, within_one_edit
from safecity.store.cameras import CameraStore
from safecity.store.database import MIGRATIONS_DIR, Database
from safecity.store.plate_search import PlateQuery, SearchMode, search_plates
from safecity.store.scratch import scratch_database, server_answers
from safecity.types import Camera, Capability, Site

PG_URL = os.environ.get(
    "SAFECITY_TEST_POSTGRES_URL", "postgresql+psycopg://safecity:safecity@127.0.0.1:5432/postgres"
)
T_END = datetime(2026, 3, 31, tzinfo=UTC)
DAYS = 30
CHUNK = 100_000
DATA_VERSION = 2
LIMIT = 100

# Serbian registration areas, weighted roughly by vehicles registered.
RS_AREAS = {
    "BG": 35, "NS": 9, "NI": 5, "KG": 4, "SU": 3, "ZR": 2, "PA": 2, "ČA": 2, "KV": 2, "ŠA": 2, "SM": 2,
    "VA": 2, "LE": 2, "UE": 2, "KŠ": 1, "SO": 1, "PO": 1, "JA": 1, "VR": 1, "PI": 1, "ZA": 1, "BO": 1,
    "SD": 1, "VS": 1, "PŽ": 1, "AR": 1, "GM": 1, "LO": 1, "NP": 1, "PK": 1,
}  # fmt: skip
RS_LETTERS = "ABCDEFGHIJKLMNOPRSTUVZČĆĐŠŽ"
LATIN = "ABCDEFGHIJKLMNOPRSTUVWXYZ"
CONFUSIONS = {
    "O": "0",
    "0": "O",
    "B": "8",
    "8": "B",
    "I": "1",
    "1": "I",
    "S": "5",
    "5": "S",
    "Z": "2",
    "G": "6",
}
PG_COPY_COLUMNS = (
    "id, camera_id, ts, x, y, w, h, confidence, track_id, snapshot, text, normalised, confusion_key, "
    "country, candidates"
)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _letters(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def make_plate(rng: random.Random) -> tuple[str, str, str]:
    """(printed text, normalised, country) of one vehicle."""
    u = rng.random()
    if u < 0.85:
        area = rng.choices(list(RS_AREAS), weights=list(RS_AREAS.values()))[0]
        digits = _digits(rng, 3 if rng.random() < 0.4 else 4)
        letters = _letters(rng, RS_LETTERS, 2)
        return f"{area} {digits}-{letters}", f"{area}{digits}{letters}", "RS"
    if u < 0.90:
        area, digits, letters = rng.choice(["ZG", "ST", "RI", "OS"]), _digits(rng, 4), _letters(rng, LATIN, 2)
        return f"{area} {digits}-{letters}", f"{area}{digits}{letters}", "HR"
    if u < 0.94:
        area = rng.choice(["M", "B", "HH", "S", "K", "F", "DO", "GAP"])
        letters, digits = _letters(rng, LATIN, rng.choice([1, 2])), _digits(rng, rng.choice([2, 3, 4]))
        return f"{area} {letters} {digits}", f"{area}{letters}{digits}", "DE"
    if u < 0.97:
        letters, digits = _letters(rng, LATIN, 3), _digits(rng, 3)
        return f"{letters}-{digits}", f"{letters}{digits}", "HU"
    a, b, c = _letters(rng, "AEJKMOT", 1), _digits(rng, 2), _digits(rng, 3)
    mid = _letters(rng, "AEJKMOT", 1)
    return f"{a}{b}-{mid}-{c}", f"{a}{b}{mid}{c}", "BA"


def misread(rng: random.Random, normalised: str) -> str:
    spots = [i for i, ch in enumerate(normalised) if ch in CONFUSIONS]
    if not spots:
        return normalised
    i = rng.choice(spots)
    return normalised[:i] + CONFUSIONS[normalised[i]] + normalised[i + 1 :]


@dataclass(frozen=True)
class Fleet:
    plates: list[tuple[str, str, str]]
    cameras: int
    shuffled: bool = False
    """False: reads arrive in time order (a live system); True: in random time order (backfills)."""

    @classmethod
    def make(cls, reads: int, cameras: int, seed: int, shuffled: bool = False) -> Fleet:
        rng = random.Random(seed)
        return cls([make_plate(rng) for _ in range(max(1000, reads // 8))], cameras, shuffled)

    def tag(self, n: int, seed: int) -> str:
        """What a kept database was built from; it is rebuilt when any of this differs."""
        order = "shuffled" if self.shuffled else "timed"
        return f"{DATA_VERSION} {n} {self.cameras} {seed} {order} {schema_fingerprint()}"

    def rows(self, n: int, seed: int) -> Iterator[list[tuple[Any, ...]]]:
        """Chunks of plate_reads rows in the column order of PG_COPY_COLUMNS."""
        rng = random.Random(seed + 1)
        span_s = DAYS * 86400
        start = T_END - timedelta(days=DAYS)
        chunk: list[tuple[Any, ...]] = []
        for i in range(n):
            # u**2 skews towards the start of the fleet: a few vehicles pass daily, most rarely.
            text_, norm, country = self.plates[int(len(self.plates) * rng.random() ** 2)]
            if rng.random() < 0.03:
                norm = misread(rng, norm)
                text_ = norm
            cam = f"cam-{rng.randrange(self.cameras):04d}"
            # Written as they happen, give or take a minute; or, shuffled, in any order at all.
            offset = rng.random() * span_s if self.shuffled else (i + 0.5) / n * span_s + rng.uniform(-60, 60)
            ts = (start + timedelta(seconds=min(max(offset, 0.0), span_s - 1e-3))).replace(tzinfo=None)
            conf = round(0.6 + 0.4 * rng.random(), 3)
            chunk.append(
                (
                    f"{rng.getrandbits(128):032x}",
                    cam,
                    ts,
                    100,
                    400,
                    120,
                    30,
                    conf,
                    i,
                    f"{cam}/{ts:%Y/%m/%d}/{i}.jpg",
                    text_,
                    norm,
                    confusion_key(norm),
                    country,
                    json.dumps([[norm, conf]]),
                )
            )
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def register(db: Database, cameras: int) -> None:
    sites = [Site(f"site-{i:04d}", f"Site {i}", 44.8, 20.46) for i in range((cameras + 1) // 2)]
    cams = [
        Camera(
            f"cam-{i:04d}",
            f"Camera {i}",
            f"site-{i // 2:04d}",
            44.8,
            20.46,
            capabilities=frozenset({Capability.PLATES}),
        )
        for i in range(cameras)
    ]
    CameraStore(db).save(sites, cams)


# ---------------------------------------------------------------- loading


def load_sqlite(path: Path, fleet: Fleet, n: int, seed: int) -> dict[str, float]:
    db = Database.open(f"sqlite:///{path}")
    register(db, fleet.cameras)
    db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-2000000")
    ddl = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'plate_reads' "
        "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
    ).fetchall()
    for kind, name, _ in ddl:
        conn.execute(f"DROP {kind.upper()} {name}")
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    for chunk in fleet.rows(n, seed):
        conn.executemany(
            f"INSERT INTO plate_reads ({PG_COPY_COLUMNS}) VALUES ({', '.join('?' * 15)})",
            [(*r[:2], r[2].strftime("%Y-%m-%d %H:%M:%S.%f"), *r[3:]) for r in chunk],
        )
    conn.execute("COMMIT")
    t1 = time.perf_counter()
    for kind, _, sql in ddl:
        if kind == "index":
            conn.execute(sql)
    t2 = time.perf_counter()
    conn.execute(
        "INSERT INTO plate_reads_trigram(rowid, plate) "
        "SELECT rowid, '^' || normalised || '$' FROM plate_reads"
    )
    conn.execute("INSERT INTO plate_reads_trigram(plate_reads_trigram) VALUES ('optimize')")
    for kind, _, sql in ddl:
        if kind == "trigger":
            conn.execute(sql)
    conn.execute("ANALYZE")
    t3 = time.perf_counter()
    conn.close()
    return {"insert_s": t1 - t0, "btree_s": t2 - t1, "trigram_s": t3 - t2}


def load_postgres(url: str, fleet: Fleet, n: int, seed: int) -> dict[str, float]:
    db = Database.connect(url)
    db.upgrade()
    register(db, fleet.cameras)
    db.close()
    import psycopg

    pg_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'plate_reads' AND indexname <> 'pk_plate_reads'"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        t0 = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY plate_reads ({PG_COPY_COLUMNS}) FROM STDIN") as copy:
            for chunk in fleet.rows(n, seed):
                for row in chunk:
                    copy.write_row(row)
        t1 = time.perf_counter()
        for _, sql in indexes:
            # A partitioned table's index reads ON ONLY (0010): rebuilt without it, it covers the partitions.
            conn.execute(sql.replace(" ON ONLY ", " ON "))
        conn.execute("VACUUM ANALYZE plate_reads")
        t2 = time.perf_counter()
    return {"insert_s": t1 - t0, "btree_s": t2 - t1, "trigram_s": 0.0}


def schema_fingerprint() -> str:
    versions = sorted((MIGRATIONS_DIR / "versions").glob("*.py"))
    return hashlib.sha256(b"".join(v.read_bytes() for v in versions)).hexdigest()[:16]


@contextmanager
def sqlite_database(
    n: int, fleet: Fleet, seed: int, keep: Path | None
) -> Iterator[tuple[Database, dict[str, float]]]:
    with tempfile.TemporaryDirectory(dir=os.environ.get("SAFECITY_BENCH_TMP")) as tmp:
        path = keep or Path(tmp) / "bench.db"
        marker = path.with_suffix(".reads")
        # Reused only when built from the same number of reads by the same migrations.
        tag = fleet.tag(n, seed)
        if keep is not None and path.exists() and marker.exists() and marker.read_text() == tag:
            build: dict[str, float] = json.loads(path.with_suffix(".build").read_text())
        else:
            for p in (path, marker, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                p.unlink(missing_ok=True)
            build = load_sqlite(path, fleet, n, seed)
            build["size_mb"] = path.stat().st_size / 1e6
            if keep is not None:
                marker.write_text(tag)
                path.with_suffix(".build").write_text(json.dumps(build))
        db = Database.open(f"sqlite:///{path}")
        try:
            yield db, build
        finally:
            db.close()


def _pg_size_mb(db: Database) -> float:
    with db.engine.connect() as conn:
        return float(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()) / 1e6


@contextmanager
def postgres_database(
    n: int, fleet: Fleet, seed: int, keep: bool
) -> Iterator[tuple[Database, dict[str, float]]]:
    if not keep:
        with scratch_database(PG_URL, "safecity_bench") as url:
            build = load_postgres(url, fleet, n, seed)
            db = Database.connect(url)
            build["size_mb"] = _pg_size_mb(db)
            try:
                yield db, build
            finally:
                db.close()
        return
    # Kept database: named after the size, reused while built by the same migrations.
    name = f"safecity_bench_keep_{n}{'_shuffled' if fleet.shuffled else ''}"
    tag = fleet.tag(n, seed)
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    build = None
    if exists:
        probe = create_engine(url)
        with probe.connect() as conn:
            row = (
                conn.execute(text("SELECT to_regclass('bench_meta') IS NOT NULL")).scalar_one()
                and conn.execute(text("SELECT tag, build FROM bench_meta")).first()
            )
        probe.dispose()
        if row and row[0] == tag:
            build = json.loads(row[1])
    if build is None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        build = load_postgres(url, fleet, n, seed)
        db = Database.connect(url)
        build["size_mb"] = _pg_size_mb(db)
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_meta (tag text, build text)"))
            conn.execute(text("INSERT INTO bench_meta VALUES (:t, :b)"), {"t": tag, "b": json.dumps(build)})
        db.close()
    admin.dispose()
    db = Database.connect(url)
    try:
        yield db, build
    finally:
        db.close()


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class Workload:
    name: str
    mode: SearchMode
    queries: list[str]


def workloads(fleet: Fleet, count: int, seed: int) -> list[Workload]:
    rng = random.Random(seed + 2)
    # The often-seen part of the fleet, where an investigator's plates come from as well.
    seen = [p[1] for p in fleet.plates[: len(fleet.plates) // 2]]
    rs = [p for p in seen if p[2:3].isdigit()]

    def pick(make: Callable[[str], str]) -> list[str]:
        return [make(rng.choice(rs)) for _ in range(count)]

    def serial(p: str) -> str:
        return "".join(ch for ch in p if ch.isdigit())

    return [
        Workload("exact", SearchMode.EXACT, [rng.choice(seen) for _ in range(count)]),
        Workload("wildcard BG*AB", SearchMode.WILDCARD, ["BG*AB"] * count),
        Workload("wildcard *123*", SearchMode.WILDCARD, ["*123*"] * count),
        Workload("wildcard ?G12?AB", SearchMode.WILDCARD, ["?G12?AB"] * count),
        Workload("wildcard XX*YY (random)", SearchMode.WILDCARD, pick(lambda p: f"{p[:2]}*{p[-2:]}")),
        Workload("wildcard *ddd* (random)", SearchMode.WILDCARD, pick(lambda p: f"*{serial(p)[:3]}*")),
        Workload(
            "wildcard ?Xdd?YY (random)",
            SearchMode.WILDCARD,
            pick(lambda p: f"?{p[1]}{serial(p)[:2]}?{p[-2:]}"),
        ),
        Workload("fuzzy", SearchMode.FUZZY, [rng.choice(seen) for _ in range(count)]),
    ]


def naive_search(db: Database, mode: SearchMode, plate: str) -> int:
    """The same question without the search indexes."""
    with db.engine.connect() as conn:
        if mode is SearchMode.FUZZY:
            key = confusion_key(plate)
            rows = conn.execute(text("SELECT id, ts, normalised FROM plate_reads"))
            found = [r for r in rows if within_one_edit(confusion_key(r[2]), key)]
            return len(sorted(found, key=lambda r: r[1], reverse=True)[:LIMIT])
        if mode is SearchMode.EXACT:
            where, value = "(normalised || '') = :p", plate
        elif db.is_sqlite:
            where, value = "(normalised || '') GLOB :p", plate
        else:
            where, value = "(normalised || '') LIKE :p", plate.replace("*", "%").replace("?", "_")
        sql = f"SELECT id, camera_id, ts, normalised FROM plate_reads WHERE {where} ORDER BY ts DESC LIMIT :n"
        return len(conn.execute(text(sql), {"p": value, "n": LIMIT}).all())


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    t = time.perf_counter()
    n = fn()
    return (time.perf_counter() - t) * 1000, n


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass(frozen=True)
class Measured:
    first: list[float]
    """Each query's first run: its pages may not be cached yet."""
    repeat: list[float]
    """The same queries once more, cached."""
    naive: list[float]
    rows: float


def measure(db: Database, work: Workload, naive_count: int) -> Measured:
    def ours(q: str) -> int:
        return len(search_plates(db, PlateQuery.parse(q, work.mode, limit=LIMIT)))

    first = [timed(lambda q=q: ours(q)) for q in work.queries]  # type: ignore[misc]
    repeat = [timed(lambda q=q: ours(q))[0] for q in work.queries]  # type: ignore[misc]
    naive = [timed(lambda q=q: naive_search(db, work.mode, q))[0] for q in work.queries[:naive_count]]  # type: ignore[misc]
    return Measured([t for t, _ in first], repeat, naive, statistics.mean(n for _, n in first))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--cameras", type=int, default=300)
    parser.add_argument("--queries", type=int, default=40, help="queries per kind (ours)")
    parser.add_argument("--naive-queries", type=int, default=5, help="queries per kind (baseline)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-sqlite", type=Path, default=None)
    parser.add_argument("--keep-postgres", action="store_true")
    parser.add_argument("--shuffled", action="store_true", help="insert reads in random time order")
    args = parser.parse_args()
    if not 50 <= args.cameras <= 1000:
        parser.error("--cameras must be between 50 and 1000")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(sorted(unknown))}; use sqlite and/or postgresql")
    fleet = Fleet.make(args.reads, args.cameras, args.seed, args.shuffled)
    work = workloads(fleet, args.queries, args.seed)
    for backend in backends:
        if backend == "postgresql" and not server_answers(PG_URL):
            print(f"postgresql: skipped, no server at {make_url(PG_URL).render_as_string()}")
            continue
        opened = (
            sqlite_database(args.reads, fleet, args.seed, args.keep_sqlite)
            if backend == "sqlite"
            else postgres_database(args.reads, fleet, args.seed, args.keep_postgres)
        )
        with opened as (db, build):
            total = build["insert_s"] + build["btree_s"] + build["trigram_s"]
            print(
                f"\n{backend}: {args.reads:,} reads, {args.cameras} cameras, {len(fleet.plates):,} vehicles; "
                f"build {total:.0f} s (insert {build['insert_s']:.0f}, btree/GIN {build['btree_s']:.0f}, "
                f"trigram {build['trigram_s']:.0f}), {build['size_mb']:,.0f} MB"
            )
            print(
                f"{'ms':<28} {'rows':>5} {'1st p50':>8} {'1st p95':>8} {'p50':>7} {'p95':>7} "
                f"{'naive p50':>10} {'naive p95':>10} {'ratio p50':>10}"
            )
            for w in work:
                m = measure(db, w, args.naive_queries)
                p50, p95 = percentile(m.repeat, 0.5), percentile(m.repeat, 0.95)
                n50, n95 = percentile(m.naive, 0.5), percentile(m.naive, 0.95)
                f50, f95 = percentile(m.first, 0.5), percentile(m.first, 0.95)
                ours = f"{f50:>8.1f} {f95:>8.1f} {p50:>7.1f} {p95:>7.1f}"
                numbers = f"{ours} {n50:>10.0f} {n95:>10.0f} {n50 / p50:>9.0f}x"
                print(f"{w.name:<28} {m.rows:>5.0f} {numbers}", flush=True)
            print(
                f"(ours: {args.queries} queries per kind, 1st = each query's first run, p50/p95 = run again; "
                f"naive: first {args.naive_queries} of them, once; ratio = naive p50 / p50)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
