"""Virtual-loop counting cost per frame: the streaming loop counter against a naive whole-history one.

Data (seeded): foreground masks of a 1280×720 camera with one counting line across a four-lane
road (1,200 px); vehicles (60-110 px wide, 50-90 px long) drive down each lane at that lane's
speed (2-5 px per frame, as on a 25-fps view where the loop's two lines, 6 px apart, are reached
on different frames) with gaps of 20-200 px, so on most frames some streak is open. The counter samples
the two loop lines, labels the rows it holds and counts the streaks that ended.

Ours: `LoopCounter` (rows kept from the oldest open streak; counted streaks leave them). Naive:
keep every row since the start and label the whole history on every frame, counting components
whose key was not seen before: the obvious way to stream connected components, and quadratic in
the stream's length. Both must count the same vehicles. Each figure is the median of
`--repeats` runs; masks are made before timing.

    .venv/bin/python bench/bench_loops.py [--frames 750] [--repeats 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from safecity.analytics.traffic.lines import CountingLine
from safecity.analytics.traffic.loops import LoopCounter
from safecity.config import CountingSettings

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
FPS = 25.0
W, H = 1280, 720
LINE = CountingLine("road", (40.0, 400.0), (1240.0, 400.0), "south", "north")
LANES = (80, 380, 680, 980)


def make_masks(frames: int, seed: int) -> tuple[list[np.ndarray], int]:
    """Foreground masks and how many vehicles cross the line while the clip lasts."""
    rng = random.Random(seed)
    vehicles: list[tuple[int, int, int, float, float]] = []  # x, w, length, y at frame 0, speed
    for x in LANES:
        y, v = 300.0, rng.uniform(2, 5)
        while y > -frames * 5:
            w, length = rng.randint(60, 110), rng.randint(50, 90)
            vehicles.append((x + rng.randint(0, 80), w, length, y, v))
            y -= length + rng.uniform(20, 200)
    masks = []
    for i in range(frames):
        mask = np.zeros((H, W), np.uint8)
        for x, w, length, y0, v in vehicles:
            y = y0 + v * i
            if -length < y < H:
                mask[max(0, int(y)) : max(0, int(y + length)), x : x + w] = 255
        masks.append(mask)
    crossing = sum(
        1 for _, _, length, y0, v in vehicles if y0 + length / 2 < 400 <= y0 + length / 2 + v * frames
    )
    return masks, crossing


class NaiveLoop:
    """Keeps every row; labels the whole history on every frame; remembers what it counted."""

    def __init__(self, counter: LoopCounter) -> None:
        self.template = counter
        self.rows: list[np.ndarray] = []
        self.seen: set[tuple[int, int]] = set()
        self.count = 0

    def add(self, mask: np.ndarray, sample: LoopCounter) -> None:
        loop = sample._loops[0] if sample._loops else None  # same sampling geometry as ours
        assert loop is not None
        ys, xs = loop.left
        ys2, xs2 = loop.right
        self.rows.append((mask[ys, xs] > 0) | (mask[ys2, xs2] > 0))
        image = cv2.morphologyEx(
            np.stack(self.rows).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)
        )
        n, _, stats, _ = cv2.connectedComponentsWithStats(image, connectivity=8)
        last = len(self.rows) - 1
        for i in range(1, n):
            u0, r0, _, h, area = (int(v) for v in stats[i])
            if r0 + h - 1 <= last - 3 and area >= 20 and (r0, u0) not in self.seen:
                self.seen.add((r0, u0))
                self.count += 1


def run_ours(masks: list[np.ndarray]) -> tuple[float, int]:
    counter = LoopCounter("cam", [LINE], CountingSettings())
    t = time.perf_counter()
    n = 0
    for i, m in enumerate(masks):
        n += len(counter.add(T0 + timedelta(seconds=i / FPS), m))
    n += len(counter.finish())
    return time.perf_counter() - t, n


def run_naive(masks: list[np.ndarray]) -> tuple[float, int]:
    sample = LoopCounter("cam", [LINE], CountingSettings())
    sample.add(T0, masks[0])  # builds the sampling geometry
    naive = NaiveLoop(sample)
    t = time.perf_counter()
    for m in masks:
        naive.add(m, sample)
    return time.perf_counter() - t, naive.count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=750)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    masks, truth = make_masks(args.frames, seed=7)
    ours = [run_ours(masks) for _ in range(args.repeats)]
    naive = [run_naive(masks) for _ in range(args.repeats)]
    t_ours = statistics.median(t for t, _ in ours)
    t_naive = statistics.median(t for t, _ in naive)
    print(f"{args.frames} frames of {W}x{H}, line {LINE.length:.0f} px, 4 lanes, {truth} vehicles cross")
    print(f"{'counter':<28}{'counted':>9}{'ms/frame':>11}{'frames/s':>11}")
    for name, t, n in (
        ("loops (streaming)", t_ours, ours[0][1]),
        ("naive (whole history)", t_naive, naive[0][1]),
    ):
        print(f"{name:<28}{n:>9}{1000 * t / args.frames:>11.3f}{args.frames / t:>11.0f}")
    print(f"speed-up: {t_naive / t_ours:.1f}x (medians of {args.repeats})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
