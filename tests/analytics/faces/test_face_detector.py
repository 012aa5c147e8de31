"""The dlib face detector wrapper: whole images, moving regions, input checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from safecity.analytics.faces.detector import FaceDetection, FaceDetector, grow, iou
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


# Small faces in moving regions: grace_hopper's portrait shrunk until its face is ~48 px wide (HOG
# at 1x finds faces from ~60-70 px), pasted into a CCTV-sized frame at a known place.
SMALL_FACE_PX = 48
HOPPER_FACE_PX = 216  # the face box HOG finds in the full-size portrait


def _small_face_frame(at: tuple[int, int] = (300, 200)) -> tuple[np.ndarray, BBox]:
    """A 640x480 frame holding the shrunk portrait, and the portrait's box (a narrow moving region)."""
    scale = SMALL_FACE_PX / HOPPER_FACE_PX
    small = cv2.resize(_rgb("grace_hopper"), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640, 3), 90, np.uint8)
    x, y = at
    frame[y : y + small.shape[0], x : x + small.shape[1]] = small
    return frame, BBox(x, y, small.shape[1], small.shape[0])


@pytest.mark.parametrize(
    ("settings", "faces"),
    [(FaceSettings(), 1), (FaceSettings(small_face_upsample=False), 0)],
    ids=["enlarged", "at 1x"],
)
def test_a_small_face_in_a_narrow_region_needs_the_enlargement(settings: FaceSettings, faces: int) -> None:
    frame, region = _small_face_frame()
    assert len(FaceDetector(settings).detect_regions(frame, [region])) == faces


def test_upsample_0_on_the_whole_frame_misses_the_small_face(hog: FaceDetector) -> None:
    frame, _ = _small_face_frame()
    assert hog.detect(frame) == []


@pytest.mark.parametrize("at", [(300, 200), (17, 333)], ids=["centre", "near the bottom-left"])
def test_boxes_from_an_enlarged_region_are_in_frame_coordinates(
    hog: FaceDetector, at: tuple[int, int]
) -> None:
    frame, region = _small_face_frame(at)
    alone = frame[region.y : region.y + region.h, region.x : region.x + region.w]
    truth = FaceDetector(FaceSettings(upsample=1)).detect(alone)[0].bbox
    found = hog.detect_regions(frame, [region])
    assert len(found) == 1
    assert iou(found[0].bbox, BBox(truth.x + region.x, truth.y + region.y, truth.w, truth.h)) > 0.5


def test_a_wide_region_is_searched_at_1x(hog: FaceDetector) -> None:
    frame, region = _small_face_frame()
    wide = BBox(region.x - 100, region.y, hog.settings.small_region_max_width + 1, region.h)
    assert hog.detect_regions(frame, [wide]) == []


@pytest.mark.parametrize(
    ("width", "override", "scale"),
    [
        (240, {}, 2.0),
        (241, {}, 1.0),
        (100, {"small_region_scale": 1.5}, 1.5),
        (100, {"small_face_upsample": False}, 1.0),
        (100, {"upsample": 1}, 1.0),
    ],
    ids=["narrow", "wide", "city scale", "switched off", "frame already upsampled"],
)
def test_region_scale(width: int, override: dict[str, object], scale: float) -> None:
    detector = FaceDetector(FaceSettings(**override))  # type: ignore[arg-type]
    assert detector.region_scale(BBox(0, 0, width, 300)) == scale


def _crowd() -> tuple[np.ndarray, list[BBox]]:
    """Two small faces, and ten copies of the first one's region: enlarged, they outweigh the frame."""
    frame, first = _small_face_frame((60, 200))
    second, _ = _small_face_frame((400, 200))
    frame[:, 320:] = second[:, 320:]
    return frame, [first] * 10


def test_a_crowd_of_narrow_regions_is_searched_in_one_pass(
    hog: FaceDetector, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame, regions = _crowd()
    shapes: list[tuple[int, ...]] = []
    detect = hog.detect

    def spy(image: np.ndarray) -> list[FaceDetection]:
        shapes.append(image.shape)
        return detect(image)

    monkeypatch.setattr(hog, "detect", spy)
    hog.detect_regions(frame, regions)
    assert shapes == [(960, 1280, 3)]


def test_the_one_pass_keeps_only_faces_inside_the_regions(hog: FaceDetector) -> None:
    frame, regions = _crowd()
    found = hog.detect_regions(frame, regions)
    assert len(found) == 1
    assert _centre_x(found[0].bbox) < 320


def _centre_x(box: BBox) -> float:
    return box.x + box.w / 2
