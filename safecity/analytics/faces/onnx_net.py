"""dlib's face-embedding ResNet as an ONNX graph, built from the weights `dlib_net` parses.

This module owns the translation of dlib's layer semantics into ONNX operators and the on-disk
cache of the built model. The graph takes N x 150 x 150 x 3 RGB chips (uint8 or float32, as
`dlib.get_face_chip` returns them) and does dlib's input normalisation and the NHWC -> NCHW
transpose itself, so callers hand over chips untouched. Each `affine_` (dlib's frozen batch
norm) is folded into the convolution below it; everything stays float32.

dlib's `add_prev` makes each output dimension the larger of its two inputs' and treats missing
elements as 0 (layers.h, cpu_dlib.cpp `add`). In the down-sampling blocks the strided 3x3 conv
and the 2x2 average pool of the shortcut round sizes differently (8 -> 3 vs 4, then 4 -> 1 vs 2),
so the feature maps run 150 -> 72 -> 35 -> 17 -> 8 -> 4 -> 2 -> 1, with the block's output
zero-padded at the bottom/right and the shortcut's channels zero-padded, exactly as dlib does.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from safecity.analytics.faces.dlib_net import (
    AddPrev,
    Affine,
    Conv,
    FullyConnected,
    Pool,
    Relu,
    ResNetWeights,
    Skip,
    Tag,
    read_resnet,
)

InputType = Literal["uint8", "float32"]

INPUT_NAME = "chips"
OUTPUT_NAME = "embedding"
OPSET = 17
IR_VERSION = 8  # what onnxruntime >= 1.17 (the oldest we allow) reads
BUILD_VERSION = 1
"""Bump when the graph this module builds changes, so cached models from older code are not reused."""


@dataclass
class _Graph:
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    counter: int = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def const(self, prefix: str, value: NDArray[np.generic]) -> str:
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


@dataclass(frozen=True, slots=True)
class _Value:
    """A tensor in the graph with its static (channels, rows, cols), batch left dynamic."""

    name: str
    shape: tuple[int, int, int]


def _fold(
    conv: Conv, affine: Affine | None, input_scale: float = 1.0
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    # affine(conv(s*x)) = gamma * (s*W x + b) + beta: scale each output filter, in float64 so
    # the folded weights round once.
    weights = conv.filters.astype(np.float64) * input_scale
    out_channels = weights.shape[0]
    bias = conv.bias.astype(np.float64) if conv.bias is not None else np.zeros(out_channels)
    if affine is not None:
        gamma = affine.gamma.astype(np.float64)
        weights = weights * gamma[:, None, None, None]
        bias = bias * gamma + affine.beta.astype(np.float64)
    return weights.astype(np.float32), bias.astype(np.float32)


def _pad_to(g: _Graph, value: _Value, shape: tuple[int, int, int]) -> _Value:
    """Zero-pad at the end of channels/rows/cols: how dlib's add_prev treats missing elements."""
    channels, rows, cols = value.shape
    if shape[0] > channels:
        # A 1x1 conv with identity weights pads channels exactly (x*1 + 0s) and, unlike Pad,
        # stays in onnxruntime's blocked NCHWc layout, sparing two layout reorders per block.
        eye = np.eye(shape[0], channels, dtype=np.float32).reshape(shape[0], channels, 1, 1)
        value = _Value(
            g.op("Conv", [value.name, g.const("pad_W", eye)], kernel_shape=[1, 1]), (shape[0], rows, cols)
        )
    extra = [want - have for want, have in zip(shape[1:], (rows, cols), strict=True)]
    if not any(extra):
        return value
    pads = np.array([0, 0, 0, 0, 0, 0, *extra], dtype=np.int64)
    return _Value(g.op("Pad", [value.name, g.const("pads", pads)], mode="constant"), shape)


def build_onnx(weights: ResNetWeights, input_type: InputType = "uint8") -> onnx.ModelProto:
    """The network as an ONNX model: input `chips` (N, rows, cols, 3) RGB, output `embedding` (N, 128)."""
    g = _Graph()
    rows, cols = weights.input.rows, weights.input.cols
    # Transpose first: onnxruntime broadcasts a (1,3,1,1) mean over planes far faster than a
    # (3,) mean over interleaved pixels; the uint8 transpose also moves a quarter of the bytes.
    x = g.op("Transpose", [INPUT_NAME], perm=[0, 3, 1, 2])
    if input_type == "uint8":
        x = g.op("Cast", [x], to=TensorProto.FLOAT)
    mean = np.array(weights.input.mean_rgb, dtype=np.float32).reshape(1, 3, 1, 1)
    cur = _Value(g.op("Sub", [x, g.const("mean_rgb", mean)]), (3, rows, cols))
    # dlib's /256 is folded into the first conv's weights: a power-of-two scale is exact.
    input_scale = 1.0 / 256.0
    layers = weights.layers
    if not layers or not isinstance(layers[0], Conv):
        scale = g.const("scale", np.array(input_scale, dtype=np.float32))
        cur, input_scale = _Value(g.op("Mul", [cur.name, scale]), cur.shape), 1.0

    tags: dict[int, _Value] = {}
    i = 0
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, Conv):
            following = layers[i + 1] if i + 1 < len(layers) else None
            affine = following if isinstance(following, Affine) else None
            w, b = _fold(layer, affine, input_scale)
            input_scale = 1.0
            kh, kw = w.shape[2:]
            (sy, sx), (py, px) = layer.stride, layer.padding
            name = g.op(
                "Conv",
                [cur.name, g.const("W", w), g.const("B", b)],
                kernel_shape=[kh, kw],
                strides=[sy, sx],
                pads=[py, px, py, px],
            )
            c, h, wd = cur.shape
            cur = _Value(name, (w.shape[0], (h + 2 * py - kh) // sy + 1, (wd + 2 * px - kw) // sx + 1))
            i += 2 if affine is not None else 1
            continue
        if isinstance(layer, Affine):
            # only reached if an affine does not sit on a conv; this network has none
            c = cur.shape[0]
            gamma = g.const("gamma", layer.gamma.reshape(1, c, 1, 1))
            beta = g.const("beta", layer.beta.reshape(1, c, 1, 1))
            cur = _Value(g.op("Add", [g.op("Mul", [cur.name, gamma]), beta]), cur.shape)
        elif isinstance(layer, Relu):
            cur = _Value(g.op("Relu", [cur.name]), cur.shape)
        elif isinstance(layer, Pool):
            c, h, wd = cur.shape
            if layer.window == (0, 0):
                op = "GlobalAveragePool" if layer.kind == "avg" else "GlobalMaxPool"
                cur = _Value(g.op(op, [cur.name]), (c, 1, 1))
            else:
                (kh, kw), (sy, sx), (py, px) = layer.window, layer.stride, layer.padding
                if py or px:
                    # dlib's edge handling for padded pools is unverified here; this net has none
                    raise ValueError("padded pooling is not supported")
                op = "AveragePool" if layer.kind == "avg" else "MaxPool"
                name = g.op(op, [cur.name], kernel_shape=[kh, kw], strides=[sy, sx])
                cur = _Value(name, (c, (h - kh) // sy + 1, (wd - kw) // sx + 1))
        elif isinstance(layer, Tag):
            tags[layer.tag] = cur
        elif isinstance(layer, Skip):
            cur = tags[layer.tag]
        elif isinstance(layer, AddPrev):
            other = tags[layer.tag]
            (c1, h1, w1), (c2, h2, w2) = cur.shape, other.shape
            shape = (max(c1, c2), max(h1, h2), max(w1, w2))
            left, right = _pad_to(g, cur, shape), _pad_to(g, other, shape)
            cur = _Value(g.op("Add", [left.name, right.name]), shape)
        elif isinstance(layer, FullyConnected):
            flat = g.op("Flatten", [cur.name], axis=1)
            name = g.op("MatMul", [flat, g.const("fc_W", layer.weights)])
            if layer.bias is not None:
                name = g.op("Add", [name, g.const("fc_B", layer.bias)])
            cur = _Value(name, (int(layer.weights.shape[1]), 1, 1))
        i += 1

    # an Identity gives the output a fixed name whatever op ends the network
    g.nodes.append(helper.make_node("Identity", [cur.name], [OUTPUT_NAME], name="output"))
    elem = TensorProto.UINT8 if input_type == "uint8" else TensorProto.FLOAT
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(INPUT_NAME, elem, ["n", rows, cols, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["n", cur.shape[0]])],
        g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="safecity",
        doc_string="dlib_face_recognition_resnet_model_v1 rebuilt from its .dat weights",
    )
    model.ir_version = IR_VERSION
    return model


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_onnx_model(dat_path: Path | str, cache_dir: Path | str, input_type: InputType = "uint8") -> Path:
    """Path of the ONNX model built from `dat_path`, building it into `cache_dir` once.

    The file name carries the .dat's SHA-256 (so a changed .dat is rebuilt, never confused with
    the old one), the input type and `BUILD_VERSION`. The model is written to a temporary file
    and renamed into place, so a crash or a concurrent builder never leaves a partial model.
    """
    dat_path, cache_dir = Path(dat_path), Path(cache_dir)
    digest = file_sha256(dat_path)
    target = cache_dir / f"dlib_face_resnet_{digest[:32]}_{input_type}_v{BUILD_VERSION}.onnx"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    model = build_onnx(read_resnet(dat_path), input_type)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=cache_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
