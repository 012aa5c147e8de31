"""The learned plate detector: the model from the installed wheel, input sizes, the resized graph, detection.

Real-image checks read ../shared/data/plates and are skipped without it. They show the detector
works on a scene of each set; its recall per set is measured by `safecity eval plates`, not here.
"""

from __future__ import annotations

import csv
import importlib.metadata
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from safecity.analytics.plates.detector import (
    DISTRIBUTION,
    INSTALL_HINT,
    MAX_SESSIONS,
    SHAPE_STEP,
    STRIDES,
    DetectorModelError,
    PlateDetector,
    input_shape,
    model_path,
    resized_model,
)
from safecity.governance.egress import EgressRecorder
from safecity.types import BBox

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "plates"
DETECT_IOU = 0.3
"""A detected box finds the labelled plate at this IoU or more (as in `safecity eval plates`)."""
BOX_ROWS = 5 + 32
"""Rows of the box output: centre x, centre y, width, height, plate score, 32 mask coefficients."""

# One scene per boxes set: the first image by name of eu and hr, and the first 720p (16:9)
# scene of us in which the detector finds the plate (the first two by name hold plates too small
# for it at 640 px; recall is the evaluation's business).
SCENES = [("eu", "eu1.jpg"), ("hr", "1.jpg"), ("us", "37170dd1-2802-4e38-b982-c5d07c64ff67.jpg")]


@pytest.fixture(scope="module")
def detector() -> Iterator[PlateDetector]:
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield PlateDetector()
    cv2.setNumThreads(threads)


@pytest.fixture(scope="module")
def source() -> onnx.ModelProto:
    return onnx.load(str(model_path()))


def scene(name: str, file: str) -> tuple[np.ndarray, BBox]:
    """A shared scene and its labelled plate box; skipped when the shared data is not there."""
    labels = DATA / name / "labels.csv"
    if not labels.is_file():
        pytest.skip(f"shared plate set not found beside the repository: {labels}")
    with labels.open(newline="", encoding="utf-8") as fh:
        row = next(r for r in csv.DictReader(fh) if r["file"] == file)
    image = cv2.imread(str(DATA / name / file), cv2.IMREAD_COLOR)
    assert image is not None, f"cannot decode {DATA / name / file}"
    return image, BBox(*(int(row[k]) for k in ("x", "y", "w", "h")))


def blank(shape: tuple[int, int]) -> np.ndarray:
    """A flat grey image of `shape` (height, width)."""
    return np.full((*shape, 3), 128, np.uint8)


# -- the model file ---------------------------------------------------------------------------------


def test_model_comes_from_the_installed_wheel_without_its_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "platedet", raising=False)
    PlateDetector()
    path = model_path()
    assert path.name == "platedet.onnx" and path.stat().st_size > 0
    assert path.is_relative_to(Path(str(importlib.metadata.distribution(DISTRIBUTION).locate_file(""))))
    assert "platedet" not in sys.modules


def test_a_missing_distribution_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> importlib.metadata.Distribution:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(DetectorModelError, match="not installed") as caught:
        PlateDetector()
    assert INSTALL_HINT in str(caught.value)


def test_a_distribution_without_the_model_file_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class Empty:
        def locate_file(self, member: str) -> Path:
            return tmp_path / member

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Empty())
    with pytest.raises(DetectorModelError, match="is missing from the installed") as caught:
        model_path()
    assert INSTALL_HINT in str(caught.value)


# -- input sizes ------------------------------------------------------------------------------------


# SHAPE_STEP is 128: sizes are bucketed so that frames and regions of many sizes share a few sessions.
@pytest.mark.parametrize(
    ("height", "width", "side", "expected"),
    [
        (720, 1280, 640, (384, 640)),  # 16:9 runs at 640x384 (360 rounded up), not a 640x640 letterbox
        (1080, 1920, 640, (384, 640)),
        (480, 640, 640, (512, 640)),  # 4:3
        (1280, 720, 640, (640, 384)),  # portrait
        (1080, 1920, 512, (384, 512)),  # 288 rounded up
        (100, 1000, 640, (128, 640)),  # a wide strip: one step high
        (200, 300, 640, (256, 384)),  # never enlarged: only rounded up to the step
        (20, 30, 640, (128, 128)),  # tiny: one step at least
        (1, 1, 640, (128, 128)),
        (640, 640, 640, (640, 640)),
    ],
    ids=[
        "16:9",
        "1080p",
        "4:3",
        "portrait",
        "side-512",
        "strip",
        "not-enlarged",
        "tiny",
        "one-pixel",
        "square",
    ],
)
def test_input_shape(height: int, width: int, side: int, expected: tuple[int, int]) -> None:
    shape = input_shape(height, width, side)
    assert shape == expected
    assert all(s % SHAPE_STEP == 0 and s % STRIDES[-1] == 0 for s in shape)


@pytest.mark.parametrize(
    ("height", "width", "side", "message"),
    [
        (0, 640, 640, "positive"),
        (480, 0, 640, "positive"),
        (-1, 640, 640, "positive"),
        (480, 640, 32, "multiple of 128"),
        (480, 640, 200, "multiple of 128"),
        (480, 640, 0, "multiple of 128"),
    ],
    ids=["zero-height", "zero-width", "negative", "side-below-step", "side-off-step", "side-zero"],
)
def test_input_shape_rejects_bad_values(height: int, width: int, side: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        input_shape(height, width, side)


# -- the resized graph ------------------------------------------------------------------------------


@pytest.mark.parametrize(("height", "width"), [(384, 640), (640, 384), (320, 544), (32, 32)])
def test_resized_model_outputs_boxes_for_every_cell(source: onnx.ModelProto, height: int, width: int) -> None:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        resized_model(source, height, width), sess_options=options, providers=["CPUExecutionProvider"]
    )
    outputs = session.run(None, {"images": np.zeros((1, 3, height, width), np.float16)})
    cells = sum((height // s) * (width // s) for s in STRIDES)
    assert len(outputs) == 1  # cut after the boxes: no mask prototypes
    assert outputs[0].shape == (1, BOX_ROWS, cells)


def test_resized_model_rejects_sides_off_the_stride(source: onnx.ModelProto) -> None:
    with pytest.raises(ValueError, match="multiples of 32"):
        resized_model(source, 360, 640)


def test_a_graph_without_the_decoder_constants_is_refused(source: onnx.ModelProto) -> None:
    other = onnx.ModelProto()
    other.CopyFrom(source)
    (anchors,) = [i for i in other.graph.initializer if i.name == "/model.22/Constant_12_output_0"]
    anchors.name = "renamed"
    with pytest.raises(DetectorModelError, match="Constant_12_output_0"):
        resized_model(other, 384, 640)


# -- detection --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "file"), SCENES, ids=[name for name, _ in SCENES])
def test_detect_finds_the_labelled_plate(detector: PlateDetector, name: str, file: str) -> None:
    image, label = scene(name, file)
    found = detector.detect(image)
    assert max((p.bbox.iou(label) for p in found), default=0.0) >= DETECT_IOU, found


@pytest.mark.parametrize(("name", "file"), SCENES, ids=[name for name, _ in SCENES])
def test_detected_boxes_lie_inside_the_image(detector: PlateDetector, name: str, file: str) -> None:
    image, _ = scene(name, file)
    h, w = image.shape[:2]
    found = detector.detect(image)
    assert found
    for plate in found:
        box = plate.bbox
        assert min(box.x, box.y) >= 0 and min(box.w, box.h) > 0, box
        assert box.x + box.w <= w and box.y + box.h <= h, box


def test_detections_come_best_first_and_above_the_minimum_score(detector: PlateDetector) -> None:
    image, _ = scene(*SCENES[0])
    scores = [p.score for p in detector.detect(image)]
    assert scores == sorted(scores, reverse=True)
    assert all(detector.min_score <= s <= 1.0 for s in scores)


@pytest.mark.parametrize("size", [(480, 640), (720, 1280), (20, 30)], ids=["4:3", "16:9", "tiny"])
def test_a_blank_image_has_no_plates(detector: PlateDetector, size: tuple[int, int]) -> None:
    assert detector.detect(blank(size)) == []


# Distinct input shapes no larger than the default side, so each image runs at its own size.
SHAPES = [(SHAPE_STEP * a, SHAPE_STEP * b) for a in range(1, 6) for b in range(1, 6)][: MAX_SESSIONS + 2]


def test_the_session_cache_keeps_at_most_max_sessions_shapes() -> None:
    detector = PlateDetector()
    for shape in SHAPES:
        detector.detect(blank(shape))
    assert list(detector._sessions) == SHAPES[-MAX_SESSIONS:]


def test_the_session_cache_drops_the_least_recently_used_shape() -> None:
    detector = PlateDetector()
    for shape in SHAPES[:MAX_SESSIONS]:
        detector.detect(blank(shape))
    detector.detect(blank(SHAPES[0]))  # used again: now the most recent
    detector.detect(blank(SHAPES[MAX_SESSIONS]))
    assert SHAPES[0] in detector._sessions
    assert SHAPES[1] not in detector._sessions
    assert len(detector._sessions) == MAX_SESSIONS


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_score": 0.0}, "min_score"),
        ({"min_score": 1.0}, "min_score"),
        ({"min_score": -0.1}, "min_score"),
        ({"overlap": 0.0}, "overlap"),
        ({"overlap": 1.5}, "overlap"),
        ({"side": 16}, "multiple of 128"),
        ({"side": 600}, "multiple of 128"),
    ],
    ids=["score-0", "score-1", "score-negative", "overlap-0", "overlap-above-1", "side-16", "side-600"],
)
def test_bad_detector_settings_raise(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PlateDetector(**kwargs)


def test_building_and_detecting_opens_no_network_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    recorder = EgressRecorder.instance()
    with recorder.session():
        offline = PlateDetector()
        offline.detect(np.full((360, 640, 3), 128, np.uint8))
    assert recorder.attempts() == []
