"""Per-passage aggregation: one sighting per passage, best face kept, mean of the best embeddings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest

from safecity.analytics.faces.alignment import Landmarks
from safecity.analytics.faces.analyser import AnalysedFace
from safecity.analytics.faces.passages import FacePassages, passage_embedding
from safecity.analytics.faces.quality import FaceQuality
from safecity.config import FaceSettings
from safecity.types import BBox

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
FRAME = np.zeros((720, 1280, 3), np.uint8)
LANDMARKS = Landmarks(((0.0, 0.0), (1.0, 0.0), (3.0, 0.0), (4.0, 0.0), (2.0, 1.0)))


class ChipMeanEmbedder:
    """Deterministic embedder for aggregation tests: the vector is the chip's first pixel, repeated."""

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, chips: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        self.calls += len(chips)
        return np.repeat(chips[:, 0, 0, :1].astype(np.float32), 128, axis=1)


class AnalyserWithEmbedder:
    """What FacePassages needs from the analyser: `embed` over AnalysedFace records."""

    def __init__(self) -> None:
        self.embedder = ChipMeanEmbedder()

    def embed(self, faces: list[AnalysedFace]) -> list[AnalysedFace]:
        if not faces:
            return []
        vectors = self.embedder.embed(np.stack([f.chip for f in faces]))
        return [
            AnalysedFace(f.bbox, f.detection_score, f.landmarks, f.quality, f.chip, v)
            for f, v in zip(faces, vectors, strict=True)
        ]


def face(x: int, score: float, value: int, *, passed: bool = True) -> AnalysedFace:
    chip = np.full((150, 150, 3), value, np.uint8)
    quality = FaceQuality(40.0, 100.0, 0.0, score, "" if passed else "too small")
    return AnalysedFace(BBox(x, 100, 80, 80), 1.0, LANDMARKS, quality, chip)


def passages(**override: object) -> tuple[FacePassages, AnalyserWithEmbedder]:
    analyser = AnalyserWithEmbedder()
    settings = FaceSettings(**override)  # type: ignore[arg-type]
    return FacePassages("cam-1", settings, analyser), analyser  # type: ignore[arg-type]


def walk(p: FacePassages, xs_scores_values: list[tuple[int, float, int]]) -> None:
    for i, (x, score, value) in enumerate(xs_scores_values):
        assert p.add(T0 + timedelta(seconds=0.2 * i), [face(x, score, value)], FRAME) == []


def test_one_passage_gives_one_sighting() -> None:
    p, _ = passages()
    walk(p, [(100 + 10 * i, 0.5, 10) for i in range(8)])
    decided = p.finish()
    assert len(decided) == 1
    assert decided[0].faces_seen == 8


def test_sighting_keeps_the_best_face() -> None:
    p, _ = passages()
    walk(p, [(100, 0.2, 10), (110, 0.9, 20), (120, 0.4, 30)])
    best = p.finish()[0]
    assert best.quality == pytest.approx(0.9)
    assert best.bbox == BBox(110, 100, 80, 80)
    assert best.timestamp == T0 + timedelta(seconds=0.2)


def test_embedding_is_the_mean_of_the_best_faces() -> None:
    p, _ = passages(max_embeddings_per_track=2)
    walk(p, [(100, 0.1, 0), (110, 0.8, 20), (120, 0.9, 40), (130, 0.2, 60)])
    assert p.finish()[0].embedding[0] == pytest.approx(30.0)


def test_quality_weighting_pulls_the_probe_towards_the_clear_faces() -> None:
    p, _ = passages(max_embeddings_per_track=2, passage_weighting="quality")
    walk(p, [(100, 0.1, 0), (110, 0.25, 20), (120, 0.75, 40)])
    assert p.finish()[0].embedding[0] == pytest.approx(0.25 * 20 + 0.75 * 40)


V1 = np.full(4, 1.0, np.float32)
V3 = np.full(4, 3.0, np.float32)


@pytest.mark.parametrize(
    ("faces", "weighting", "expected"),
    [
        ([(0.5, V1), (0.5, V3)], "mean", 2.0),
        ([(0.9, V1), (0.1, V3)], "mean", 2.0),
        ([(0.9, V1), (0.1, V3)], "quality", 1.2),
        ([(0.0, V1), (0.0, V3)], "quality", 2.0),
        ([(0.3, V3)], "quality", 3.0),
    ],
)
def test_passage_embedding(
    faces: list[tuple[float, npt.NDArray[np.float32]]], weighting: str, expected: float
) -> None:
    assert passage_embedding(faces, weighting) == pytest.approx(np.full(4, expected))


@pytest.mark.parametrize(
    ("faces", "weighting", "message"),
    [([], "mean", "at least one"), ([(0.5, V1)], "median", "'mean' or 'quality'")],
)
def test_passage_embedding_refuses(
    faces: list[tuple[float, npt.NDArray[np.float32]]], weighting: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        passage_embedding(faces, weighting)


def test_embeds_only_faces_that_can_improve_the_passage() -> None:
    p, analyser = passages(max_embeddings_per_track=2)
    walk(p, [(100, 0.9, 1), (110, 0.8, 1), (120, 0.1, 1), (130, 0.2, 1)])
    assert analyser.embedder.calls == 2


def test_faces_failing_the_gate_are_not_a_sighting() -> None:
    p, analyser = passages()
    for i in range(4):
        p.add(T0 + timedelta(seconds=0.2 * i), [face(100, 0.0, 5, passed=False)], FRAME)
    assert p.finish() == []
    assert analyser.embedder.calls == 0


def test_a_passage_ends_after_the_gap() -> None:
    p, _ = passages(track_gap_s=1.0)
    walk(p, [(100, 0.5, 10), (105, 0.5, 10)])
    ended = p.add(T0 + timedelta(seconds=3), [], FRAME)
    assert len(ended) == 1
    assert p.finish() == []


def test_two_people_side_by_side_are_two_passages() -> None:
    p, _ = passages()
    for i in range(3):
        p.add(T0 + timedelta(seconds=0.2 * i), [face(100, 0.5, 10), face(700, 0.5, 50)], FRAME)
    decided = sorted(p.finish(), key=lambda d: d.bbox.x)
    assert [d.embedding[0] for d in decided] == [pytest.approx(10.0), pytest.approx(50.0)]


def test_a_jump_far_away_starts_a_new_passage() -> None:
    p, _ = passages()
    walk(p, [(100, 0.5, 10), (900, 0.5, 50)])
    assert len(p.finish()) == 2
