"""Face recall by face size and ms per call: upsample 0 (naive), upsample 1, and the small-face region path.

CCTV faces are often 30-60 px wide; HOG at upsample 0 finds faces from ~60-70 px. Methods, all
dlib HOG through `FaceDetector` with the default score threshold:

* `upsample 0 frame` (naive baseline): the whole frame at 1x.
* `upsample 1 frame`: the whole frame doubled (4x the pixels).
* `regions 1x`: the moving regions at 1x (the video path with `faces.small_face_upsample` off).
* `regions small (new)`: the video path as configured: narrow regions (`small_region_max_width`)
  enlarged by `small_region_scale`, wide ones at 1x.

Data (../shared/data; the bench says so and stops when it is absent):

* `face_detection`: 4 group photos, 18 labelled faces. Stills have no motion, so each labelled face
  gets the region a moving person would give (3 face widths wide, 3.5 face heights tall, clipped).
* `hamilton xS`: face_recognition_short_hamilton_clip.mp4 scaled by S (0.5: the same faces at
  20-50 px, as a distant CCTV camera would see them). Regions come from the real `MotionGate` fed
  every frame; only frames with motion are analysed, as in the pipeline. No ground truth: the
  reference is `--reference` (HOG upsample 1, or the CNN at upsample 1) on the full-size frame,
  boxes scaled by S, so it does not depend on the scaled image.
* `walking gif`: intel face-demographics-walking preview (480x270), faces 19-33 px; its HOG
  reference is upsample 2 (upsample 1 finds none of them), every frame with motion.

A reference face counts as found when a detection overlaps it with IoU >= 0.3 or contains its
centre (dlib boxes are tight), one detection per face. `gate` is how many of the faces the region
path found pass the quality gate (eye distance, sharpness, yaw), by detected box width. One core.

    .venv/bin/python bench/bench_face_sizes.py [--every 2] [--reference hog|cnn] [--scales 1,0.5]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageSequence

from safecity.analytics.faces.alignment import FaceAligner
from safecity.analytics.faces.detector import FaceDetector, iou
from safecity.analytics.faces.quality import assess
from safecity.analytics.motion import MotionGate
from safecity.config import FaceSettings, MotionSettings
from safecity.types import BBox, Frame

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BINS = ((0, 40, "<40"), (40, 60, "40-60"), (60, 90, "60-90"), (90, 10**6, ">=90"))
MATCH_IOU = 0.3
Image_ = NDArray[np.uint8]


@dataclass(frozen=True)
class Item:
    """One analysed image: RGB pixels, the moving regions, the reference face boxes."""

    image: Image_
    regions: tuple[BBox, ...]
    reference: tuple[BBox, ...]


@dataclass(frozen=True)
class Result:
    found: dict[str, int]
    total: dict[str, int]
    ms_per_call: float
    detections: int


def size_bin(width: int) -> str:
    return next(name for low, high, name in BINS if low <= width < high)


def matched(reference: Sequence[BBox], detections: Sequence[BBox]) -> list[bool]:
    """Greedy one-to-one matching, best overlap first."""
    free = list(detections)
    out = []
    for ref in reference:
        cx, cy = ref.x + ref.w / 2, ref.y + ref.h / 2
        hits = [
            d for d in free if iou(ref, d) >= MATCH_IOU or (d.x <= cx <= d.x + d.w and d.y <= cy <= d.y + d.h)
        ]
        if hits:
            free.remove(max(hits, key=lambda d: iou(ref, d)))
        out.append(bool(hits))
    return out


def measure(method: Callable[[Item], list[BBox]], items: Sequence[Item]) -> Result:
    found = {name: 0 for _, _, name in BINS}
    total = dict(found)
    elapsed, detections = 0.0, 0
    for item in items:
        start = time.perf_counter()
        boxes = method(item)
        elapsed += time.perf_counter() - start
        detections += len(boxes)
        for ref, hit in zip(item.reference, matched(item.reference, boxes), strict=True):
            total[size_bin(ref.w)] += 1
            found[size_bin(ref.w)] += hit
    return Result(found, total, 1000 * elapsed / max(1, len(items)), detections)


def scaled(box: BBox, s: float) -> BBox:
    return BBox(round(box.x * s), round(box.y * s), max(1, round(box.w * s)), max(1, round(box.h * s)))


def stills() -> list[Item]:
    root = SHARED / "face_detection"
    labels: dict[str, list[BBox]] = {}
    with (root / "labels.csv").open() as f:
        for row in csv.DictReader(f):
            labels.setdefault(row["file"], []).append(BBox(*(int(row[k]) for k in "xywh")))
    items = []
    for name, boxes in labels.items():
        loaded = cv2.imread(str(root / name))
        if loaded is None:
            raise ValueError(f"{root / name}: not a readable image")
        image = np.ascontiguousarray(cv2.cvtColor(loaded, cv2.COLOR_BGR2RGB), np.uint8)
        height, width = image.shape[:2]
        regions = []
        for b in boxes:  # the blob of a person whose face this is
            x0, y0 = max(0, round(b.x + b.w / 2 - 1.5 * b.w)), max(0, round(b.y - 0.5 * b.h))
            x1, y1 = min(width, round(b.x + b.w / 2 + 1.5 * b.w)), min(height, round(b.y + 3 * b.h))
            regions.append(BBox(x0, y0, x1 - x0, y1 - y0))
        items.append(Item(image, tuple(regions), tuple(boxes)))
    return items


def video_frames(path: Path) -> list[Image_]:
    if path.suffix == ".gif":
        with Image.open(path) as gif:
            return [np.ascontiguousarray(np.asarray(f.convert("RGB"))) for f in ImageSequence.Iterator(gif)]
    with av.open(str(path)) as container:
        return [np.ascontiguousarray(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def video_items(
    frames: Sequence[Image_], scale: float, every: int, reference: Callable[[Image_], list[BBox]]
) -> list[Item]:
    """Frames with motion (every `every`-th of them), with the motion gate's blobs and reference faces."""
    gate = MotionGate(MotionSettings())
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    items, moving = [], 0
    for i, full in enumerate(frames):
        image = full
        if scale != 1.0:
            size = (round(full.shape[1] * scale), round(full.shape[0] * scale))
            image = np.ascontiguousarray(cv2.resize(full, size, interpolation=cv2.INTER_AREA))
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        result = gate.detect(Frame("bench", i, i / 30, t0 + timedelta(seconds=i / 30), bgr))
        if not result.moving:
            continue
        moving += 1
        if (moving - 1) % every:
            continue
        ref = tuple(scaled(b, scale) for b in reference(full))
        items.append(Item(image, result.blobs, ref))
    return items


def gate_line(detector: FaceDetector, aligner: FaceAligner, items: Sequence[Item]) -> str:
    passed = {name: 0 for _, _, name in BINS}
    found = dict(passed)
    for item in items:
        for d in detector.detect_regions(item.image, item.regions):
            aligned = aligner.align(item.image, d.bbox)
            found[size_bin(d.bbox.w)] += 1
            passed[size_bin(d.bbox.w)] += assess(aligned.landmarks, aligned.chip, detector.settings).passed
    cells = " ".join(f"{passed[n]:>3}/{found[n]:<3}" for _, _, n in BINS)
    return f"  gate (faces the region path found, passed/found by box width): {cells}"


def report(
    title: str, items: Sequence[Item], methods: dict[str, Callable[[Item], list[BBox]]], gate: str
) -> None:
    refs = sum(len(i.reference) for i in items)
    print(f"\n{title}: {len(items)} frames, {refs} reference faces")
    header = " ".join(f"{n:>9}" for _, _, n in BINS)
    print(f"  {'method':<19} {header} {'all':>9} {'x naive':>8} {'ms/call':>8} {'x naive':>8}")
    results = {name: measure(fn, items) for name, fn in methods.items()}
    base = next(iter(results.values()))
    base_found = sum(base.found.values())
    for name, r in results.items():
        cells = " ".join(f"{r.found[n]:>4}/{r.total[n]:<4}" for _, _, n in BINS)
        found = sum(r.found.values())
        recall_ratio = f"{found / base_found:.2f}" if base_found else "-"
        ms_ratio = r.ms_per_call / base.ms_per_call if base.ms_per_call else float("nan")
        ratios = f"{recall_ratio:>8} {r.ms_per_call:>8.1f} {ms_ratio:>7.2f}x"
        print(f"  {name:<19} {cells} {found:>4}/{refs:<4} {ratios}")
    print(gate)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--every", type=int, default=2, help="analyse every N-th frame with motion (default 2)"
    )
    parser.add_argument(
        "--reference",
        choices=("hog", "cnn"),
        default="hog",
        help="video reference: HOG upsample 1 (default) or the CNN at upsample 1 (~3.6 s/frame)",
    )
    parser.add_argument("--scales", default="1,0.5", help="scales of the hamilton clip (default 1,0.5)")
    parser.add_argument("--max-width", type=int, default=None, help="override faces.small_region_max_width")
    parser.add_argument("--scale", type=float, default=None, help="override faces.small_region_scale")
    args = parser.parse_args()
    if not (SHARED / "face_detection" / "labels.csv").is_file():
        print(f"skipped: shared data not found at {SHARED}")
        return 0
    cv2.setNumThreads(1)
    overrides: dict[str, object] = {}
    if args.max_width is not None:
        overrides["small_region_max_width"] = args.max_width
    if args.scale is not None:
        overrides["small_region_scale"] = args.scale
    ours = FaceDetector(FaceSettings.model_validate(overrides))
    at_1x = FaceDetector(FaceSettings(small_face_upsample=False))
    naive = FaceDetector(FaceSettings(upsample=0))
    doubled = FaceDetector(FaceSettings(upsample=1))
    methods: dict[str, Callable[[Item], list[BBox]]] = {
        "upsample 0 frame": lambda i: [d.bbox for d in naive.detect(i.image)],
        "upsample 1 frame": lambda i: [d.bbox for d in doubled.detect(i.image)],
        "regions 1x": lambda i: [d.bbox for d in at_1x.detect_regions(i.image, i.regions)],
        "regions small (new)": lambda i: [d.bbox for d in ours.detect_regions(i.image, i.regions)],
    }
    s = ours.settings
    print(
        f"small_region_max_width={s.small_region_max_width} small_region_scale={s.small_region_scale:g}; "
        f"one core; ratios against the naive baseline (upsample 0 on the whole frame)"
    )
    aligner = FaceAligner()
    items = stills()
    report(
        "face_detection (labelled faces; regions: a person-sized box per face)",
        items,
        methods,
        gate_line(ours, aligner, items),
    )
    ref_detector = (
        FaceDetector(FaceSettings(detector="cnn", upsample=1)) if args.reference == "cnn" else doubled
    )

    def reference(image: Image_) -> list[BBox]:
        return [d.bbox for d in ref_detector.detect(image)]

    ref_name = "CNN upsample 1" if args.reference == "cnn" else "HOG upsample 1"
    hamilton = video_frames(SHARED / "video" / "face_recognition_short_hamilton_clip.mp4")
    for scale in (float(v) for v in args.scales.split(",")):
        items = video_items(hamilton, scale, args.every, reference)
        title = (
            f"hamilton x{scale:g} (640x360 scaled; motion-gate regions; reference {ref_name} at full size)"
        )
        report(title, items, methods, gate_line(ours, aligner, items))
    # The walking clip's faces (19-33 px) are below what upsample 1 finds: its HOG reference is upsample 2.
    if args.reference == "hog":
        ref_detector, ref_name = FaceDetector(FaceSettings(upsample=2)), "HOG upsample 2"
    gif = video_frames(SHARED / "video" / "intel_face-demographics-walking_preview.gif")
    items = video_items(gif, 1.0, 1, reference)
    report(f"walking gif (480x270; reference {ref_name})", items, methods, gate_line(ours, aligner, items))
    return 0


if __name__ == "__main__":
    sys.exit(main())
