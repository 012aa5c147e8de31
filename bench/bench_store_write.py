"""Store batch write rate (observations/s) on SQLite and PostgreSQL, against a naive baseline.

Baseline: one ORM object and one commit per observation, the way a first version would write.
Ours: `write_batch`, one multi-row INSERT per table per transaction of `batch_size` rows.
Prints medians of several repetitions; PostgreSQL is measured when SAFECITY_TEST_POSTGRES_URL
(or the default local test server) answers, and is reported as skipped otherwise.

    .venv/bin/python bench/bench_store_write.py [--n 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import make_url

from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.observations import to_row
from safecity.store.scratch import scratch_database, server_answers
from safecity.store.writer import write_batch
from safecity.types import BBox, Camera, Capability, MotionTrack, PlateRead, Site, new_id

PG_URL = os.environ.get(
    "SAFECITY_TEST_POSTGRES_URL", "postgresql+psycopg://safecity:safecity@127.0.0.1:5432/postgres"
)
T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
CAMERAS = 50


def observations(n: int) -> list[MotionTrack | PlateRead]:
    out: list[MotionTrack | PlateRead] = []
    for i in range(n):
        cam = f"cam-{i % CAMERAS:04d}"
        t = T0 + timedelta(milliseconds=40 * i)
        if i % 2:
            out.append(
                PlateRead(
                    new_id(),
                    cam,
                    t,
                    BBox(10, 20, 120, 30),
                    0.9,
                    "BG 123-AB",
                    "BG123AB",
                    "RS",
                    i,
                    (("BG123AB", 0.9),),
                    f"{cam}/x.jpg",
                )
            )
        else:
            out.append(
                MotionTrack(
                    new_id(),
                    cam,
                    t,
                    t + timedelta(seconds=3),
                    BBox(1, 2, 300, 200),
                    0.8,
                    i,
                    ((0.0, 1.0, 2.0), (1.0, 3.0, 4.0)),
                    f"{cam}/y.jpg",
                )
            )
    return out


def register(db: Database) -> None:
    site = Site("site-1", "Slavija", 44.8026, 20.4664)
    cams = [
        Camera(
            f"cam-{i:04d}", f"Camera {i}", "site-1", 44.8, 20.46, capabilities=frozenset({Capability.PLATES})
        )
        for i in range(CAMERAS)
    ]
    CameraStore(db).save([site], cams)


def naive_write(db: Database, batch: list[MotionTrack | PlateRead]) -> None:
    for obs in batch:
        table, values = to_row(obs)
        with db.session() as session:
            session.add(table(**values))


def batched_write(db: Database, batch: list[MotionTrack | PlateRead], batch_size: int = 500) -> None:
    for i in range(0, len(batch), batch_size):
        write_batch(db, batch[i : i + batch_size])


@contextmanager
def sqlite_db() -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        register(db)
        yield db
        db.close()


@contextmanager
def postgres_db() -> Iterator[Database]:
    with scratch_database(PG_URL, "safecity_bench") as url:
        db = Database.connect(url)
        db.upgrade()
        register(db)
        yield db
        db.close()


def rate(
    make_db: Callable[[], object],
    write: Callable[[Database, list[MotionTrack | PlateRead]], None],
    n: int,
    repeat: int,
) -> float:
    rates = []
    for _ in range(repeat):
        batch = observations(n)
        with make_db() as db:  # type: ignore[attr-defined]
            t = time.perf_counter()
            write(db, batch)
            rates.append(n / (time.perf_counter() - t))
    return statistics.median(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="observations per run (batched writer)")
    parser.add_argument("--naive-n", type=int, default=2_000, help="observations per run (naive baseline)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    backends: list[tuple[str, Callable[[], object]]] = [("sqlite (WAL)", sqlite_db)]
    if server_answers(PG_URL):
        backends.append(("postgresql", postgres_db))
    else:
        print(f"postgresql: skipped, no server at {make_url(PG_URL).render_as_string()}")
    print(
        f"{'backend':<14} {'naive obs/s':>12} {'batched obs/s':>14} {'ratio':>7}   (median of {args.repeat})"
    )
    for name, make_db in backends:
        naive = rate(make_db, naive_write, args.naive_n, args.repeat)
        batched = rate(make_db, batched_write, args.n, args.repeat)
        print(f"{name:<14} {naive:>12,.0f} {batched:>14,.0f} {batched / naive:>6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
