"""The quality gate: eye distance, sharpness and yaw from landmarks, each with its threshold."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from safecity.analytics.faces.alignment import FaceAligner, Landmarks
from safecity.analytics.faces.detector import FaceDetector
from safecity.analytics.faces.quality import assess, sharpness
from safecity.config import FaceSettings
from safecity.sim.faces import reference_image

FRONTAL = Landmarks(((120.0, 100.0), (105.0, 100.0), (60.0, 100.0), (75.0, 100.0), (90.0, 130.0)))


@pytest.fixture(scope="module")
def hopper_chip() -> np.ndarray:
    image = np.ascontiguousarray(cv2.cvtColor(reference_image("grace_hopper"), cv2.COLOR_BGR2RGB))
    box = FaceDetector(FaceSettings()).detect(image)[0].bbox
    return FaceAligner().align(image, box).chip


def test_frontal_landmarks_have_no_yaw() -> None:
    assert FRONTAL.yaw == pytest.approx(0.0)
    assert FRONTAL.eye_distance == pytest.approx(45.0)


def test_yaw_ignores_roll() -> None:
    angle = np.deg2rad(30)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = tuple(tuple(float(v) for v in rot @ np.array(p)) for p in FRONTAL.points)
    assert Landmarks(pts).yaw == pytest.approx(0.0, abs=1e-9)  # type: ignore[arg-type]


def test_nose_to_one_side_is_yaw() -> None:
    p = FRONTAL.points
    turned = Landmarks((p[0], p[1], p[2], p[3], (110.0, 130.0)))
    assert abs(turned.yaw) == pytest.approx(20 / 45)


def test_sharp_portrait_passes(hopper_chip: np.ndarray) -> None:
    quality = assess(FRONTAL, hopper_chip, FaceSettings())
    assert quality.passed, quality.reason
    assert 0 < quality.score <= 1


def test_blurring_lowers_sharpness(hopper_chip: np.ndarray) -> None:
    blurred = cv2.GaussianBlur(hopper_chip, (0, 0), 4)
    assert sharpness(blurred) < sharpness(hopper_chip) / 4


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"min_eye_distance_px": 80.0}, "too small"),
        ({"min_sharpness": 1e6}, "blurred"),
        ({"max_yaw": 0.1}, "turned away"),
    ],
    ids=["small", "blurred", "turned"],
)
def test_gate_names_why_a_face_fails(
    hopper_chip: np.ndarray, override: dict[str, float], reason: str
) -> None:
    p = FRONTAL.points
    landmarks = Landmarks((p[0], p[1], p[2], p[3], (100.0, 130.0)))  # yaw ~0.19
    quality = assess(landmarks, hopper_chip, FaceSettings(**override))  # type: ignore[arg-type]
    assert not quality.passed
    assert reason in quality.reason
