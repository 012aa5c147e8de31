"""Plate reading per core: `PlateReader` ("ours") vs the naive baseline, as a ratio, on every set at hand.

Sets, every image read whole, one thread everywhere (onnxruntime intra/inter-op 1, OpenCV 1):

* sim 1280x720: frames decoded from a `render_city` clip (H.264, as a camera delivers them) that
  show at least one plate `--min-plate-px` wide or more; accuracy = share of those plates that
  are among the reader's reads (a frame may show several), O and 0 taken as one character.
* each shared set present under ../shared/data/plates (eu, hr, us, us_crops; absent ones are
  skipped): scored by `safecity.eval.plates.evaluate_sets`, the code of `safecity eval plates
  --baseline`, so accuracy = the best read equals the label with O = 0 (exact O=0).

The naive reader is `safecity.eval.naive_plates.NaivePlateReader` (plain rapidocr on the whole
image, no angle classifier, detection input capped at 960 px, models from the installed wheel by
explicit path: nothing downloaded). Times are medians per image; the speed ratio is naive ms /
ours ms (above 1: ours is faster), the accuracy ratio ours / naive.

    .venv/bin/python bench/bench_plates.py [--frames 20] [--seconds 12] [--images 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import av
import cv2
import numpy as np

from safecity.analytics.plates.formats import normalise_plate
from safecity.config import PlateSettings, SimSettings
from safecity.eval.plates import ImageReader, evaluate_sets, load_plate_set, naive_reader, ours_reader
from safecity.sim import PLATE_COUNTRIES as SIM_PLATE_COUNTRIES
from safecity.sim import render_city

SHARED_PLATES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "plates"
SHARED_SETS = ("eu", "hr", "us", "us_crops")


@dataclass(frozen=True)
class Sample:
    image: np.ndarray
    plates: tuple[str, ...]
    """Plates that should be read, normalised (`normalise_plate`)."""


@dataclass(frozen=True)
class Line:
    name: str
    n: int
    ours_accuracy: float
    naive_accuracy: float
    ours_ms: float
    naive_ms: float


def sim_samples(frames: int, seconds: float, min_plate_px: int, out: Path) -> list[Sample]:
    city = render_city(out, SimSettings(cameras=1, seconds=seconds), workers=1)
    wanted: dict[int, set[str]] = {}
    for p in city.truth().plates:
        if p.box.w >= min_plate_px:
            wanted.setdefault(p.frame, set()).add(normalise_plate(p.plate))
    picks = sorted(wanted)
    if len(picks) > frames:
        picks = (
            [picks[round(i * (len(picks) - 1) / (frames - 1))] for i in range(frames)]
            if frames > 1
            else picks[:1]
        )
    chosen = set(picks)
    samples: list[Sample] = []
    with av.open(str(next(iter(city.clips.values())))) as container:
        for index, vf in enumerate(container.decode(video=0)):
            if index in chosen:
                samples.append(Sample(vf.to_ndarray(format="bgr24"), tuple(sorted(wanted[index]))))
    return samples


def run_sim(reader: ImageReader, samples: Sequence[Sample]) -> tuple[float, float]:
    """(median ms per frame, share of wanted plates among the reads, O = 0)."""
    times: list[float] = []
    hits = total = 0
    for s in samples:
        start = time.perf_counter()
        reads = reader(s.image)
        times.append((time.perf_counter() - start) * 1000.0)
        got = {normalise_plate(r.text).replace("O", "0") for r in reads}
        total += len(s.plates)
        hits += sum(p.replace("O", "0") in got for p in s.plates)
    return statistics.median(times), hits / max(total, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--frames", type=int, default=20, help="sim 720p frames with a readable plate (0 skips)"
    )
    parser.add_argument("--seconds", type=float, default=12.0, help="length of the rendered sim clip")
    parser.add_argument(
        "--min-plate-px", type=int, default=60, help="plates narrower than this are not counted"
    )
    parser.add_argument("--images", type=int, default=0, help="first N images of each shared set (0: all)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    ours = ours_reader(PlateSettings(ocr_threads=1))
    naive = naive_reader(threads=1)
    lines: list[Line] = []
    if args.frames > 0:
        with tempfile.TemporaryDirectory() as d:
            samples = sim_samples(args.frames, args.seconds, args.min_plate_px, Path(d))
        # The sim city's plate cameras expect Serbian plates, as its register says.
        sim_ours = ours_reader(PlateSettings(ocr_threads=1, countries=list(SIM_PLATE_COUNTRIES)))
        ours_ms, ours_acc = run_sim(sim_ours, samples)
        naive_ms, naive_acc = run_sim(naive, samples)
        lines.append(Line("sim 1280x720", len(samples), ours_acc, naive_acc, ours_ms, naive_ms))
    sets = []
    for name in SHARED_SETS:
        if not (SHARED_PLATES / name).is_dir():
            print(f"{name} skipped: {SHARED_PLATES / name} not present", file=sys.stderr)
            continue
        plate_set = load_plate_set(SHARED_PLATES / name)
        if args.images > 0:
            plate_set = replace(plate_set, labels=plate_set.labels[: args.images])
        sets.append(plate_set)
    for result in evaluate_sets(sets, ours, naive):
        base = result.baseline
        assert base is not None  # evaluate_sets was given the naive reader
        o = result.ours
        lines.append(Line(o.name, o.n, o.exact_o0, base.exact_o0, o.ms_median, base.ms_median))
    print("one core (onnxruntime 1 thread, OpenCV 1 thread); median ms per image; accuracy exact O=0")
    header = (
        f"{'set':<14} {'n':>4} {'ours O=0':>9} {'naive O=0':>10} {'ours ms':>8} {'naive ms':>9} "
        f"{'speed ours/naive':>17} {'accuracy ours/naive':>20}"
    )
    print(header)
    print("-" * len(header))
    for x in lines:
        speed = x.naive_ms / x.ours_ms if x.ours_ms else float("nan")
        accuracy = x.ours_accuracy / x.naive_accuracy if x.naive_accuracy else float("nan")
        print(
            f"{x.name:<14} {x.n:>4} {x.ours_accuracy:>9.3f} {x.naive_accuracy:>10.3f} {x.ours_ms:>8.0f} "
            f"{x.naive_ms:>9.0f} {speed:>16.2f}x {accuracy:>19.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
