"""The motion gate: which frames are worth analysing, and where in them something moves.

Owns: OpenCV MOG2 background subtraction on a downscaled copy of each frame, cleaning of the
foreground mask, and turning it into moving blobs in full-resolution pixel coordinates. One
`MotionGate` per camera: it keeps that camera's background model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from safecity.config import MotionSettings
from safecity.types import BBox, BGRImage, Frame

# MOG2 marks shadows 127 and foreground 255; anything above this is foreground.
_FOREGROUND_MIN = 200
# Opening removes speckle noise (a pixel or two); closing then joins the fragments of one
# object (a car body split by its windows) before contours are taken. Sizes are at the
# downscaled working resolution.
_OPEN_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


@dataclass(frozen=True, slots=True)
class MotionResult:
    """What the gate saw in one frame."""

    moving: bool
    blobs: tuple[BBox, ...]
    """Moving regions in full-resolution pixels, largest first."""
    foreground_fraction: float
    """Share of the (downscaled) frame that is foreground after cleaning, 0..1."""
    foreground: np.ndarray | None = field(default=None, repr=False, compare=False)
    """The foreground mask at the working resolution, speckle removed but fragments not joined
    (255 = moving); None while the background is still being learned."""
    scale: float = 1.0
    """Working resolution / full resolution: full-frame pixel p is mask pixel p * scale."""


_NO_MOTION = MotionResult(moving=False, blobs=(), foreground_fraction=0.0)


class MotionGate:
    """Background subtraction for one camera; feed it every analysed frame in order."""

    def __init__(self, settings: MotionSettings) -> None:
        self.settings = settings
        size = settings.close_kernel_px
        self._close_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        self._subtractor: cv2.BackgroundSubtractorMOG2 | None = None
        self._work_size: tuple[int, int] | None = None  # (width, height) the model was built at
        self._learned_frames = 0

    @property
    def warmed_up(self) -> bool:
        """True once the background model has seen `warmup_frames` frames."""
        return self._subtractor is not None and self._learned_frames >= self.settings.warmup_frames

    def reset(self) -> None:
        """Forget the background (after a camera moved or a stream reconnected)."""
        self._subtractor = None
        self._work_size = None
        self._learned_frames = 0

    def detect(self, frame: Frame) -> MotionResult:
        image = frame.image
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"MotionGate needs a BGR uint8 image of shape (h, w, 3), got {image.dtype} {image.shape}"
            )
        height, width = image.shape[:2]
        if width == 0 or height == 0:
            raise ValueError(f"MotionGate got an empty image of shape {image.shape}")
        small, scale = self._downscale(image)
        work_size = (small.shape[1], small.shape[0])
        if work_size != self._work_size:
            # A new resolution (first frame, or the stream changed): MOG2 cannot continue
            # across sizes, so the background is learned again.
            self.reset()
            self._work_size = work_size
            self._subtractor = cv2.createBackgroundSubtractorMOG2(
                history=self.settings.history,
                varThreshold=self.settings.var_threshold,
                detectShadows=self.settings.detect_shadows,
            )
        assert self._subtractor is not None
        learning = self._learned_frames < self.settings.warmup_frames
        # MOG2's own rate is 1/min(frames seen, history): right for learning the empty scene
        # fast, but just after warm-up it is so high that an object absorbs into the background
        # within a few frames and only its leading edge stays foreground. After warm-up the
        # rate is fixed at 1/history, which is what `history` means.
        rate = -1.0 if learning else 1.0 / self.settings.history
        mask = self._subtractor.apply(small, learningRate=rate)
        self._learned_frames += 1
        if learning:
            return _NO_MOTION  # still learning what the empty scene looks like

        _, foreground = cv2.threshold(mask, _FOREGROUND_MIN, 255, cv2.THRESH_BINARY)
        opened = cv2.morphologyEx(foreground, cv2.MORPH_OPEN, _OPEN_KERNEL)
        foreground = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, self._close_kernel)
        work_area = work_size[0] * work_size[1]
        fraction = cv2.countNonZero(foreground) / work_area

        min_area = self.settings.min_blob_area_fraction * work_area
        contours, _ = cv2.findContours(foreground, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes: list[tuple[int, int, int, int]] = []
        for contour in contours:
            if cv2.contourArea(contour) < min_area:
                continue
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append((x, y, x + w, y + h))
        boxes = _merge_overlapping(boxes, self.settings.merge_overlap)
        blobs = tuple(
            sorted(
                (_to_full_resolution(box, scale, width, height) for box in boxes),
                key=lambda b: b.area,
                reverse=True,
            )
        )
        return MotionResult(
            moving=bool(blobs), blobs=blobs, foreground_fraction=fraction, foreground=opened, scale=scale
        )

    def _downscale(self, image: BGRImage) -> tuple[BGRImage, float]:
        """The working copy and its scale (working / full); frames never grow."""
        height, width = image.shape[:2]
        target = self.settings.downscale_width
        if width <= target:
            return image, 1.0
        scale = target / width
        size = (target, max(1, round(height * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return small.astype(np.uint8, copy=False), scale


def _merge_overlapping(
    boxes: list[tuple[int, int, int, int]], min_overlap: float
) -> list[tuple[int, int, int, int]]:
    """Merge boxes (x0, y0, x1, y1) whose overlap covers most of the smaller one, until none do.

    Nested boxes (a hole's contour inside an object) overlap fully and merge too.
    """
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                ix = min(a[2], b[2]) - max(a[0], b[0])
                iy = min(a[3], b[3]) - max(a[1], b[1])
                if ix <= 0 or iy <= 0:
                    continue
                smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
                if ix * iy >= min_overlap * smaller:
                    merged[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def _to_full_resolution(box: tuple[int, int, int, int], scale: float, width: int, height: int) -> BBox:
    # Round outwards so the full-resolution box still covers every foreground pixel.
    x0 = max(0, math.floor(box[0] / scale))
    y0 = max(0, math.floor(box[1] / scale))
    x1 = min(width, math.ceil(box[2] / scale))
    y1 = min(height, math.ceil(box[3] / scale))
    return BBox(x0, y0, x1 - x0, y1 - y0)
