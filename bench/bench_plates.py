"""Plate reads per second per core: `PlateReader` vs the naive baseline (rapidocr on the whole frame).

Two image sets, both read whole, one thread everywhere (onnxruntime intra/inter-op 1, OpenCV 1):

* sim: 1280x720 frames decoded from a `render_city` clip (H.264, as a camera delivers them) that
  show at least one plate `--min-plate-px` wide or more; accuracy = share of those plates read.
* eu: the images of ../shared/data/plates/eu (skipped when absent); accuracy = best read equals
  the label with O and 0 taken as equal.

Baselines, models from the same rapidocr wheel, given by explicit paths (nothing downloaded):
"rapidocr default" is `RapidOCR()` as shipped (angle classifier on, detection input >= 736 px on
the short side); "rapidocr tuned" turns the classifier off and caps the detection input at 960 px.
A frame's reads/s is 1 / (median seconds per frame); the ratio is ours over the baseline.

    .venv/bin/python bench/bench_plates.py [--frames 20] [--eu-images 20] [--seconds 12]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import av
import cv2
import numpy as np

from safecity.analytics.plates.formats import interpret, normalise_plate
from safecity.analytics.plates.ocr import model_dir
from safecity.analytics.plates.reader import PlateReader
from safecity.config import PlateSettings, SimSettings
from safecity.sim import render_city

EU_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "plates" / "eu"

Reader = Callable[[np.ndarray], list[str]]
"""Reads one image: plate strings, best first, normalised (upper case, alphanumerics only)."""


@dataclass(frozen=True)
class Sample:
    image: np.ndarray
    plates: tuple[str, ...]
    """Plates that should be read (normalised); for eu the one label."""


def _plain(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def ours(settings: PlateSettings) -> Reader:
    reader = PlateReader(settings)
    return lambda image: [_plain(c.normalised) for c in reader.read(image)]


def naive(tuned: bool) -> Reader:
    from rapidocr import RapidOCR

    models = model_dir()
    params: dict[str, Any] = {
        "Global.log_level": "error",
        "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
        "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
        "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
        "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    if tuned:
        params |= {"Global.use_cls": False, "Det.limit_type": "max", "Det.limit_side_len": 960}
    engine = RapidOCR(params=params)

    def read(image: np.ndarray) -> list[str]:
        result = engine(image)
        txts = getattr(result, "txts", None) or ()
        scores = getattr(result, "scores", None) or ()
        ranked = sorted(zip(txts, scores, strict=False), key=lambda ts: -ts[1])
        return [_plain(interpret(t).normalised) for t, _ in ranked]

    return read


def sim_samples(frames: int, seconds: float, min_plate_px: int, out: Path) -> list[Sample]:
    settings = SimSettings(cameras=1, seconds=seconds)
    city = render_city(out, settings, workers=1)
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


def eu_samples(limit: int) -> list[Sample]:
    if not EU_DIR.is_dir():
        return []
    with (EU_DIR / "labels.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    out = []
    for row in rows:
        image = cv2.imread(str(EU_DIR / row["file"]))
        if image is not None:
            out.append(Sample(np.asarray(image), (row["plate_text"],)))
    return out


def run(reader: Reader, samples: Sequence[Sample], *, best_only: bool) -> tuple[float, float]:
    """(median seconds per image, accuracy)."""
    times: list[float] = []
    hits = total = 0
    for s in samples:
        start = time.perf_counter()
        reads = reader(s.image)
        times.append(time.perf_counter() - start)
        o0 = [r.replace("O", "0") for r in reads]
        for plate in s.plates:
            total += 1
            target = plate.replace("O", "0")
            hits += (o0[:1] == [target]) if best_only else (target in o0)
    return statistics.median(times), hits / max(total, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--frames", type=int, default=20, help="sim 720p frames with a readable plate")
    parser.add_argument("--seconds", type=float, default=12.0, help="length of the rendered sim clip")
    parser.add_argument(
        "--min-plate-px", type=int, default=60, help="plates narrower than this are not counted"
    )
    parser.add_argument("--eu-images", type=int, default=20, help="eu images read (0 to skip)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    settings = PlateSettings(ocr_threads=1)
    with tempfile.TemporaryDirectory() as d:
        sets = [("sim 1280x720", sim_samples(args.frames, args.seconds, args.min_plate_px, Path(d)), False)]
    eu = eu_samples(args.eu_images)
    if eu:
        sets.append((f"eu ({EU_DIR.name}, best read)", eu, True))
    else:
        print(f"eu set skipped: {EU_DIR} not present", file=sys.stderr)
    readers = [
        ("safecity PlateReader", ours(settings)),
        ("rapidocr default", naive(tuned=False)),
        ("rapidocr tuned", naive(tuned=True)),
    ]
    print("one core (onnxruntime 1 thread, OpenCV 1 thread); median per image; accuracy O=0")
    header = f"{'set':<28} {'reader':<22} {'n':>3} {'ms':>7} {'reads/s':>8} {'vs naive':>9} {'accuracy':>9}"
    print(header)
    print("-" * len(header))
    for name, samples, best_only in sets:
        results = [(label, *run(reader, samples, best_only=best_only)) for label, reader in readers]
        naive_s = results[1][1]
        for label, seconds, accuracy in results:
            print(
                f"{name:<28} {label:<22} {len(samples):>3} {seconds * 1000:>7.0f} {1 / seconds:>8.2f} "
                f"{naive_s / seconds:>8.1f}x {accuracy:>9.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
