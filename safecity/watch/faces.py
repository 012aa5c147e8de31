"""Face watchlist matching: a decided face against the templates in force, inside their authorisation.

A template matches only where and when its authorisation allows: the sighting's camera must be
one the authorisation names, its time inside the authorised window, and neither the sighting
nor the moment of matching after the authorisation's expiry. Outside that scope the template
is not compared at all, so an out-of-scope face cannot even come close to a match. Among the
templates in scope the nearest (Euclidean distance to the mean of the person's photos) is judged
by the open-set rule (`face_decision.OpenSetRule`): a threshold chosen for `faces.target_fpir`
and the number of people in scope, on the distance or on the cohort score when calibrated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from safecity.config import FaceSettings
from safecity.types import FACE_EMBEDDING_DIM, FaceSighting, FaceTemplate
from safecity.watch.face_decision import SHIPPED, FaceCalibration, OpenSetRule


@dataclass(frozen=True, slots=True)
class FaceMatch:
    """The template a face matched, how close, and what the rule judged."""

    template: FaceTemplate
    distance: float
    threshold: float
    score: float | None = None
    """The score compared with `threshold` (None: the distance itself, the `distance` method)."""
    method: str = "distance"
    target_fpir: float | None = None


@dataclass(frozen=True, slots=True)
class FaceMatchEvent:
    """A sighting that matched a watchlist template: what the alert is raised from."""

    sighting: FaceSighting
    match: FaceMatch
    probe_ref: str


def load_rule(faces: FaceSettings, calibration_path: Path) -> OpenSetRule:
    """The rule in force: the city's calibration where one was written, else the shipped table.

    A calibration file that exists but cannot be read is an error (FaceCalibrationError), not a
    silent fallback: the city chose to calibrate."""
    calibration = FaceCalibration.load(calibration_path) if calibration_path.exists() else SHIPPED
    return OpenSetRule(calibration, faces.target_fpir)


class FaceMatcher:
    """Holds the templates in force as one matrix; picklable, so analysis workers get a copy."""

    def __init__(self, templates: Sequence[FaceTemplate], rule: OpenSetRule) -> None:
        self.templates = tuple(templates)
        self.rule = rule
        self._matrix: npt.NDArray[np.float32] = np.asarray(
            [t.vector for t in self.templates], dtype=np.float32
        ).reshape(-1, FACE_EMBEDDING_DIM)
        self._photos = [
            np.asarray(t.photos, dtype=np.float32).reshape(-1, FACE_EMBEDDING_DIM) for t in self.templates
        ]

    def __len__(self) -> int:
        return len(self.templates)

    def in_scope(self, camera_id: str, timestamp: datetime, now: datetime) -> list[int]:
        return [i for i, t in enumerate(self.templates) if t.authorisation.covers(camera_id, timestamp, now)]

    def threshold(self, gallery_size: int) -> float:
        """The rule's threshold for `gallery_size` people in scope (shown to operators and auditors)."""
        return self.rule.threshold(gallery_size)

    def match(
        self, camera_id: str, timestamp: datetime, embedding: npt.NDArray[np.float32], now: datetime
    ) -> FaceMatch | None:
        """The nearest in-scope template if the rule accepts it, or None."""
        scope = self.in_scope(camera_id, timestamp, now)
        if not scope:
            return None
        decision = self.rule.decide(embedding, self._matrix[scope], [self._photos[i] for i in scope])
        if not decision.matched:
            return None
        return FaceMatch(
            self.templates[scope[decision.index]],
            decision.distance,
            decision.threshold,
            decision.score,
            self.rule.method,
            self.rule.target_fpir,
        )
