"""Quality-aware passage embeddings: does weighting a passage's faces by quality find more listed people?

A passage in video holds faces of one person at several sizes, sharpness and poses. The pipeline
embeds the best few that pass the quality gate and combines them into one probe. Compared here,
on the same faces in the same run:

* `best face`: only the highest-quality face of the passage (naive baseline).
* `mean`: the plain mean of the embedded faces (the pipeline before this change).
* `quality-weighted`: the mean weighted by each face's quality score (size x sharpness x pose,
  `safecity.analytics.faces.quality`), `faces.passage_weighting = "quality"`.

Data: `../shared/data/faces` (LFW subset; the bench stops when it is absent). People with two or
more photos are listed (their first photo enrolled, as `safecity watchlist add` would); every other
photo is a probe, and people with one photo are strangers. Each probe photo becomes a simulated
passage of video frames: the photo itself, the photo at half and at a third of its size (a person
further away: eye distance 12-20 px, found by the small-face region path), and the photo blurred
(Gaussian sigma 2: motion or focus). Each frame goes through the real detector, aligner, quality
gate and embedder (`FaceAnalyser`); frames whose face fails the gate are not embedded, as in the
pipeline. The decision threshold for each method is the one that lets 1 % (and 0.5 %) of the
strangers' passages alert in this run, so the methods are compared at the same false-alert rate.

    .venv/bin/python bench/bench_face_passages.py [--limit N] [--scales 1,0.5,0.33] [--blur 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from safecity.analytics.faces.analyser import AnalysedFace, FaceAnalyser
from safecity.analytics.faces.passages import passage_embedding
from safecity.config import FaceSettings
from safecity.eval.faces import load_face_set
from safecity.types import BBox

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FPIRS = (0.005, 0.01, 0.05)
Vector = NDArray[np.float32]


@dataclass(frozen=True)
class Passage:
    person: str | None
    """The listed person the passage shows; None for a stranger."""
    faces: tuple[tuple[float, Vector], ...]
    """(quality score, embedding) of each frame whose face passed the gate."""


def frames_of(photo: NDArray[np.uint8], scales: list[float], blur: float) -> list[NDArray[np.uint8]]:
    frames = []
    for s in scales:
        if s == 1.0:
            frames.append(photo)
        else:
            size = (max(1, round(photo.shape[1] * s)), max(1, round(photo.shape[0] * s)))
            frames.append(np.asarray(cv2.resize(photo, size, interpolation=cv2.INTER_AREA), np.uint8))
    if blur > 0:
        frames.append(np.asarray(cv2.GaussianBlur(photo, (0, 0), blur), np.uint8))
    return frames


def central_face(analyser: FaceAnalyser, frame: NDArray[np.uint8]) -> AnalysedFace | None:
    """The face nearest the centre of the frame, found through the video (moving-region) path."""
    h, w = frame.shape[:2]
    faces = analyser.analyse(frame, [BBox(0, 0, w, h)])
    if not faces:
        return None
    return min(
        faces, key=lambda f: abs(f.bbox.x + f.bbox.w / 2 - w / 2) + abs(f.bbox.y + f.bbox.h / 2 - h / 2)
    )


def read_rgb(path: Path) -> NDArray[np.uint8]:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


def tpir_at(
    scores: NDArray[np.float64], right: NDArray[np.bool_], stranger: NDArray[np.bool_], fpir: float
) -> float:
    strangers = np.sort(scores[stranger])
    allowed = int(np.floor(fpir * strangers.size + 1e-9))
    limit = strangers[allowed] if allowed < strangers.size else np.inf
    mated = ~stranger
    return float((right & mated & (scores < limit)).sum()) / max(1, int(mated.sum()))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=SHARED / "faces")
    parser.add_argument("--limit", type=int, default=0, help="Use only the first N people (0: all).")
    parser.add_argument("--scales", default="1,0.5,0.33")
    parser.add_argument("--blur", type=float, default=2.0)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no face set at {args.data}; see ../shared/data/SOURCES.md", file=sys.stderr)
        return 2
    scales = [float(s) for s in args.scales.split(",")]
    settings = FaceSettings()
    analyser = FaceAnalyser(settings, Path("var/models"))
    face_set = load_face_set(args.data)
    by_person: dict[str, list[str]] = {}
    for image in face_set.images:
        by_person.setdefault(image.person, []).append(image.path)
    people = sorted(by_person)[: args.limit or None]

    names: list[str] = []
    gallery: list[Vector] = []
    passages: list[Passage] = []
    frame_ms: list[float] = []
    for person in people:
        paths = by_person[person]
        listed = len(paths) >= 2
        probes = paths[1:] if listed else paths
        if listed:
            enrolled = analyser.photo_faces(read_rgb(args.data / paths[0]))[0]
            if not enrolled:
                probes = []
            else:
                face = max(enrolled, key=lambda f: f.detection_score)
                names.append(person)
                gallery.append(np.asarray(analyser.embed([face])[0].embedding, np.float32))
        for path in probes:
            faces: list[tuple[float, Vector]] = []
            for frame in frames_of(read_rgb(args.data / path), scales, args.blur):
                start = time.perf_counter()
                face = central_face(analyser, frame)
                if face is not None and face.quality.passed:
                    embedded = analyser.embed([face])[0]
                    assert embedded.embedding is not None
                    faces.append((face.quality.score, embedded.embedding))
                frame_ms.append((time.perf_counter() - start) * 1000)
            if faces:
                passages.append(Passage(person if listed else None, tuple(faces)))

    templates = np.stack(gallery)
    ids = np.asarray(names, dtype=object)
    stranger = np.array([p.person is None for p in passages], bool)
    methods = {
        "best face (naive)": lambda p: max(p.faces, key=lambda f: f[0])[1],
        "mean": lambda p: passage_embedding(p.faces, "mean"),
        "quality-weighted": lambda p: passage_embedding(p.faces, "quality"),
    }
    median_faces = statistics.median(len(p.faces) for p in passages)
    header = "| method | rank-1 | " + " | ".join(f"TPIR @ FPIR {f:.1%}" for f in FPIRS) + " | ratio @ 1 % |"
    print(
        f"{len(names)} listed people, {len(passages)} passages ({int(stranger.sum())} strangers), "
        f"frames per passage: {len(scales) + (args.blur > 0)} (scales {args.scales}, blur {args.blur}); "
        f"faces passing the gate per passage: median {median_faces:.0f}; "
        f"detect+align+gate+embed median {statistics.median(frame_ms):.1f} ms per frame\n"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    baseline = None
    for name, probe in methods.items():
        vectors = np.stack([probe(p) for p in passages])
        distances = np.linalg.norm(vectors[:, None, :] - templates[None, :, :], axis=2)
        best = distances.argmin(axis=1)
        scores = distances[np.arange(len(best)), best].astype(np.float64)
        right = np.array(
            [p.person is not None and ids[b] == p.person for p, b in zip(passages, best, strict=True)]
        )
        rank1 = float(right[~stranger].mean())
        tpirs = [tpir_at(scores, right, stranger, f) for f in FPIRS]
        baseline = tpirs[1] if baseline is None else baseline
        ratio = tpirs[1] / baseline if baseline else float("nan")
        print(f"| {name} | {rank1:.3f} | " + " | ".join(f"{t:.3f}" for t in tpirs) + f" | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
