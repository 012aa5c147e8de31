"""The motion gate: finds moving objects after warm-up, stays quiet on static scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from videos import T0, frame_at, noisy_grey, square_clip

from safecity.analytics.motion import MotionGate, MotionResult
from safecity.config import MotionSettings
from safecity.sources.file import FileSource
from safecity.types import BBox, BGRImage

SETTINGS = MotionSettings()  # warm-up 5 frames, 640 px working width
ENTERS_AT = 10  # the square enters after the warm-up, as a car enters an empty street


@pytest.fixture(scope="module")
def moving_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[BBox | None]]:
    path = tmp_path_factory.mktemp("motion") / "moving.mp4"
    return path, square_clip(path, enter_at=ENTERS_AT)


def detect_all(path: Path, settings: MotionSettings = SETTINGS) -> list[MotionResult]:
    gate = MotionGate(settings)
    with FileSource(path, "cam-1", start_time=T0, sample_fps=None) as source:
        return [gate.detect(frame) for frame in source]


def detect_images(images: list[BGRImage], settings: MotionSettings = SETTINGS) -> list[MotionResult]:
    gate = MotionGate(settings)
    return [gate.detect(frame_at(i, image)) for i, image in enumerate(images)]


def best_iou(result: MotionResult, truth: BBox) -> float:
    return max((blob.iou(truth) for blob in result.blobs), default=0.0)


def test_finds_the_moving_square(moving_clip: tuple[Path, list[BBox | None]]) -> None:
    path, truth = moving_clip

    results = detect_all(path)

    shown = [(result, box) for result, box in zip(results, truth, strict=True) if box is not None]
    assert len(shown) > 40
    assert all(result.moving and best_iou(result, box) > 0.5 for result, box in shown)


def test_reports_no_motion_while_the_scene_is_empty(moving_clip: tuple[Path, list[BBox | None]]) -> None:
    path, _ = moving_clip

    results = detect_all(path)

    assert not any(result.moving for result in results[:ENTERS_AT])


def test_static_clip_has_no_motion(tmp_path: Path) -> None:
    path = tmp_path / "static.mp4"
    square_clip(path, moving=False)

    results = detect_all(path)

    assert not any(result.moving for result in results)
    assert max(result.foreground_fraction for result in results) < 0.001


def test_warm_up_frames_report_no_motion() -> None:
    rng = np.random.default_rng(2)
    images = [noisy_grey(rng) for _ in range(SETTINGS.warmup_frames + 1)]
    for i, image in enumerate(images):
        image[100:140, 8 + 45 * i : 48 + 45 * i] = 255  # a square jumping to a new place each frame

    results = detect_images(images)

    assert results[:-1] == [MotionResult(False, (), 0.0)] * SETTINGS.warmup_frames
    assert results[-1].moving


def test_blobs_are_in_full_resolution_pixels(moving_clip: tuple[Path, list[BBox | None]]) -> None:
    path, truth = moving_clip

    results = detect_all(path, MotionSettings(downscale_width=160))  # works at half size

    shown = [(result, box) for result, box in zip(results, truth, strict=True) if box is not None]
    assert all(best_iou(result, box) > 0.5 for result, box in shown)


def _moving_patch(
    size: int, *, shade: float | None = None, frames: int = 20, appears_at: int = ENTERS_AT
) -> list[BGRImage]:
    """Noisy background with a square that is white, or the background darkened by `shade`."""
    rng = np.random.default_rng(3)
    images = []
    for i in range(frames):
        image = noisy_grey(rng)
        if i >= appears_at:
            x = 8 + 4 * (i - appears_at)
            patch = image[100 : 100 + size, x : x + size]
            patch[:] = 255 if shade is None else (patch * shade).astype(np.uint8)
        images.append(image)
    return images


def test_shadows_are_not_motion() -> None:
    results = detect_images(_moving_patch(40, shade=0.6), MotionSettings(detect_shadows=True))

    assert not any(result.moving for result in results)


def test_shadows_are_motion_when_shadow_detection_is_off() -> None:
    results = detect_images(_moving_patch(40, shade=0.6), MotionSettings(detect_shadows=False))

    assert all(result.moving for result in results[ENTERS_AT:])


def test_blobs_below_the_minimum_area_are_dropped() -> None:
    # 8x8 = 64 px, under 0.15% of 320x240 (115 px): moving pixels, but no blob.
    results = detect_images(_moving_patch(8))

    assert not any(result.moving for result in results)
    assert all(result.foreground_fraction > 0 for result in results[ENTERS_AT:])


def test_nested_blobs_are_merged_into_one() -> None:
    rng = np.random.default_rng(4)
    images = [noisy_grey(rng) for _ in range(ENTERS_AT + 1)]
    last = images[-1]
    # A "C" open to the right with a separate small square inside its bounding box.
    last[60:70, 40:120] = 255
    last[60:160, 40:50] = 255
    last[150:160, 40:120] = 255
    last[95:115, 80:100] = 255

    result = detect_images(images)[-1]

    assert len(result.blobs) == 1
    assert result.blobs[0].iou(BBox(40, 60, 80, 100)) > 0.9


def test_separate_objects_stay_separate_blobs() -> None:
    rng = np.random.default_rng(5)
    images = [noisy_grey(rng) for _ in range(ENTERS_AT + 1)]
    images[-1][40:80, 20:60] = 255
    images[-1][150:190, 220:260] = 255

    result = detect_images(images)[-1]

    assert sorted((b.x, b.y) for b in result.blobs) == [(20, 40), (220, 150)]


def test_a_new_resolution_restarts_the_warm_up() -> None:
    rng = np.random.default_rng(6)
    gate = MotionGate(SETTINGS)
    for i in range(ENTERS_AT):
        gate.detect(frame_at(i, noisy_grey(rng)))

    result = gate.detect(frame_at(ENTERS_AT, noisy_grey(rng, 160, 120)))

    assert not result.moving
    assert not gate.warmed_up


@pytest.mark.parametrize(
    "image",
    [np.zeros((240, 320), np.uint8), np.zeros((240, 320, 4), np.uint8), np.zeros((240, 320, 3), np.float32)],
    ids=["grey", "bgra", "float"],
)
def test_non_bgr_images_are_rejected(image: BGRImage) -> None:
    with pytest.raises(ValueError, match="BGR uint8"):
        MotionGate(SETTINGS).detect(frame_at(0, image))
