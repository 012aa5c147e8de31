"""The dlib face detector wrapper: whole images, moving regions, input checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from safecity.analytics.faces.detector import FaceDetector, grow, iou
from safecity.config import FaceSettings
from safecity.sim.faces import reference_image
from safecity.types import BBox


@pytest.fixture(scope="module")
def hog() -> FaceDetector:
    return FaceDetector(FaceSettings())


def _rgb(name: str) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(reference_image(name), cv2.COLOR_BGR2RGB))


@pytest.mark.parametrize("name", ["grace_hopper", "eileen_collins"])
def test_finds_the_one_face_of_a_portrait(hog: FaceDetector, name: str) -> None:
    faces = hog.detect(_rgb(name))
    assert len(faces) == 1
    assert faces[0].score > 0.3


def test_finds_nothing_in_a_plain_image(hog: FaceDetector) -> None:
    assert hog.detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_region_detection_returns_frame_coordinates(hog: FaceDetector) -> None:
    image = _rgb("grace_hopper")
    whole = hog.detect(image)[0].bbox
    canvas = np.zeros((900, 1200, 3), np.uint8)
    canvas[200 : 200 + image.shape[0], 400 : 400 + image.shape[1]] = image
    region = BBox(400 + whole.x - 20, 200 + whole.y - 20, whole.w + 40, whole.h + 40)
    found = hog.detect_regions(canvas, [region])
    assert len(found) == 1
    assert (
        iou(found[0].bbox, BBox(whole.x + 400, whole.y + 200, whole.w, whole.h)) > 0.5
    )  # HOG boxes snap to its pyramid


def test_overlapping_regions_report_a_face_once(hog: FaceDetector) -> None:
    image = _rgb("eileen_collins")
    h, w = image.shape[:2]
    found = hog.detect_regions(image, [BBox(0, 0, w, h), BBox(10, 10, w - 20, h - 20)])
    assert len(found) == 1


@pytest.mark.parametrize(
    "image",
    [np.zeros((50, 50), np.uint8), np.zeros((50, 50, 3), np.float32), np.zeros((50, 50, 4), np.uint8)],
    ids=["grey", "float", "rgba"],
)
def test_rejects_images_that_are_not_rgb_uint8(hog: FaceDetector, image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        hog.detect(image)


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        (BBox(10, 10, 10, 10), BBox(5, 5, 20, 20)),
        (BBox(0, 0, 10, 10), BBox(0, 0, 15, 15)),
        (BBox(95, 95, 10, 10), BBox(90, 90, 10, 10)),
    ],
    ids=["inside", "top-left edge", "bottom-right edge"],
)
def test_grow_clips_to_the_frame(box: BBox, expected: BBox) -> None:
    assert grow(box, 0.5, 100, 100) == expected
