"""The recogniser `safecity eval faces` scores: the production analyser, choosing one face per image.

Evaluation photos (LFW) are centred on the labelled person but can show others behind them, so
the face scored is the detected face nearest the image centre. Evaluation images are still photos,
so they go through the photo path that enrolment and face search use: HOG at `photo_upsample`
(faces down to ~35 px), then the CNN detector when HOG finds nothing; images with no face are
counted by the metrics, never replaced by a fixed crop. Detection recall is measured with the
same photo detector.
The quality gate is not applied: verification needs an embedding for every pair, and the gate's
effect on watchlist matching is a separate question (passages are gated in the pipeline).
Embedding time is measured here, per face, apart from detection.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from safecity.analytics.faces.analyser import AnalysedFace, FaceAnalyser
from safecity.types import RGBImage


class EvalRecogniser:
    def __init__(self, analyser: FaceAnalyser) -> None:
        self.analyser = analyser
        self.embed_ms: list[float] = []
        self.retried = 0

    def _primary(self, image: RGBImage) -> AnalysedFace | None:
        faces, by_fallback = self.analyser.photo_faces(image)
        self.retried += by_fallback
        if not faces:
            return None
        cy, cx = image.shape[0] / 2, image.shape[1] / 2

        def off_centre(f: AnalysedFace) -> float:
            b = f.bbox
            return float(np.hypot(b.x + b.w / 2 - cx, b.y + b.h / 2 - cy))

        return min(faces, key=off_centre)

    def embed(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32] | None:
        face = self._primary(np.ascontiguousarray(image))
        if face is None:
            return None
        start = time.perf_counter()
        embedded = self.analyser.embed([face])[0]
        self.embed_ms.append((time.perf_counter() - start) * 1000)
        return embedded.embedding

    def detect(self, image: npt.NDArray[np.uint8]) -> list[tuple[int, int, int, int]]:
        found = self.analyser.photo_detector.detect(np.ascontiguousarray(image))
        return [(d.bbox.x, d.bbox.y, d.bbox.w, d.bbox.h) for d in found]
