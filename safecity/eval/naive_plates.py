"""The naive plate baseline: plain rapidocr on the whole image, the reference our reader must beat.

Owns `NaivePlateReader` and `NaiveRead`, used by `safecity eval plates --baseline` and by
bench/bench_plates.py (one definition, so both measure the same baseline). The baseline is
rapidocr's own pipeline as a user would call it, with two settings a user would choose for speed:
no angle classifier, and the detection input capped at 960 px on the longest side. Nothing is
tuned for plates: every recognised text line is a candidate, and the best is the
highest-confidence line with 4..10 alphanumeric characters.

Offline by construction: the three model files are given to rapidocr by explicit path from the
installed `rapidocr` wheel (a missing file is an `OcrModelError` before rapidocr is built, so its
download fallback is never reached); the recognition model carries its own character list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from safecity.analytics.plates.ocr import OcrModelError, model_dir, model_paths
from safecity.types import BBox, BGRImage

CLS_MODEL_FILE = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
"""rapidocr builds its angle classifier even when it is switched off, so its file is named too."""
DET_MAX_SIDE = 960
"""Detection input capped at this longest side (rapidocr `Det.limit_type = max`)."""
MIN_PLATE_CHARS = 4
MAX_PLATE_CHARS = 10
"""A text line is a plate candidate when it has this many alphanumerics (the naive rule, untuned)."""


@dataclass(frozen=True, slots=True)
class NaiveRead:
    """One recognised text line taken as a plate candidate."""

    text: str
    """The line upper-cased with everything but letters and digits removed."""
    raw: str
    """The line as rapidocr returned it."""
    box: BBox
    """Axis-aligned box around the detected text polygon, in image pixels."""
    confidence: float


def plain(text: str) -> str:
    """Upper case, letters and digits only (the cleaning every plate comparison uses)."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


class NaivePlateReader:
    """rapidocr on the whole image; `read` gives its text lines as plate candidates, best first.

    The rule: keep the lines whose cleaned text has 4..10 alphanumeric characters and order them
    by rapidocr's recognition confidence, highest first; the first is the naive reader's plate.
    Lines of other lengths are not candidates. No formats, no box geometry, no tuning.
    """

    def __init__(self, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        det, rec = model_paths()
        cls = model_dir() / CLS_MODEL_FILE
        if not cls.is_file():
            raise OcrModelError(
                f"rapidocr angle-classifier model {cls} not found; models are never downloaded"
            )
        from rapidocr import RapidOCR  # imported here: loading rapidocr costs time the CLI need not pay

        params: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Det.model_path": str(det),
            "Det.limit_type": "max",
            "Det.limit_side_len": DET_MAX_SIDE,
            "Rec.model_path": str(rec),
            "Cls.model_path": str(cls),
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        self._engine: Callable[[BGRImage], Any] = RapidOCR(params=params)

    def read(self, image: BGRImage) -> list[NaiveRead]:
        """Plate candidates in the whole BGR image, best first (empty when no line qualifies)."""
        result = self._engine(image)
        txts = getattr(result, "txts", None) or ()
        scores = getattr(result, "scores", None) or ()
        boxes = getattr(result, "boxes", None)
        reads: list[NaiveRead] = []
        for i, (raw, score) in enumerate(zip(txts, scores, strict=False)):
            text = plain(str(raw))
            if not MIN_PLATE_CHARS <= len(text) <= MAX_PLATE_CHARS:
                continue
            box = _bbox(np.asarray(boxes[i])) if boxes is not None and i < len(boxes) else BBox(0, 0, 0, 0)
            reads.append(NaiveRead(text, str(raw), box, float(score)))
        reads.sort(key=lambda r: -r.confidence)
        return reads


def _bbox(polygon: np.ndarray) -> BBox:
    """The axis-aligned box around a detection polygon (points as rows of x, y)."""
    points = polygon.reshape(-1, 2)
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    return BBox(x0, y0, max(0, int(x1) - x0), max(0, int(y1) - y0))
