"""Face watchlist matching: a decided face against the templates in force, inside their authorisation.

A template matches only where and when its authorisation allows: the sighting's camera must be
one the authorisation names, its time inside the authorised window, and neither the sighting
nor the moment of matching after the authorisation's expiry. Outside that scope the template
is not compared at all, so an out-of-scope face cannot even come close to a match. Among the
templates in scope, the nearest (Euclidean distance between 128-d embeddings) wins if it is
within `faces.match_threshold`, which is calibrated on data (see the README's face accuracy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from safecity.types import FaceTemplate


@dataclass(frozen=True, slots=True)
class FaceMatch:
    """The template a face matched, how close, and the threshold it was judged against."""

    template: FaceTemplate
    distance: float
    threshold: float


class FaceMatcher:
    """Holds the templates in force as one matrix; picklable, so analysis workers get a copy."""

    def __init__(self, templates: Sequence[FaceTemplate], threshold: float) -> None:
        if threshold <= 0:
            raise ValueError(f"match threshold must be positive, got {threshold}")
        self.templates = tuple(templates)
        self.threshold = threshold
        self._matrix: npt.NDArray[np.float32] = np.asarray(
            [t.vector for t in self.templates], dtype=np.float32
        ).reshape(-1, 128)

    def __len__(self) -> int:
        return len(self.templates)

    def in_scope(self, camera_id: str, timestamp: datetime, now: datetime) -> list[int]:
        return [i for i, t in enumerate(self.templates) if t.authorisation.covers(camera_id, timestamp, now)]

    def match(
        self, camera_id: str, timestamp: datetime, embedding: npt.NDArray[np.float32], now: datetime
    ) -> FaceMatch | None:
        """The nearest in-scope template within the threshold, or None."""
        scope = self.in_scope(camera_id, timestamp, now)
        if not scope:
            return None
        vector = np.asarray(embedding, dtype=np.float32).reshape(128)
        distances = np.linalg.norm(self._matrix[scope] - vector, axis=1)
        best = int(np.argmin(distances))
        distance = float(distances[best])
        if distance > self.threshold:
            return None
        return FaceMatch(self.templates[scope[best]], distance, self.threshold)
