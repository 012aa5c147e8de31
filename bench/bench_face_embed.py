"""Face embedding on one core: dlib's own ResNet code vs the ONNX rebuild of the same weights.

Both embed aligned 150x150 chips (dlib.get_face_chip on a 5-point shape) into dlib's 128-D
vectors. "dlib" is `face_recognition_model_v1.compute_face_descriptor` from the dlib-bin wheel
(its CPU code is single-threaded); "onnx" is `OnnxEmbedder` on onnxruntime with one intra-op
thread. Per-face figures are for one chip per call unless `--batch` says otherwise. Wall time
is what a caller waits; CPU time (the calling thread's) is what the work costs, and stays
honest when other processes share the machine. Also reported: agreement with dlib (cosine
distance and largest element difference), the cold build of the ONNX model from the .dat
(parse + graph + write) and the warm start (hash the .dat, find the cached model, open a
session).

    .venv/bin/python bench/bench_face_embed.py [--runs 60] [--batch 1] [--lfw 16]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import dlib
import numpy as np
import skimage.data
from numpy.typing import NDArray

from safecity.analytics.faces.embedding import (
    CHIP_PADDING,
    CHIP_SIZE,
    DlibEmbedder,
    FaceEmbedder,
    OnnxEmbedder,
)
from safecity.analytics.faces.model_files import face_model_files
from safecity.analytics.faces.onnx_net import cached_onnx_model
from safecity.sim.faces import reference_image

LFW_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"

Chips = NDArray[np.uint8]
_astronaut: Callable[[], NDArray[np.uint8]] = skimage.data.astronaut


def face_chips(lfw: int) -> tuple[Chips, str]:
    detector = dlib.get_frontal_face_detector()
    shape_5 = dlib.shape_predictor(str(face_model_files().shape_5))

    def chip(rgb: NDArray[Any]) -> Chips | None:
        rgb = np.ascontiguousarray(rgb)
        boxes = sorted(detector(rgb, 0), key=lambda box: box.area(), reverse=True)
        if not boxes:
            return None
        return np.asarray(
            dlib.get_face_chip(rgb, shape_5(rgb, boxes[0]), size=CHIP_SIZE, padding=CHIP_PADDING)
        )

    images = [_astronaut(), cv2.cvtColor(reference_image("grace_hopper"), cv2.COLOR_BGR2RGB)]
    found = [c for c in (chip(image) for image in images) if c is not None]
    found += [np.ascontiguousarray(c[:, ::-1]) for c in found]
    source = "astronaut + grace_hopper (+ mirrored)"
    if lfw and LFW_DIR.is_dir():
        added = 0
        for photo in sorted(LFW_DIR.glob("*/*.jpg")):
            bgr = cv2.imread(str(photo), cv2.IMREAD_COLOR)
            c = None if bgr is None else chip(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if c is not None:
                found.append(c)
                added += 1
            if added == lfw:
                break
        source += f" + {added} LFW photos"
    return np.stack(found), source


def timed(embedder: FaceEmbedder, chips: Chips, runs: int, batch: int) -> tuple[list[float], list[float]]:
    """Per-face wall and CPU milliseconds of `runs` calls, each on `batch` chips cycled from `chips`."""
    embedder.embed(chips[:batch])  # first call allocates: not what a running service sees
    wall: list[float] = []
    cpu: list[float] = []
    for i in range(runs):
        index = np.arange(i * batch, (i + 1) * batch) % len(chips)
        batch_chips = np.ascontiguousarray(chips[index])
        t_wall, t_cpu = time.perf_counter(), time.thread_time()
        embedder.embed(batch_chips)
        cpu.append((time.thread_time() - t_cpu) * 1000 / batch)
        wall.append((time.perf_counter() - t_wall) * 1000 / batch)
    return wall, cpu


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="timed calls per backend (>= 50)")
    parser.add_argument("--batch", type=int, default=1, help="chips per call")
    parser.add_argument("--lfw", type=int, default=16, help="LFW photos to add when ../shared/data is there")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    resnet = face_model_files().resnet
    chips, source = face_chips(args.lfw)

    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        model = cached_onnx_model(resnet, cache)
        build_s = time.perf_counter() - t
        t = time.perf_counter()
        onnx = OnnxEmbedder(cached_onnx_model(resnet, cache), threads=1)
        warm_s = time.perf_counter() - t
        model_mb = model.stat().st_size / 1e6

        t = time.perf_counter()
        reference = DlibEmbedder(resnet)
        dlib_load_s = time.perf_counter() - t

        ref = reference.embed(chips)
        ours = onnx.embed(chips)
        cosine = 1 - np.sum(ours * ref, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1))

        rows = [
            (name, *timed(e, chips, args.runs, args.batch))
            for name, e in (("dlib", reference), ("onnx", onnx))
        ]

    print(f"{len(chips)} chips: {source}; {args.runs} calls of {args.batch} chip(s) per backend, one thread")
    print(f"{'backend':<8} {'wall median':>12} {'wall p95':>9} {'cpu median':>11} {'cpu p95':>8}   ms/face")
    for name, wall, cpu in rows:
        print(
            f"{name:<8} {statistics.median(wall):>12.2f} {p95(wall):>9.2f} "
            f"{statistics.median(cpu):>11.2f} {p95(cpu):>8.2f}"
        )
    (_, dlib_wall, dlib_cpu), (_, onnx_wall, onnx_cpu) = rows
    print(
        f"{'ratio':<8} {statistics.median(dlib_wall) / statistics.median(onnx_wall):>11.1f}x "
        f"{'':>9} {statistics.median(dlib_cpu) / statistics.median(onnx_cpu):>10.1f}x"
    )
    print(
        f"agreement: max cosine distance {cosine.max():.2e}, max |difference| {np.abs(ours - ref).max():.2e}"
    )
    print(f"onnx cold build (parse .dat, build graph, write {model_mb:.1f} MB): {build_s:.2f} s")
    print(
        f"onnx warm start (hash .dat, cached model, session): {warm_s:.2f} s; "
        f"dlib model load: {dlib_load_s:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
