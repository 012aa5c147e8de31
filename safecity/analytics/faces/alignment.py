"""Five-point landmarks and the aligned 150 px face chip that the embedding network reads.

dlib's 5-point shape predictor gives two corners per eye and the base of the nose; dlib's
`get_face_chip` rotates and scales the face so the eyes sit where the network was trained to see
them (padding 0.25 around the face, as dlib's own `compute_face_descriptor` does), which is why
both the dlib and the ONNX embedding paths take chips made here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dlib
import numpy as np

from safecity.analytics.faces.embedding import CHIP_PADDING, CHIP_SIZE
from safecity.analytics.faces.model_files import FaceModelFiles, face_model_files
from safecity.types import BBox, RGBImage

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Landmarks:
    """The 5 points in frame coordinates: outer and inner corner of each eye, then the nose base."""

    points: tuple[Point, Point, Point, Point, Point]

    @property
    def eye_centres(self) -> tuple[Point, Point]:
        p = self.points
        first = ((p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2)
        second = ((p[2][0] + p[3][0]) / 2, (p[2][1] + p[3][1]) / 2)
        return first, second

    @property
    def eye_distance(self) -> float:
        (ax, ay), (bx, by) = self.eye_centres
        return float(np.hypot(ax - bx, ay - by))

    @property
    def yaw(self) -> float:
        """Sideways offset of the nose from the eyes' midpoint along the eye line, in eye distances.

        About 0 for a frontal face and growing as the head turns; roll does not change it because
        the offset is measured along the line through the eyes.
        """
        (ax, ay), (bx, by) = self.eye_centres
        dist = self.eye_distance
        if dist == 0:
            return float("inf")
        ux, uy = (ax - bx) / dist, (ay - by) / dist
        mx, my = (ax + bx) / 2, (ay + by) / 2
        nx, ny = self.points[4]
        return float(((nx - mx) * ux + (ny - my) * uy) / dist)


@dataclass(frozen=True, slots=True, eq=False)
class AlignedFace:
    landmarks: Landmarks
    chip: RGBImage
    """150 x 150 RGB uint8, eyes at fixed positions."""


class FaceAligner:
    """Landmarks and chips for detected faces; loads the 9 MB 5-point model once."""

    def __init__(self, models: FaceModelFiles | None = None) -> None:
        self._predictor: Any = dlib.shape_predictor(str((models or face_model_files()).shape_5))

    def align(self, image: RGBImage, box: BBox) -> AlignedFace:
        image = np.ascontiguousarray(image)
        rect = dlib.rectangle(box.x, box.y, box.x + box.w - 1, box.y + box.h - 1)
        shape = self._predictor(image, rect)
        points = tuple((float(p.x), float(p.y)) for p in shape.parts())
        if len(points) != 5:
            raise ValueError(f"the shape predictor returned {len(points)} points, expected 5")
        chip = np.asarray(dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING), np.uint8)
        return AlignedFace(Landmarks(points), chip)
