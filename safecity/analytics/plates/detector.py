"""The learned plate detector: where plates are in a frame, whatever country printed them.

Owns `PlateDetector`, `PlateBox` and `DetectorModelError`. The model is the YOLOv8s-seg network
trained on plates that the `platedet` wheel on PyPI ships as `platedet/artifacts/platedet.onnx`
(Ultralytics export, licence AGPL-3.0 as its own metadata says; installed by `make install` with
`pip install --no-deps platedet==0.0.2`, because the wheel pins old pillow and opencv). Only the
model file is used, never the package's code, and nothing is downloaded: a missing file is a
`DetectorModelError` saying how to install it.

The exported graph is fixed to a 640x640 input and carries the segmentation head. At load time
the graph is rewritten for the input size asked for (the anchor grid and the box decoder's shape
constants follow the size; the network is fully convolutional) and cut after the box output, so
the mask prototypes are never computed. A 16:9 frame runs at 640x384 instead of a 640x640
letterbox. Measured on ../shared/data/plates, one thread, confidence 0.25, IoU >= 0.3 with the
labelled box: at 640x640 recall eu 0.985 / hr 1.0 / us 0.962 in 144 ms; at 640x384 the same recall
in 83 ms; at 544x320 0.969 / 1.0 / 0.923 in 59 ms. Synthetic plates pasted on a flat panel (no
car around them) are mostly not found, which is why the reader keeps text detection beside it.
"""

from __future__ import annotations

import importlib.metadata
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

from safecity.config import DETECTOR_SIDE_STEP
from safecity.types import BBox, BGRImage

DISTRIBUTION = "platedet"
DISTRIBUTION_VERSION = "0.0.2"
MODEL_MEMBER = "platedet/artifacts/platedet.onnx"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}=={DISTRIBUTION_VERSION} (make install does it)"

STRIDES = (8, 16, 32)
"""Output strides of the three YOLOv8 detection levels; input sides are multiples of the largest."""
PAD_VALUE = 114
"""Grey the network was trained with around a letterboxed image."""
SHAPE_STEP = DETECTOR_SIDE_STEP
"""Input sides are multiples of this (of the largest stride too): building a session for a new
shape costs ~120 ms, so sizes are bucketed (a 4:3 frame runs at 640x512, 16:9 at 640x384)."""
MAX_SESSIONS = 8
"""Input shapes kept ready at once (a camera's frames share one shape; regions are bucketed)."""

# Graph constants the exported decoder holds for a 640x640 input (checked when the model loads).
_DFL_SHAPE = "/model.22/dfl/Constant_output_0"
_DFL_OUT_SHAPE = "/model.22/dfl/Constant_1_output_0"
_ANCHORS = "/model.22/Constant_12_output_0"
_ANCHOR_STRIDES = "/model.22/Constant_15_output_0"
_INPUT = "images"
_BOXES = "output0"


class DetectorModelError(RuntimeError):
    """The plate-detector model is not installed or is not the graph this module knows how to resize."""


@dataclass(frozen=True, slots=True)
class PlateBox:
    """A plate the detector found: its box in image pixels and the detector's confidence."""

    bbox: BBox
    score: float


def model_path() -> Path:
    """The ONNX file inside the installed `platedet` distribution (its code is never imported)."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise DetectorModelError(f"the plate detector model is not installed: {INSTALL_HINT}") from exc
    path = Path(str(dist.locate_file(MODEL_MEMBER)))
    if not path.is_file():
        raise DetectorModelError(
            f"{MODEL_MEMBER} is missing from the installed {DISTRIBUTION}: {INSTALL_HINT}"
        )
    return path


def input_shape(height: int, width: int, side: int) -> tuple[int, int]:
    """(height, width) the network runs at for an image: the longest side scaled to at most `side`
    (never enlarged), both rounded up to a multiple of `SHAPE_STEP` (the image is letterboxed into
    it), so that images of many sizes share a few sessions."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if side < SHAPE_STEP or side % SHAPE_STEP:
        raise ValueError(f"detector input side must be a positive multiple of {SHAPE_STEP}, got {side}")
    scale = min(1.0, side / max(height, width))
    return (
        max(SHAPE_STEP, math.ceil(height * scale / SHAPE_STEP) * SHAPE_STEP),
        max(SHAPE_STEP, math.ceil(width * scale / SHAPE_STEP) * SHAPE_STEP),
    )


def resized_model(source: onnx.ModelProto, height: int, width: int) -> bytes:
    """The exported graph for a `height` x `width` input, cut after the box output."""
    if height % STRIDES[-1] or width % STRIDES[-1]:
        raise ValueError(f"input sides must be multiples of {STRIDES[-1]}, got {width}x{height}")
    model = onnx.ModelProto()
    model.CopyFrom(source)
    graph = model.graph
    cells = sum((height // s) * (width // s) for s in STRIDES)
    anchors, strides = [], []
    for s in STRIDES:
        gy, gx = np.meshgrid(np.arange(height // s) + 0.5, np.arange(width // s) + 0.5, indexing="ij")
        anchors.append(np.stack([gx.ravel(), gy.ravel()]))
        strides.append(np.full(gx.size, s))
    replace: dict[str, np.ndarray] = {
        _DFL_SHAPE: np.array([1, 4, 16, cells], np.int64),
        _DFL_OUT_SHAPE: np.array([1, 4, cells], np.int64),
        _ANCHORS: np.concatenate(anchors, axis=1)[None].astype(np.float16),
        _ANCHOR_STRIDES: np.concatenate(strides)[None].astype(np.float16),
    }
    found = set()
    for init in graph.initializer:
        if init.name in replace:
            init.CopyFrom(numpy_helper.from_array(replace[init.name], init.name))
            found.add(init.name)
    if found != set(replace) or graph.input[0].name != _INPUT:
        raise DetectorModelError(
            f"{DISTRIBUTION} model graph is not the YOLOv8 export this reader resizes "
            f"(missing constants {sorted(set(replace) - found)}); "
            f"install {DISTRIBUTION}=={DISTRIBUTION_VERSION}"
        )
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_value, dims[3].dim_value = height, width
    del graph.value_info[:]  # shapes inferred for 640x640 would contradict the new size
    del graph.output[:]
    graph.output.extend([helper.make_tensor_value_info(_BOXES, onnx.TensorProto.FLOAT16, None)])
    cut = onnx.utils.Extractor(model).extract_model([_INPUT], [_BOXES])
    return bytes(cut.SerializeToString())


class PlateDetector:
    """Finds plates in BGR images; one instance per worker (it holds onnxruntime sessions)."""

    def __init__(
        self, *, side: int = 640, threads: int = 1, min_score: float = 0.1, overlap: float = 0.5
    ) -> None:
        if not 0.0 < min_score < 1.0:
            raise ValueError(f"min_score must be in (0, 1), got {min_score}")
        if not 0.0 < overlap <= 1.0:
            raise ValueError(f"overlap must be in (0, 1], got {overlap}")
        input_shape(side, side, side)  # validates the side
        self.side = side
        self.threads = threads
        self.min_score = min_score
        self.overlap = overlap
        self._source = onnx.load(str(model_path()))
        self._sessions: OrderedDict[tuple[int, int], ort.InferenceSession] = OrderedDict()

    def _session(self, shape: tuple[int, int]) -> ort.InferenceSession:
        session = self._sessions.get(shape)
        if session is not None:
            self._sessions.move_to_end(shape)
            return session
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        session = ort.InferenceSession(
            resized_model(self._source, *shape), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._sessions[shape] = session
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def detect(self, image: BGRImage) -> list[PlateBox]:
        """Plates in `image`, most confident first, overlapping boxes reduced to the best one."""
        h, w = image.shape[:2]
        rh, rw = input_shape(h, w, self.side)
        scale = min(rh / h, rw / w)
        nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
        canvas = np.full((rh, rw, 3), PAD_VALUE, np.uint8)
        interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
        canvas[:nh, :nw] = image if (nh, nw) == (h, w) else cv2.resize(image, (nw, nh), interpolation=interp)
        x = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float16) / np.float16(255.0)
        out = np.asarray(self._session((rh, rw)).run(None, {_INPUT: x})[0])[0].astype(np.float32)
        scores = out[4]
        keep = np.flatnonzero(scores >= self.min_score)
        keep = keep[np.argsort(-scores[keep])]
        kept: list[PlateBox] = []
        for i in keep:
            cx, cy, bw, bh = (float(v) / scale for v in out[:4, i])
            x0, y0 = max(0.0, cx - bw / 2.0), max(0.0, cy - bh / 2.0)
            x1, y1 = min(float(w), cx + bw / 2.0), min(float(h), cy + bh / 2.0)
            if x1 - x0 < 2.0 or y1 - y0 < 2.0:
                continue
            box = BBox(round(x0), round(y0), round(x1 - x0), round(y1 - y0))
            if all(box.iou(k.bbox) < self.overlap for k in kept):
                kept.append(PlateBox(box, float(scores[i])))
        return kept
