"""Where plates may be: cheap edge proposals, text detection at plate scale, joining split lines.

Owns the search for text lines that may be plates in an image area. Two sources, combined:

* text detection (PP-OCR DB) on the whole area shrunk to `global_det_max_side` finds large plates
  (the detector needs a plate about 80 px wide at its input to find it reliably);
* edge proposals: rows of vertical strokes (Sobel-x, Otsu, horizontal closing) at full resolution
  cost ~2 ms per image and find small plates; each is then re-detected in a small window scaled so
  its text is `roi_text_height_px` high, which gives tight text boxes for recognition.

Measured on ../shared/data/plates (eu 65 images, hr 10; one core), plate text box found
(centre inside a detected box): detection on the whole image at longest side 960: 65/65 in
324 ms, 640: 65/65 in 138 ms, 512: 64/65 in ~95 ms, 416: 63/65 in 53 ms; edge proposals
64/65 (IoU >= 0.3, median 11 proposals, 1.5 ms), re-detected at plate scale 60/65 in 25 ms;
OpenCV's Haar plate cascade 58/65 (hr 3/10) in 27 ms (40 ms hr) with boxes too loose to read;
proposals + detection at 384 together: eu 63/65 and hr 10/10 in ~75 ms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from safecity.analytics.plates.ocr import OcrEngine, TextBox, nms, text_box
from safecity.config import PlateSettings
from safecity.types import BBox, BGRImage

# Edge proposals work on the image shrunk to `proposal_work_width`; these sizes are at that scale.
_CLOSE_KERNELS = ((9, 3), (17, 3))
"""Horizontal closings that join a plate's character strokes into one blob (narrow, then wide gaps)."""
_OPEN_KERNEL = (5, 5)
"""Opening that removes thin edge lines (kerbs, lane markings, car body edges)."""
_PROPOSAL_ASPECT = (1.5, 10.0)
_PROPOSAL_MIN_FILL = 0.4
_PROPOSAL_MAX_HEIGHT = 0.25
"""A proposal taller than this share of the image is a textured surface, not a text line."""
_ROI_GROW = (0.25, 1.0)
"""A proposal's window for re-detection: grown by these shares of its width and height on each side."""
_ROI_SCALE_MAX = 3.0
_DUPLICATE_OVERLAP = 0.6
"""Text boxes overlapping a better one by this share of the smaller box are the same text."""
_JOIN_DY = 0.3
_JOIN_HEIGHT_RATIO = 1.4
_JOIN_MAX_GAP = 1.2
"""Two boxes on one line, at most this many text heights apart, may be one plate split at its emblem."""
_COVER_HEIGHT = 0.5
"""A proposal is not re-detected when a found text line through its centre is at least this share as high."""
_PLATE_GROW = (0.15, 0.25)
"""A detected plate's window for text detection: grown by these shares of its width and height."""
_PLATE_SCALE_MAX = 4.0
_PLATE_ASPECT = (2.0, 8.0)
_ODD_ASPECT_WEIGHT = 0.8


def edge_proposals(image: BGRImage, settings: PlateSettings) -> list[BBox]:
    """Rows of vertical strokes shaped like a plate's text, largest first, in `image` pixels."""
    h, w = image.shape[:2]
    scale = min(1.0, settings.proposal_work_width / w)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if scale < 1.0:
        gray = cv2.resize(
            gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
    edges = cv2.convertScaleAbs(cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3))
    _, strokes = cv2.threshold(edges, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    opener = cv2.getStructuringElement(cv2.MORPH_RECT, _OPEN_KERNEL)
    min_h = settings.proposal_min_height_px * scale
    max_h = _PROPOSAL_MAX_HEIGHT * gray.shape[0]
    found: list[BBox] = []
    for kernel in _CLOSE_KERNELS:
        closed = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        closed = cv2.morphologyEx(closed, cv2.MORPH_OPEN, opener)
        contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            x, y, bw, bh = cv2.boundingRect(contour)
            if bh < min_h or bh > max_h or not _PROPOSAL_ASPECT[0] <= bw / bh <= _PROPOSAL_ASPECT[1]:
                continue
            if cv2.contourArea(contour) < _PROPOSAL_MIN_FILL * bw * bh:
                continue
            found.append(BBox(round(x / scale), round(y / scale), round(bw / scale), round(bh / scale)))
    found.sort(key=lambda b: -b.area)
    unique: list[BBox] = []
    for box in found:
        if all(box.iou(u) < 0.5 for u in unique):
            unique.append(box)
    return unique


def detect_in_proposal(
    engine: OcrEngine, image: BGRImage, proposal: BBox, settings: PlateSettings
) -> list[TextBox]:
    """Text lines in a window around `proposal`, detected with its text scaled to plate-reading size."""
    h, w = image.shape[:2]
    gx, gy = _ROI_GROW[0] * proposal.w, _ROI_GROW[1] * proposal.h
    x0, y0 = max(0, int(proposal.x - gx)), max(0, int(proposal.y - gy))
    x1, y1 = min(w, int(proposal.x + proposal.w + gx)), min(h, int(proposal.y + proposal.h + gy))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return []
    scale = min(_ROI_SCALE_MAX, settings.roi_text_height_px / max(proposal.h, 1))
    boxes = engine.detect(
        image[y0:y1, x0:x1],
        scale,
        threshold=settings.det_threshold,
        box_threshold=settings.det_box_threshold,
        unclip_ratio=settings.det_unclip_ratio,
    )
    return [b.shifted(x0, y0) for b in boxes]


def detect_global(engine: OcrEngine, image: BGRImage, settings: PlateSettings) -> list[TextBox]:
    """Text lines found by detection on the whole image shrunk to `global_det_max_side`."""
    if settings.global_det_max_side <= 0:
        return []
    longest = max(image.shape[:2])
    scale = min(1.0, settings.global_det_max_side / longest)
    small = longest <= settings.global_det_max_side  # a small image or region: cheap to look twice
    return _detect_scales(engine, image, scale, settings, settings.extra_det_scales if small else ())


def _detect_scales(
    engine: OcrEngine, image: BGRImage, scale: float, settings: PlateSettings, extra: Sequence[float]
) -> list[TextBox]:
    """Text lines detected at `scale` and at each of the `extra` multiples of it.

    Text detection finds characters of a limited height relative to its input: a registration
    that fills half a close-up is missed at one scale and found at another, while the smaller
    state name beside it is found at both.
    """
    boxes: list[TextBox] = []
    for factor in (1.0, *extra):
        boxes.extend(
            engine.detect(
                image,
                scale * factor,
                threshold=settings.det_threshold,
                box_threshold=settings.det_box_threshold,
                unclip_ratio=settings.det_unclip_ratio,
            )
        )
    return nms(boxes, _DUPLICATE_OVERLAP) if extra else boxes


def plate_shaped(box: TextBox, settings: PlateSettings) -> bool:
    """Whether a text line is tall enough to read and has the proportions of a plate's characters."""
    return (
        box.height >= settings.min_text_height_px
        and settings.min_text_aspect <= box.aspect <= settings.max_text_aspect
    )


def join_split_lines(boxes: list[TextBox], settings: PlateSettings) -> list[TextBox]:
    """Boxes joining two neighbours on one line (a plate the detector split at its emblem or hyphen)."""
    joined: list[TextBox] = []
    for a in boxes:
        for b in boxes:
            if b is a or b.centre[0] <= a.centre[0]:
                continue
            ha, hb = a.height, b.height
            if max(ha, hb) > _JOIN_HEIGHT_RATIO * min(ha, hb):
                continue
            if abs(a.centre[1] - b.centre[1]) > _JOIN_DY * max(ha, hb):
                continue
            _, _, a1, _ = a.bounds()
            b0, _, b1, _ = b.bounds()
            gap = b0 - a1
            if gap > _JOIN_MAX_GAP * max(ha, hb) or b1 <= a1:
                continue
            pts = np.concatenate([a.corners(), b.corners()])
            (cx, cy), size, angle = cv2.minAreaRect(pts)
            box = text_box((cx, cy), (size[0], size[1]), angle, min(a.score, b.score))
            if plate_shaped(box, settings):
                joined.append(box)
    return joined


def _covered(proposal: BBox, found: list[tuple[float, float, float, float]]) -> bool:
    """Whether a text line already found runs through the proposal's centre at a similar height."""
    cx, cy = proposal.centre
    return any(
        x0 <= cx <= x1 and y0 <= cy <= y1 and (y1 - y0) >= _COVER_HEIGHT * proposal.h
        for x0, y0, x1, y1 in found
    )


def _prior(box: TextBox) -> float:
    weight = 1.0 if _PLATE_ASPECT[0] <= box.aspect <= _PLATE_ASPECT[1] else _ODD_ASPECT_WEIGHT
    return box.score * weight


def plate_text_lines(engine: OcrEngine, image: BGRImage, settings: PlateSettings) -> list[TextBox]:
    """Text lines in `image` that may be plates, most plate-like first, at most `max_recognitions`.

    Lines found on the shrunk image, then edge proposals that no such line explains, detected
    again at plate scale.
    """
    boxes: list[TextBox] = detect_global(engine, image, settings)
    found = [b.bounds() for b in boxes if plate_shaped(b, settings)]
    proposals = [p for p in edge_proposals(image, settings) if not _covered(p, found)]
    for proposal in proposals[: settings.max_proposals]:
        boxes.extend(detect_in_proposal(engine, image, proposal, settings))
    shaped = nms([b for b in boxes if plate_shaped(b, settings)], _DUPLICATE_OVERLAP)
    candidates = shaped + join_split_lines(shaped, settings)
    candidates.sort(key=_prior, reverse=True)
    return candidates[: settings.max_recognitions]


def lines_in_plate(engine: OcrEngine, image: BGRImage, plate: BBox, settings: PlateSettings) -> list[TextBox]:
    """Text lines on a detected plate, tallest first, in `image` pixels.

    The plate's window (grown by `_PLATE_GROW` so characters the box cuts are inside) is detected
    with the plate scaled to `plate_text_height_px`; lines whose centre lies on the plate and that
    have a plate's proportions are kept, with pairs joined where the detector split the plate at
    its emblem or hyphen.
    """
    h, w = image.shape[:2]
    gx, gy = _PLATE_GROW[0] * plate.w, _PLATE_GROW[1] * plate.h
    x0, y0 = max(0, int(plate.x - gx)), max(0, int(plate.y - gy))
    x1, y1 = min(w, int(np.ceil(plate.x + plate.w + gx))), min(h, int(np.ceil(plate.y + plate.h + gy)))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return []
    scale = min(_PLATE_SCALE_MAX, settings.plate_text_height_px / max(plate.h, 1))
    boxes = _detect_scales(engine, image[y0:y1, x0:x1], scale, settings, settings.extra_det_scales)
    on_plate = [
        b.shifted(x0, y0)
        for b in boxes
        if plate.x - x0 <= b.centre[0] <= plate.x - x0 + plate.w
        and plate.y - y0 <= b.centre[1] <= plate.y - y0 + plate.h
    ]
    shaped = nms([b for b in on_plate if plate_shaped(b, settings)], _DUPLICATE_OVERLAP)
    lines = shaped + join_split_lines(shaped, settings)
    lines.sort(key=lambda b: -b.height)
    return lines


def bbox_of(boxes: Iterable[TextBox]) -> BBox:
    """The pixel box around text boxes (rounded outwards)."""
    x0 = y0 = float("inf")
    x1 = y1 = float("-inf")
    for b in boxes:
        bx0, by0, bx1, by1 = b.bounds()
        x0, y0, x1, y1 = min(x0, bx0), min(y0, by0), max(x1, bx1), max(y1, by1)
    return BBox(
        int(np.floor(x0)), int(np.floor(y0)), int(np.ceil(x1 - np.floor(x0))), int(np.ceil(y1 - np.floor(y0)))
    )
