"""Face detection with dlib: HOG (default, ~50 ms at 640x480 on one core) or the CNN (MMOD) detector.

The CNN finds smaller, turned and badly lit faces but costs seconds per frame on a CPU, so it is
for offline batch work (enrolment, retrospective analysis), not live streams. In the pipeline the
detector looks only at moving regions, grown a little so a head at a blob's edge is whole.

Small faces: HOG at upsample 0 finds faces from ~60-70 px, and doubling the whole frame costs 4x.
A person's moving blob is about three face widths wide, so only a narrow blob can hold a face too
small for 1x; those regions alone are enlarged (`small_region_scale`) before detection and their
boxes scaled back, and wide regions stay at 1x.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import dlib
import numpy as np

from safecity.analytics.faces.model_files import FaceModelFiles, face_model_files
from safecity.config import FaceSettings
from safecity.types import BBox, RGBImage

MERGE_IOU = 0.5
"""Detections from overlapping regions that overlap this much are the same face."""


@dataclass(frozen=True, slots=True)
class FaceDetection:
    """A face box in frame coordinates with the detector's score (HOG margin or CNN confidence)."""

    bbox: BBox
    score: float


def iou(a: BBox, b: BBox) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def _clip(box: BBox, width: int, height: int) -> BBox | None:
    x0, y0 = max(0, box.x), max(0, box.y)
    x1, y1 = min(width, box.x + box.w), min(height, box.y + box.h)
    if x1 <= x0 or y1 <= y0:
        return None
    return BBox(x0, y0, x1 - x0, y1 - y0)


def grow(box: BBox, fraction: float, width: int, height: int) -> BBox | None:
    """`box` grown by `fraction` of its size on every side and clipped to the frame."""
    dx, dy = round(box.w * fraction), round(box.h * fraction)
    return _clip(BBox(box.x - dx, box.y - dy, box.w + 2 * dx, box.h + 2 * dy), width, height)


class FaceDetector:
    """Finds faces in RGB images; one instance per process (the CNN model is ~1 MB, HOG is built in)."""

    def __init__(self, settings: FaceSettings, models: FaceModelFiles | None = None) -> None:
        self.settings = settings
        self.kind = settings.detector
        self._hog: Any = None
        self._cnn: Any = None
        if self.kind == "cnn":
            self._cnn = dlib.cnn_face_detection_model_v1(str((models or face_model_files()).cnn_detector))
        else:
            self._hog = dlib.get_frontal_face_detector()

    def detect(self, image: RGBImage) -> list[FaceDetection]:
        """Faces in a whole image, best score first."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image, got shape {image.shape} dtype {image.dtype}")
        image = np.ascontiguousarray(image)
        height, width = image.shape[:2]
        found: list[FaceDetection] = []
        if self._cnn is not None:
            for d in self._cnn(image, self.settings.upsample):
                found.append(FaceDetection(_rect_box(d.rect), float(d.confidence)))
        else:
            rects, scores, _ = self._hog.run(image, self.settings.upsample, self.settings.min_detection_score)
            found = [FaceDetection(_rect_box(r), float(s)) for r, s in zip(rects, scores, strict=True)]
        kept = []
        for d in found:
            box = _clip(d.bbox, width, height)
            if box is not None and d.score >= self.settings.min_detection_score:
                kept.append(FaceDetection(box, d.score))
        return sorted(kept, key=lambda d: -d.score)

    def region_scale(self, region: BBox) -> float:
        """How much a moving region is enlarged before detection: 1, or `small_region_scale` if narrow."""
        s = self.settings
        # At upsample >= 1 every region is already searched at 2x or more; enlarging again would
        # multiply that cost for faces too small to pass the quality gate.
        if s.small_face_upsample and s.upsample == 0 and region.w <= s.small_region_max_width:
            return s.small_region_scale
        return 1.0

    def detect_regions(self, image: RGBImage, regions: Sequence[BBox]) -> list[FaceDetection]:
        """Faces inside moving regions (grown by `region_padding`), in frame coordinates, deduplicated.

        Narrow regions are enlarged by `region_scale` first, so faces of ~36-60 px are found there.
        When the regions, enlarged, add up to at least the whole frame enlarged (a crowd: many
        overlapping narrow blobs), the frame is searched once at that scale instead, and only faces
        centred in a region are kept: the cost never exceeds upsampling the whole frame.
        """
        height, width = image.shape[:2]
        plan: list[tuple[BBox, float]] = []
        for region in regions:
            box = grow(region, self.settings.region_padding, width, height)
            if box is not None and min(box.w, box.h) >= 20:
                plan.append((box, self.region_scale(region)))
        if not plan:
            return []
        top = max(scale for _, scale in plan)
        found: list[FaceDetection] = []
        if top > 1.0 and sum(b.w * b.h * s * s for b, s in plan) >= top * top * width * height:
            whole = BBox(0, 0, width, height)
            found = [
                d
                for d in self._detect_in(image, whole, top)
                if any(_centre_inside(d.bbox, b) for b, _ in plan)
            ]
        else:
            for box, scale in plan:
                found.extend(self._detect_in(image, box, scale))
        found.sort(key=lambda d: -d.score)
        merged: list[FaceDetection] = []
        for d in found:
            if all(iou(d.bbox, m.bbox) < MERGE_IOU for m in merged):
                merged.append(d)
        return merged

    def _detect_in(self, image: RGBImage, box: BBox, scale: float) -> list[FaceDetection]:
        """Faces in one box of the frame enlarged by `scale`, in frame coordinates."""
        height, width = image.shape[:2]
        crop = image[box.y : box.y + box.h, box.x : box.x + box.w]
        if scale != 1.0:
            size = (round(box.w * scale), round(box.h * scale))
            crop = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR), np.uint8)
        found = []
        for d in self.detect(crop):
            frame_box = _clip(_to_frame(d.bbox, box, scale), width, height)
            if frame_box is not None:
                found.append(FaceDetection(frame_box, d.score))
        return found


def _centre_inside(box: BBox, region: BBox) -> bool:
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    return region.x <= cx <= region.x + region.w and region.y <= cy <= region.y + region.h


def _to_frame(box: BBox, region: BBox, scale: float) -> BBox:
    """A box found in a region crop enlarged by `scale`, in the coordinates of the whole frame."""
    return BBox(
        region.x + round(box.x / scale),
        region.y + round(box.y / scale),
        max(1, round(box.w / scale)),
        max(1, round(box.h / scale)),
    )


def _rect_box(rect: Any) -> BBox:
    return BBox(int(rect.left()), int(rect.top()), int(rect.width()), int(rect.height()))
