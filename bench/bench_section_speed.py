"""Section-speed matching throughput (reads/s): the streaming matcher against a naive all-pairs join.

Data (seeded): 50 camera pairs (sections of 300-3000 m, limit 50-130 km/h) and vehicles passing
them: each passage is a read at A and, for 90 % of them, a read at B after distance / speed
(speeds spread around the limit); the other 10 % leave the road in between. Of the reads at B,
4 % carry an OCR confusion (O/0, B/8, ...) and 1 % one misread character; B's clock is off by
up to +-3 s (configured). Plates are Serbian-shaped (BG 123-AB). Reads are fed in time order.

Ours: `SectionSpeedMatcher` over all reads (default 1 M). Naive: for every read at B, every
read at A of its section is compared (exact, confusion key, one edit, window), the nearest of the
best kind wins: quadratic, so it runs on the first `--naive-reads` reads, and ours runs on that
subset too, so the ratio compares like with like. Each figure is the median of `--repeats` runs.

    .venv/bin/python bench/bench_section_speed.py [--reads 1000000] [--naive-reads 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from safecity.analytics.plates.confusion import CONFUSION_CLASSES, confusion_key, within_one_edit
from safecity.analytics.traffic.section_speed import Section, SectionSpeedMatcher, SpeedMeasurement
from safecity.types import BBox, PlateMatchKind, PlateRead

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
LETTERS = "ABCDEFGHIJKLMNOPRSTUVZ"
_SWAP = {ch: cls[(cls.index(ch) + 1) % len(cls)] for cls in CONFUSION_CLASSES for ch in cls}
_RANK = {PlateMatchKind.EXACT: 0, PlateMatchKind.CONFUSABLE: 1, PlateMatchKind.ONE_EDIT: 2}


def make_sections(n: int, rng: random.Random) -> list[Section]:
    return [
        Section(
            id=f"s{i:02d}",
            camera_a=f"cam-{2 * i:03d}",
            camera_b=f"cam-{2 * i + 1:03d}",
            distance_m=rng.uniform(300, 3000),
            speed_limit_kmh=rng.choice([50.0, 60.0, 80.0, 100.0, 130.0]),
            clock_offset_s=round(rng.uniform(-3, 3), 2),
        )
        for i in range(n)
    ]


def _plate(rng: random.Random) -> str:
    return (
        rng.choice(["BG", "NS", "NI", "KG", "SU"])
        + "".join(rng.choice("0123456789") for _ in range(rng.choice([3, 4])))
        + "".join(rng.choice(LETTERS) for _ in range(2))
    )


def _misread(plate: str, rng: random.Random, one_edit: bool) -> str:
    if one_edit:
        i = rng.randrange(len(plate))
        return plate[:i] + rng.choice("XYW") + plate[i + 1 :]
    spots = [i for i, ch in enumerate(plate) if ch in _SWAP]
    if not spots:
        return plate
    i = rng.choice(spots)
    return plate[:i] + _SWAP[plate[i]] + plate[i + 1 :]


def make_reads(n: int, sections: Sequence[Section], seed: int) -> list[PlateRead]:
    """About `n` reads in time order (one day of traffic over all sections)."""
    rng = random.Random(seed)
    box = BBox(0, 0, 120, 30)
    raw: list[tuple[float, str, str]] = []
    passages = int(n / 1.9)
    day = 86_400.0
    while len(raw) < n:
        for _ in range(passages):
            s = rng.choice(sections)
            plate = _plate(rng)
            t = rng.uniform(0, day)
            raw.append((t, s.camera_a, plate))
            if rng.random() < 0.9:
                speed = max(10.0, rng.gauss(s.speed_limit_kmh * 0.95, s.speed_limit_kmh * 0.12))
                seen = plate
                u = rng.random()
                if u < 0.04:
                    seen = _misread(plate, rng, one_edit=False)
                elif u < 0.05:
                    seen = _misread(plate, rng, one_edit=True)
                raw.append((t + s.distance_m / (speed / 3.6) + s.clock_offset_s, s.camera_b, seen))
        passages = max(1, (n - len(raw)) // 2 + 1)
    raw = raw[:n]
    raw.sort()
    return [
        PlateRead(f"r{i:07d}", cam, T0 + timedelta(seconds=t), box, 0.9, plate, plate)
        for i, (t, cam, plate) in enumerate(raw)
    ]


def run_ours(sections: Sequence[Section], reads: Sequence[PlateRead]) -> tuple[int, float, int]:
    matcher = SectionSpeedMatcher(sections)
    peak = 0
    start = time.perf_counter()
    found = 0
    for i, read in enumerate(reads):
        found += len(matcher.push(read))
        if i % 50_000 == 0:
            peak = max(peak, matcher.pending)
    found += len(matcher.finish())
    return found, time.perf_counter() - start, peak


def _kind(a: str, b: str, min_len: int) -> PlateMatchKind | None:
    if a == b:
        return PlateMatchKind.EXACT
    ka, kb = confusion_key(a), confusion_key(b)
    if ka == kb:
        return PlateMatchKind.CONFUSABLE
    if len(a) >= min_len and within_one_edit(ka, kb):
        return PlateMatchKind.ONE_EDIT
    return None


def run_naive(sections: Sequence[Section], reads: Sequence[PlateRead]) -> tuple[int, float]:
    """All pairs per section: every read at B against every read at A (same rules, no index)."""
    start = time.perf_counter()
    found: list[SpeedMeasurement] = []
    for s in sections:
        at_a = [(r, r.timestamp.timestamp()) for r in reads if r.camera_id == s.camera_a]
        at_b = [(r, r.timestamp.timestamp() - s.clock_offset_s) for r in reads if r.camera_id == s.camera_b]
        at_b.sort(key=lambda rt: rt[1])
        used: set[str] = set()
        lo, hi = s.min_travel_s, s.max_travel_s
        for rb, tb in at_b:
            best: tuple[int, float, PlateRead] | None = None
            for ra, ta in at_a:
                if ra.id in used or not lo <= tb - ta <= hi:
                    continue
                kind = _kind(ra.normalised, rb.normalised, 7)
                if kind is None:
                    continue
                key = (_RANK[kind], -ta, ra)
                if best is None or key[:2] < best[:2]:
                    best = key
            if best is not None:
                ra = best[2]
                used.add(ra.id)
                travel = tb - ra.timestamp.timestamp()
                kind = _kind(ra.normalised, rb.normalised, 7)
                assert kind is not None
                found.append(SpeedMeasurement(s, ra, rb, travel, s.speed_kmh(travel), kind))
    return len(found), time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--naive-reads", type=int, default=20_000)
    parser.add_argument("--sections", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sections = make_sections(args.sections, random.Random(args.seed))
    t = time.perf_counter()
    reads = make_reads(args.reads, sections, args.seed)
    # The subset is the first reads of the day: the same traffic density as the whole stream.
    subset = reads[: args.naive_reads]
    built = time.perf_counter() - t
    print(
        f"{len(reads):,} reads over {len(sections)} sections (subset {len(subset):,}), built in {built:.1f} s"
    )

    rows: list[tuple[str, int, int, float, int]] = []
    for name, data, fn in (
        ("streaming", subset, "ours"),
        ("naive all-pairs", subset, "naive"),
        ("streaming", reads, "ours"),
    ):
        secs: list[float] = []
        found, peak = 0, 0
        for _ in range(args.repeats):
            if fn == "ours":
                found, dt, peak = run_ours(sections, data)
            else:
                found, dt = run_naive(sections, data)
            secs.append(dt)
        rows.append((name, len(data), found, statistics.median(secs), peak))

    print(
        f"\n{'matcher':<16} {'reads':>10} {'measured':>9} {'median s':>9} {'reads/s':>11} {'peak held':>10}"
    )
    for name, n, found, sec, peak in rows:
        held = f"{peak:,}" if name == "streaming" else "all"
        print(f"{name:<16} {n:>10,} {found:>9,} {sec:>9.3f} {n / sec:>11,.0f} {held:>10}")
    ours_small, naive_small = rows[0], rows[1]
    ratio = (ours_small[1] / ours_small[3]) / (naive_small[1] / naive_small[3])
    print(
        f"\nratio on the same {naive_small[1]:,} reads: streaming {ratio:,.2f}x the naive join's reads/s "
        f"(same measurements: {ours_small[2] == naive_small[2]}); medians of {args.repeats} runs, one thread"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
