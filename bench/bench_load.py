"""The data path at city scale: the load simulation from 10 to 100 to 1,000 cameras, and its ceiling.

Each step offers `--rate` observations per camera per second (plate reads from 70 % of the
cameras, face sightings from the rest, rush-hour profile 0.4-1.6x, 0.5 % of reads hotlisted) in
real time for `--seconds` into a fresh SQLite database through the single writer and the hotlist
check, as `safecity serve` stores them (`safecity.cluster.load`), with plate searches running
beside it. Then the same path unpaced (as fast as it takes observations) gives the ceiling, and a
naive path on the same stream (one transaction per observation, the hotlist checked per read)
gives the baseline; the ratio compares the two ceilings.

    .venv/bin/python bench/bench_load.py [--steps 10,100,1000] [--rate 0.3] [--seconds 20] [--png PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from safecity.cluster.load import LoadProfile, LoadResult, register, run_load, scaling_png, table, tick
from safecity.config import Settings
from safecity.store.database import Database
from safecity.store.hotlists import HotlistStore
from safecity.store.writer import write_batch
from safecity.types import PlateRead
from safecity.watch.hotlists import HotlistAlerter


def naive_ceiling(folder: Path, settings: Settings, profile: LoadProfile, observations: int) -> float:
    """Observations/s when each one is its own transaction and each read is checked alone."""
    db = Database.open(f"sqlite:///{folder / 'naive.db'}", settings.store)
    try:
        world = register(db, profile, settings)
        alerter = HotlistAlerter(HotlistStore(db, settings.hotlists))
        stream = []
        t, start = 0.0, datetime.now(UTC)
        while len(stream) < observations:
            stream += tick(world, profile, t, start + timedelta(seconds=t))
            t += profile.tick_s
        stream = stream[:observations]
        t0 = time.perf_counter()
        for obs in stream:
            write_batch(db, [obs])
            if isinstance(obs, PlateRead):
                alerter.check([obs])
        return len(stream) / (time.perf_counter() - t0)
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="10,100,1000")
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--naive-observations", type=int, default=3000)
    parser.add_argument("--png", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings()
    steps = [int(s) for s in args.steps.split(",")]
    results: list[LoadResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in steps:
            for paced in (True, False):
                db = Database.open(f"sqlite:///{folder / f'{n}-{paced}.db'}", settings.store)
                try:
                    results.append(
                        run_load(db, settings, LoadProfile(n, args.rate, args.seconds), paced=paced)
                    )
                finally:
                    db.close()
        biggest = LoadProfile(steps[-1], args.rate, args.seconds)
        naive = naive_ceiling(folder, settings, biggest, args.naive_observations)
    print(f"rate {args.rate} observations per camera per second, {args.seconds:g} s per step, SQLite (WAL)")
    print(table(results))
    ceiling = next(r for r in reversed(results) if not r.paced)
    print(
        f"ceiling at {steps[-1]} cameras: safecity {ceiling.stored_per_s:,.0f} obs/s, naive (a transaction "
        f"per observation) {naive:,.0f} obs/s, ratio {ceiling.stored_per_s / naive:.1f}x; "
        f"{ceiling.stored_per_s / args.rate:,.0f} cameras' worth at this rate"
    )
    if args.png is not None:
        scaling_png(results, str(args.png))
        print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
