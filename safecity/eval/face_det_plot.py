"""The DET plot of `safecity eval faces --plot`: TPIR against FPIR (log scale), one line per technique.

Owns drawing the curves of an `OpenSetReport` into a PNG with OpenCV (no plotting library needed on
a server), with the target FPIR marked and the decision rule's results at its default as points.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from safecity.eval.face_openset import OpenSetReport

SIZE = (900, 600)
MARGIN = (80, 40, 40, 70)
"""Left, top, right, bottom, in pixels."""
FPIR_RANGE = (1e-3, 1.0)
COLOURS = ((90, 90, 90), (200, 120, 0), (0, 140, 255), (160, 0, 160), (0, 160, 0))
"""BGR per technique, in `TECHNIQUES` order."""
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _x(fpir: float) -> int:
    left, _, right, _ = MARGIN
    lo, hi = (math.log10(v) for v in FPIR_RANGE)
    share = (math.log10(max(fpir, FPIR_RANGE[0])) - lo) / (hi - lo)
    return round(left + share * (SIZE[0] - left - right))


def _y(tpir: float) -> int:
    _, top, _, bottom = MARGIN
    return round(SIZE[1] - bottom - tpir * (SIZE[1] - top - bottom))


def write_det_plot(report: OpenSetReport, path: Path) -> None:
    """Draw the DET curves and the default points of `report` into the PNG at `path`."""
    image = np.full((SIZE[1], SIZE[0], 3), 255, np.uint8)
    left, top, right, bottom = MARGIN
    for decade in range(-3, 1):
        x = _x(10.0**decade)
        cv2.line(image, (x, top), (x, SIZE[1] - bottom), (225, 225, 225), 1)
        cv2.putText(image, f"{10.0**decade:g}", (x - 18, SIZE[1] - bottom + 22), FONT, 0.45, (0, 0, 0), 1)
    for tenth in range(0, 11, 2):
        y = _y(tenth / 10)
        cv2.line(image, (left, y), (SIZE[0] - right, y), (225, 225, 225), 1)
        cv2.putText(image, f"{tenth / 10:.1f}", (left - 40, y + 5), FONT, 0.45, (0, 0, 0), 1)
    cv2.rectangle(image, (left, top), (SIZE[0] - right, SIZE[1] - bottom), (0, 0, 0), 1)
    cv2.putText(
        image, "FPIR (strangers raising an alert)", (left + 220, SIZE[1] - 20), FONT, 0.5, (0, 0, 0), 1
    )
    cv2.putText(image, "TPIR", (10, top + 45), FONT, 0.5, (0, 0, 0), 1)
    for i, technique in enumerate(report.techniques):
        colour = COLOURS[i % len(COLOURS)]
        points = np.array([(_x(f), _y(t)) for f, t in technique.curve], np.int32)
        cv2.polylines(image, [points], False, colour, 2, cv2.LINE_AA)
        label_y = SIZE[1] - bottom - 20 - 20 * (len(report.techniques) - 1 - i)
        cv2.line(image, (SIZE[0] - right - 250, label_y - 4), (SIZE[0] - right - 220, label_y - 4), colour, 2)
        cv2.putText(image, technique.name, (SIZE[0] - right - 212, label_y), FONT, 0.45, (0, 0, 0), 1)
    for default in report.defaults:
        centre = (_x(default.fpir), _y(default.tpir))
        cv2.drawMarker(image, centre, (0, 0, 200), cv2.MARKER_TILTED_CROSS, 14, 2)
        cv2.putText(image, default.name, (centre[0] + 8, centre[1] + 16), FONT, 0.4, (0, 0, 200), 1)
    target = report.defaults[0].target_fpir if report.defaults else 0.01
    cv2.line(image, (_x(target), top), (_x(target), SIZE[1] - bottom), (0, 0, 200), 1, cv2.LINE_4)
    title = (
        f"Watchlist DET: {report.n_gallery} enrolled (up to {report.enrol} photos), "
        f"{report.n_mated} mated probes, {report.n_nonmated} strangers"
    )
    cv2.putText(image, title, (left, top - 14), FONT, 0.5, (0, 0, 0), 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise ValueError(f"cannot write the plot to {path} (a .png path in a writable folder?)")
