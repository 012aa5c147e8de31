"""Per-passage aggregation: the faces of one person walking past a camera become one sighting.

Faces are linked frame to frame by box overlap (a face moves little between analysed frames at
5 fps), or, when boxes jump, by centre distance relative to face size. Of each passage only the
`max_embeddings_per_track` best faces that pass the quality gate are embedded, so a long passage
costs no more than a short one; when a passage ends (unseen for `track_gap_s`) its sighting has
the best face's box, crop and time and the mean of the embedded faces, which is steadier than
any single frame's embedding. With `passage_weighting = "quality"` each face counts by its quality
score (size x sharpness x pose), so a small or blurred frame pulls the probe less than a clear one;
measured no better than the plain mean (bench/bench_face_passages.py), so the mean is the default.
Passages without a face that passed the gate are dropped: there is
nothing to match and nothing worth keeping about a passer-by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from safecity.analytics.faces.analyser import AnalysedFace, FaceAnalyser
from safecity.analytics.faces.detector import iou
from safecity.config import FaceSettings
from safecity.types import BBox, BGRImage, observation_id

Vector = npt.NDArray[np.float32]

CENTRE_LINK = 0.75
"""Faces whose centres are within this many face widths continue a passage when boxes do not overlap."""


@dataclass(frozen=True, slots=True, eq=False)
class DecidedFace:
    """One passage of one face: what is stored as a `FaceSighting`, plus images for evidence."""

    sighting_id: str
    camera_id: str
    track_id: int
    timestamp: datetime
    bbox: BBox
    detection_score: float
    quality: float
    embedding: npt.NDArray[np.float32]
    faces_seen: int
    faces_embedded: int
    first_seen: datetime
    last_seen: datetime
    frame: BGRImage
    """The frame of the best face (BGR), for the snapshot and the alert's probe crop."""


def passage_embedding(faces: Sequence[tuple[float, Vector]], weighting: str) -> Vector:
    """One probe from a passage's (quality score, embedding) faces: their mean, or their mean
    weighted by quality (`weighting` "quality"). Scores are > 0 for faces that passed the gate; a
    passage whose scores are all 0 falls back to the plain mean rather than dividing by zero."""
    if not faces:
        raise ValueError("a passage needs at least one embedded face")
    if weighting not in ("mean", "quality"):
        raise ValueError(f"passage weighting must be 'mean' or 'quality', not {weighting!r}")
    vectors = np.stack([v for _, v in faces]).astype(np.float64)
    weights = np.array([max(0.0, s) for s, _ in faces], np.float64)
    if weighting == "mean" or weights.sum() <= 0:
        weights = np.ones(len(faces), np.float64)
    return np.asarray((weights[:, None] * vectors).sum(axis=0) / weights.sum(), np.float32)


@dataclass(eq=False)
class _Passage:
    track_id: int
    first_seen: datetime
    last_seen: datetime
    last_box: BBox
    seen: int = 0
    embedded: list[tuple[float, Vector]] = field(default_factory=list)
    best: tuple[float, datetime, AnalysedFace, BGRImage] | None = None

    def linked(self, box: BBox, min_iou: float) -> float:
        """How strongly a new box continues this passage (0: not at all)."""
        overlap = iou(self.last_box, box)
        if overlap >= min_iou:
            return 1.0 + overlap
        size = max(self.last_box.w, box.w, 1)
        dx = (self.last_box.x + self.last_box.w / 2) - (box.x + box.w / 2)
        dy = (self.last_box.y + self.last_box.h / 2) - (box.y + box.h / 2)
        dist = float(np.hypot(dx, dy)) / size
        return 1.0 - dist / CENTRE_LINK if dist < CENTRE_LINK else 0.0


class FacePassages:
    """Links one camera's faces across frames and decides each passage once, when it ends."""

    def __init__(self, camera_id: str, settings: FaceSettings, analyser: FaceAnalyser) -> None:
        self.camera_id = camera_id
        self.settings = settings
        self.analyser = analyser
        self._open: list[_Passage] = []
        self._next_id = 1

    def add(self, timestamp: datetime, faces: Sequence[AnalysedFace], frame: BGRImage) -> list[DecidedFace]:
        """Faces of one analysed frame; returns passages that ended before this frame."""
        ended = self._close_idle(timestamp)
        claimed: set[int] = set()
        to_embed: list[tuple[_Passage, AnalysedFace]] = []
        for face in sorted(faces, key=lambda f: -f.quality.score):
            passage = self._link(face.bbox, claimed)
            if passage is None:
                passage = _Passage(self._next_id, timestamp, timestamp, face.bbox)
                self._next_id += 1
                self._open.append(passage)
            claimed.add(passage.track_id)
            passage.last_seen, passage.last_box = timestamp, face.bbox
            if not face.quality.passed:
                continue
            passage.seen += 1
            if passage.best is None or face.quality.score > passage.best[0]:
                passage.best = (face.quality.score, timestamp, face, frame)
            if self._worth_embedding(passage, face.quality.score):
                to_embed.append((passage, face))
        embedded = self.analyser.embed([f for _, f in to_embed])
        for (passage, _), face in zip(to_embed, embedded, strict=True):
            assert face.embedding is not None
            passage.embedded.append((face.quality.score, face.embedding))
            passage.embedded.sort(key=lambda e: -e[0])
            del passage.embedded[self.settings.max_embeddings_per_track :]
        return ended

    def finish(self) -> list[DecidedFace]:
        """Decide every open passage (end of the source)."""
        decided = [d for p in self._open if (d := self._decide(p)) is not None]
        self._open.clear()
        return decided

    def _link(self, box: BBox, claimed: set[int]) -> _Passage | None:
        best, best_strength = None, 0.0
        for p in self._open:
            if p.track_id in claimed:
                continue
            strength = p.linked(box, self.settings.track_iou)
            if strength > best_strength:
                best, best_strength = p, strength
        return best

    def _worth_embedding(self, passage: _Passage, score: float) -> bool:
        if len(passage.embedded) < self.settings.max_embeddings_per_track:
            return True
        return score > passage.embedded[-1][0]

    def _close_idle(self, now: datetime) -> list[DecidedFace]:
        gap = self.settings.track_gap_s
        idle = [p for p in self._open if (now - p.last_seen).total_seconds() > gap]
        self._open = [p for p in self._open if p not in idle]
        return [d for p in idle if (d := self._decide(p)) is not None]

    def _decide(self, passage: _Passage) -> DecidedFace | None:
        if passage.best is None or not passage.embedded or passage.seen < self.settings.min_track_faces:
            return None
        score, ts, face, frame = passage.best
        mean = passage_embedding(passage.embedded, self.settings.passage_weighting)
        return DecidedFace(
            sighting_id=observation_id(self.camera_id, "face", ts, passage.track_id),
            camera_id=self.camera_id,
            track_id=passage.track_id,
            timestamp=ts,
            bbox=face.bbox,
            detection_score=face.detection_score,
            quality=score,
            embedding=mean,
            faces_seen=passage.seen,
            faces_embedded=len(passage.embedded),
            first_seen=passage.first_seen,
            last_seen=passage.last_seen,
            frame=frame,
        )
