"""Face embeddings: 128-D vectors from aligned 150x150 face chips, by dlib's ResNet.

This module owns the embedder interface and its two backends:

- `OnnxEmbedder` runs the network rebuilt from dlib's weights (`dlib_net` + `onnx_net`) on
  onnxruntime: the production path, about 15 times faster than dlib's own code on one core
- `DlibEmbedder` calls dlib itself: the reference the ONNX path is tested and benchmarked against.

Chips are what `dlib.get_face_chip(image_rgb, shape_5, size=CHIP_SIZE, padding=CHIP_PADDING)`
returns; both backends give the same vectors (cosine distance below 1e-4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from safecity.analytics.faces.model_files import face_model_files
from safecity.analytics.faces.onnx_net import INPUT_NAME, OUTPUT_NAME, cached_onnx_model

CHIP_SIZE = 150
"""Side of the aligned face chip the network takes (`input_rgb_image_sized<150>`)."""
CHIP_PADDING = 0.25
"""`dlib.get_face_chip` padding the network was trained with."""
EMBEDDING_SIZE = 128

Backend = Literal["onnx", "dlib"]


class FaceEmbedder(Protocol):
    """Turns aligned RGB face chips (n, 150, 150, 3) uint8 into embeddings (n, 128) float32."""

    name: str

    def embed(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]: ...


def check_chips(chips: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The chips as a C-contiguous (n, 150, 150, 3) uint8 array, or a ValueError saying what is wrong."""
    if chips.dtype != np.uint8:
        raise ValueError(f"face chips must be uint8 RGB, got {chips.dtype}")
    if chips.ndim != 4 or chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
        raise ValueError(f"face chips must be (n, {CHIP_SIZE}, {CHIP_SIZE}, 3), got {chips.shape}")
    return np.ascontiguousarray(chips)


class DlibEmbedder:
    """dlib's own `face_recognition_model_v1`: the reference implementation."""

    name: str

    def __init__(self, resnet_path: Path | str) -> None:
        import dlib  # imported here so the ONNX path never loads dlib's 20 MB of native code

        self.name = "dlib"
        self._model = dlib.face_recognition_model_v1(str(resnet_path))

    def embed(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]:
        chips = check_chips(chips)
        if len(chips) == 0:
            return np.zeros((0, EMBEDDING_SIZE), np.float32)
        # the batch overload of compute_face_descriptor takes a list of 150x150 chips
        vectors = self._model.compute_face_descriptor(list(chips))
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32)


class OnnxEmbedder:
    """The ONNX rebuild of dlib's network on onnxruntime's CPU provider."""

    name: str

    def __init__(self, model_path: Path | str, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1  # the graph is a chain: nothing to run side by side
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.name = "onnx"
        self.threads = threads
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._float_input = self._session.get_inputs()[0].type != "tensor(uint8)"

    def embed(self, chips: NDArray[np.uint8]) -> NDArray[np.float32]:
        chips = check_chips(chips)
        if len(chips) == 0:
            return np.zeros((0, EMBEDDING_SIZE), np.float32)
        feed = chips.astype(np.float32) if self._float_input else chips
        (out,) = self._session.run([OUTPUT_NAME], {INPUT_NAME: feed})
        return np.asarray(out, dtype=np.float32)


def make_embedder(backend: Backend, cache_dir: Path, threads: int = 1) -> FaceEmbedder:
    """An embedder over the installed model files; the ONNX model is built into `cache_dir` once.

    `threads` applies to the ONNX backend; dlib's CPU code (as the dlib-bin wheel builds it)
    runs on one thread regardless.
    """
    resnet = face_model_files().resnet
    if backend == "onnx":
        return OnnxEmbedder(cached_onnx_model(resnet, cache_dir), threads=threads)
    if backend == "dlib":
        return DlibEmbedder(resnet)
    raise ValueError(f"unknown face embedding backend {backend!r} (expected 'onnx' or 'dlib')")
