"""The quality gate: is a face large, sharp and frontal enough to be matched against a watchlist?

A small, blurred or turned face gives an embedding that lies far from everyone, or worse, close to
a stranger; matching it raises false alerts. The gate measures three things, each with a threshold
in settings: the distance between the eye centres in the frame (pixels of real resolution), the
variance of the Laplacian of the aligned chip (sharpness at the network's scale), and the yaw
proxy from the landmarks. `score` ranks the faces of one passage so the best ones are embedded.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from safecity.analytics.faces.alignment import Landmarks
from safecity.config import FaceSettings
from safecity.types import RGBImage

SATURATION = 3.0
"""Eye distance or sharpness this many times its minimum counts as fully good for ranking."""


@dataclass(frozen=True, slots=True)
class FaceQuality:
    eye_distance_px: float
    sharpness: float
    yaw: float
    score: float
    """0..1, for ranking the faces of one passage (not a probability)."""
    reason: str
    """Empty when the face passes the gate, else why it does not."""

    @property
    def passed(self) -> bool:
        return not self.reason


def sharpness(chip: RGBImage) -> float:
    grey = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def assess(landmarks: Landmarks, chip: RGBImage, settings: FaceSettings) -> FaceQuality:
    eyes = landmarks.eye_distance
    sharp = sharpness(chip)
    yaw = landmarks.yaw
    reasons = []
    if eyes < settings.min_eye_distance_px:
        reasons.append(f"too small (eyes {eyes:.0f} px apart < {settings.min_eye_distance_px:g})")
    if sharp < settings.min_sharpness:
        reasons.append(f"blurred (sharpness {sharp:.1f} < {settings.min_sharpness:g})")
    if abs(yaw) > settings.max_yaw:
        reasons.append(f"turned away (yaw {yaw:+.2f} beyond ±{settings.max_yaw:g})")
    size_term = min(1.0, eyes / (SATURATION * settings.min_eye_distance_px))
    sharp_term = min(1.0, sharp / (SATURATION * max(settings.min_sharpness, 1e-6)))
    pose_term = max(0.0, 1.0 - abs(yaw) / (2 * settings.max_yaw))
    score = float(np.clip(size_term * sharp_term * pose_term, 0.0, 1.0))
    return FaceQuality(eyes, sharp, yaw, score, "; ".join(reasons))
