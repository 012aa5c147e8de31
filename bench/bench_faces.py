"""Faces per second per core, detection + embedding: our analyser vs the naive face_recognition-style loop.

Naive (what `face_recognition.face_encodings(image)` does with its defaults): dlib HOG with one
upsampling, the 68-point shape predictor, and dlib's own ResNet for each face. Ours: the
production `FaceAnalyser` — HOG at the configured upsampling (0: faces >= ~60 px), the 5-point
predictor, the quality gate's measures, and the ONNX rebuild of the same ResNet on each chip and
its mirror image (`faces.flip_average`). Images: LFW photos from ../shared/data/faces when
present (one frontal face each, 250x250 as shipped and padded into 640x480 frames), else the two
sim portraits. Everything runs on one core (dlib is single-threaded; onnxruntime and OpenCV are
set to one thread). Per-image timings are medians over the set; faces/s = faces found / total time.

    .venv/bin/python bench/bench_faces.py [--images 60] [--repeat 3]
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
from numpy.typing import NDArray

from safecity.analytics.faces.analyser import FaceAnalyser
from safecity.analytics.faces.model_files import face_model_files
from safecity.config import FaceSettings
from safecity.eval.faces import letterbox
from safecity.sim.faces import reference_image

SHARED_FACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
Image = NDArray[np.uint8]


def images(count: int) -> tuple[list[Image], str]:
    paths = sorted(SHARED_FACES.glob("*/*.jpg"))[:: max(1, len(list(SHARED_FACES.glob("*/*.jpg"))) // count)]
    if paths:
        loaded = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in paths[:count]]
        source = f"{len(loaded)} LFW photos in 640x480 frames"
    else:
        loaded = [
            cv2.cvtColor(reference_image(n), cv2.COLOR_BGR2RGB) for n in ("grace_hopper", "eileen_collins")
        ]
        source = "2 sim portraits in 640x480 frames (../shared/data absent)"
    return [np.ascontiguousarray(letterbox(np.asarray(i, np.uint8))) for i in loaded], source


class Naive:
    """face_recognition's default path, written out with dlib's own calls."""

    def __init__(self) -> None:
        files = face_model_files()
        self.detector: Any = dlib.get_frontal_face_detector()
        self.shape: Any = dlib.shape_predictor(str(files.shape_68))
        self.net: Any = dlib.face_recognition_model_v1(str(files.resnet))

    def __call__(self, image: Image) -> int:
        faces = 0
        for rect in self.detector(image, 1):
            shape = self.shape(image, rect)
            np.asarray(self.net.compute_face_descriptor(image, shape, 1))
            faces += 1
        return faces


class Ours:
    def __init__(self, cache: Path) -> None:
        self.analyser = FaceAnalyser(FaceSettings(embed_threads=1), cache)

    def __call__(self, image: Image) -> int:
        faces = self.analyser.analyse(image)
        self.analyser.embed(faces)
        return len(faces)


def run(method: Callable[[Image], int], frames: list[Image], repeat: int) -> tuple[float, float, int]:
    """(median ms per frame, faces per second, faces found) over `repeat` passes; median pass."""
    passes = []
    for _ in range(repeat):
        per_frame, found = [], 0
        start = time.perf_counter()
        for frame in frames:
            t = time.perf_counter()
            found += method(frame)
            per_frame.append((time.perf_counter() - t) * 1000)
        total = time.perf_counter() - start
        passes.append((statistics.median(per_frame), found / total if total else 0.0, found))
    return sorted(passes, key=lambda p: p[1])[len(passes) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--images", type=int, default=60, help="LFW photos to use when ../shared/data is there"
    )
    parser.add_argument("--repeat", type=int, default=3, help="passes over the images; the median is shown")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    frames, source = images(args.images)
    with tempfile.TemporaryDirectory() as cache:
        ours = Ours(Path(cache))
        naive = Naive()
        ours(frames[0])  # warm-up: ONNX session, first allocation
        naive(frames[0])
        rows = [("naive", *run(naive, frames, args.repeat)), ("ours", *run(ours, frames, args.repeat))]
    print(f"{source}; one core; median of {args.repeat} passes")
    print(f"{'method':<8} {'ms/frame (median)':>18} {'faces/s':>9} {'faces found':>12}")
    for name, ms, rate, found in rows:
        print(f"{name:<8} {ms:>18.1f} {rate:>9.2f} {found:>12}")
    print(f"ratio (ours / naive faces per second): {rows[1][2] / rows[0][2]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
