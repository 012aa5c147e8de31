"""Reads the weights of dlib's face-embedding ResNet straight from its serialised `.dat` file.

This module owns the parsing of `dlib_face_recognition_resnet_model_v1.dat` (shipped by the
`face-recognition-models` wheel) into plain numpy records, so that the network can be re-run
elsewhere (see `onnx_net`) without dlib. It knows dlib's serialisation (`dlib/serialize.h`,
`dlib/dnn/core.h`, `dlib/dnn/layers.h`, `dlib/dnn/input.h`, `dlib/dnn/loss.h`) only as far
as this one network needs, and checks every version tag and layer parameter against the
network type that `tools/python/src/face_recognition.cpp` declares, so any other file fails
with a `ValueError` that says where, instead of yielding wrong weights.

How dlib lays the file out (the parts that matter here):

- integers: a control byte (low nibble = number of little-endian magnitude bytes that
  follow, bit 0x80 = negative); floats and doubles: an integer mantissa then an integer
  exponent (value = mantissa * 2**exponent; exponents 32000..32002 mean inf, -inf, nan;
  serialize.h's header comment says exponent first, its code writes the mantissa first);
  strings: an integer length then the bytes; bools: the ASCII byte '0' or '1'.
- the network serialises outside-in: `add_loss_layer` writes its version and the loss, then
  each `add_layer` writes its version and *then its whole subnetwork* before its own layer
  details, so the file holds all version numbers top-down, then the input layer, then the
  layer details bottom-up. Tag and skip layers write only a version: their ids live in the C++
  type, not in the file, which is why the architecture has to be spelled out here.
- tensors: version 2 is four integer dimensions then raw little-endian IEEE float32s;
  version 1 stores every element as a mantissa/exponent float. The shipped file is a re-save
  in version 2 throughout (with `con_4`, `affine_` records where training had `bn_con`), so its
  5.6 M weights are read with `np.frombuffer` in well under a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]

# float_details::is_inf / is_ninf / is_nan in dlib/float_details.h
_EXP_INF = 32000
_EXP_NINF = 32001
_EXP_NAN = 32002


# ---------------------------------------------------------------------------------------------
# Layer records


@dataclass(frozen=True, slots=True, eq=False)
class InputRGB:
    """`input_rgb_image_sized<N>`: channel c of the net input is (pixel_c - mean_rgb[c]) / 256."""

    mean_rgb: tuple[float, float, float]
    rows: int
    cols: int


@dataclass(frozen=True, slots=True, eq=False)
class Conv:
    """`con_`: cross-correlation with filters (out, in, rows, cols), bias per output channel."""

    filters: FloatArray
    bias: FloatArray | None
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True, slots=True, eq=False)
class Affine:
    """`affine_` in CONV_MODE: y = gamma[c] * x + beta[c] (batch norm, already folded by dlib)."""

    gamma: FloatArray
    beta: FloatArray


@dataclass(frozen=True, slots=True)
class Relu:
    """`relu_`."""


@dataclass(frozen=True, slots=True)
class Pool:
    """`max_pool_` / `avg_pool_`; a window of 0 means the whole input (`avg_pool_everything`)."""

    kind: Literal["max", "avg"]
    window: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Tag:
    """`tagN`: remembers the tensor flowing through it under id N."""

    tag: int


@dataclass(frozen=True, slots=True)
class Skip:
    """`skipN`: replaces the flowing tensor with the one last remembered under tag N."""

    tag: int


@dataclass(frozen=True, slots=True)
class AddPrev:
    """`add_prevN`: adds tag N's tensor; each output dimension is the larger of the two inputs',
    and the smaller input counts as zero where it has no element (`tt::add` in cpu_dlib.cpp)."""

    tag: int


@dataclass(frozen=True, slots=True, eq=False)
class FullyConnected:
    """`fc_`: y = flatten(x) @ weights (+ bias); weights are (inputs, outputs)."""

    weights: FloatArray
    bias: FloatArray | None


@dataclass(frozen=True, slots=True)
class LossMetric:
    """`loss_metric_`: training-only settings; at inference the net output is the embedding."""

    margin: float
    distance_threshold: float


Layer = Conv | Affine | Relu | Pool | Tag | Skip | AddPrev | FullyConnected


@dataclass(frozen=True, slots=True, eq=False)
class ResNetWeights:
    """The whole network: input normalisation, then `layers` in the order they run (input first)."""

    input: InputRGB
    layers: tuple[Layer, ...]
    loss: LossMetric

    @property
    def embedding_size(self) -> int:
        last = self.layers[-1]
        if not isinstance(last, FullyConnected):
            raise ValueError("the last layer of the face ResNet must be fully connected")
        return int(last.weights.shape[1])


# ---------------------------------------------------------------------------------------------
# The architecture, from face_recognition.cpp, as the file nests it (outermost first).


@dataclass(frozen=True, slots=True)
class _ConSpec:
    filters: int
    size: int
    stride: int


@dataclass(frozen=True, slots=True)
class _PoolSpec:
    kind: Literal["max", "avg"]
    window: int
    stride: int


@dataclass(frozen=True, slots=True)
class _Simple:
    kind: Literal["relu", "affine", "fc"]


_Spec = _ConSpec | _PoolSpec | _Simple | Tag | Skip | AddPrev


def _block(filters: int, stride: int) -> list[_Spec]:
    # block<N,BN,stride,SUBNET> = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
    return [
        _Simple("affine"),
        _ConSpec(filters, 3, 1),
        _Simple("relu"),
        _Simple("affine"),
        _ConSpec(filters, 3, stride),
    ]


def _ares(filters: int) -> list[_Spec]:
    # ares<N> = relu<add_prev1<block<N,affine,1,tag1<SUBNET>>>>
    return [_Simple("relu"), AddPrev(1), *_block(filters, 1), Tag(1)]


def _ares_down(filters: int) -> list[_Spec]:
    # ares_down<N> = relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<SUBNET>>>>>>>
    return [
        _Simple("relu"),
        AddPrev(2),
        _PoolSpec("avg", 2, 2),
        Skip(1),
        Tag(2),
        *_block(filters, 2),
        Tag(1),
    ]


def face_resnet_architecture() -> list[_Spec]:
    """`anet_type` of face_recognition.cpp, outermost layer first, loss and input excluded."""
    level0 = _ares_down(256)
    level1 = [*_ares(256), *_ares(256), *_ares_down(256)]
    level2 = [*_ares(128), *_ares(128), *_ares_down(128)]
    level3 = [*_ares(64), *_ares(64), *_ares(64), *_ares_down(64)]
    level4 = [*_ares(32), *_ares(32), *_ares(32)]
    return [
        _Simple("fc"),
        _PoolSpec("avg", 0, 1),  # avg_pool_everything = avg_pool<0,0,1,1>
        *level0,
        *level1,
        *level2,
        *level3,
        *level4,
        _PoolSpec("max", 3, 2),
        _Simple("relu"),
        _Simple("affine"),
        _ConSpec(32, 7, 2),
    ]


# ---------------------------------------------------------------------------------------------
# Primitive readers


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        # a memoryview so slicing out megabytes of weights does not copy them twice
        self.data = memoryview(data)
        self.pos = 0
        self.source = source

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{self.source}: {what} (at byte {self.pos} of {len(self.data)})")

    def take(self, n: int, what: str) -> memoryview:
        end = self.pos + n
        if end > len(self.data):
            raise self.fail(f"file is truncated: needed {n} bytes for {what}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def integer(self, what: str) -> int:
        control = self.take(1, what)[0]
        size = control & 0x0F
        if size > 8 or control & 0x70:
            raise self.fail(f"bad integer control byte 0x{control:02x} for {what}")
        value = int.from_bytes(self.take(size, what), "little")
        return -value if control & 0x80 else value

    def real(self, what: str) -> float:
        if self.pos < len(self.data) and self.data[self.pos] & 0x70:
            # dlib's pre-2013 text encoding of floats; nothing of that age is expected here.
            raise self.fail(f"{what} uses dlib's obsolete text float format")
        mantissa = self.integer(what)
        exponent = self.integer(what)
        if exponent == _EXP_INF:
            return math.inf
        if exponent == _EXP_NINF:
            return -math.inf
        if exponent == _EXP_NAN:
            return math.nan
        return math.ldexp(float(mantissa), exponent)

    def string(self, what: str) -> str:
        n = self.integer(what)
        if n < 0 or n > 1 << 16:
            raise self.fail(f"implausible string length {n} for {what}")
        return bytes(self.take(n, what)).decode("latin-1")

    def boolean(self, what: str) -> bool:
        b = self.take(1, what)[0]
        if b not in (0x30, 0x31):
            raise self.fail(f"bad bool byte 0x{b:02x} for {what}")
        return b == 0x31

    def expect_version(self, allowed: tuple[int, ...], what: str) -> int:
        version = self.integer(f"{what} version")
        if version not in allowed:
            raise self.fail(f"unexpected {what} version {version} (this reader knows {allowed})")
        return version

    def tensor(self, what: str) -> FloatArray:
        """A resizable_tensor, as an (n, k, nr, nc) float32 array."""
        version = self.expect_version((1, 2), f"tensor {what}")
        dims = tuple(self.integer(f"dimension of tensor {what}") for _ in range(4))
        if any(d < 0 for d in dims):
            raise self.fail(f"negative dimension {dims} in tensor {what}")
        count = math.prod(dims)
        if version == 2:
            raw = self.take(4 * count, f"{count} floats of tensor {what}")
            values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
        else:
            # Every element is its own mantissa/exponent pair; no shipped model uses this any
            # more (the file was re-saved by a newer dlib), so a plain loop is good enough.
            values = np.array([self.real(f"element of tensor {what}") for _ in range(count)], np.float32)
        return values.reshape(dims)

    def alias(self, what: str) -> tuple[int, int, int, int]:
        self.expect_version((1,), f"alias_tensor {what}")
        n, k, nr, nc = (self.integer(f"dimension of alias_tensor {what}") for _ in range(4))
        return n, k, nr, nc


def _split(params: FloatArray, shapes: list[tuple[int, ...]], r: _Reader, what: str) -> list[FloatArray]:
    flat = params.reshape(-1)
    sizes = [math.prod(s) for s in shapes]
    if sum(sizes) != flat.size:
        raise r.fail(f"{what} has {flat.size} parameters but its shapes {shapes} need {sum(sizes)}")
    out: list[FloatArray] = []
    offset = 0
    for shape, size in zip(shapes, sizes, strict=True):
        out.append(flat[offset : offset + size].reshape(shape).copy())
        offset += size
    return out


# ---------------------------------------------------------------------------------------------
# Layer details (layers.h)


def _read_con(r: _Reader, spec: _ConSpec, in_channels: int) -> Conv:
    version = r.string("con_ version")
    if version not in ("con_4", "con_5", "con_6"):
        raise r.fail(f"unexpected con_ version {version!r}")
    params = r.tensor("con_ params")
    num_filters = r.integer("con_ num_filters")
    nr, nc = r.integer("con_ nr"), r.integer("con_ nc")
    stride = (r.integer("con_ stride_y"), r.integer("con_ stride_x"))
    padding = (r.integer("con_ padding_y"), r.integer("con_ padding_x"))
    filters_shape = r.alias("con_ filters")
    biases_shape = r.alias("con_ biases")
    for what in (
        "learning_rate_mult",
        "weight_decay_mult",
        "bias_learning_rate_mult",
        "bias_weight_decay_mult",
    ):
        r.real(f"con_ {what}")
    use_bias = r.boolean("con_ use_bias") if version in ("con_5", "con_6") else True
    if version == "con_6" and r.boolean("con_ use_relu"):
        raise r.fail("con_ with a fused relu is not expected in this network")
    # con_<..., _padding = stride != 1 ? 0 : size / 2>
    want_pad = 0 if spec.stride != 1 else spec.size // 2
    got = (num_filters, nr, nc, stride, padding)
    want = (spec.filters, spec.size, spec.size, (spec.stride,) * 2, (want_pad,) * 2)
    if got != want:
        raise r.fail(f"con_ (filters, nr, nc, stride, padding) is {got}, expected {want}")
    # setup(): filters = alias_tensor(num_filters, k_in, nr, nc); biases = alias_tensor(1, num_filters)
    if filters_shape != (num_filters, in_channels, nr, nc):
        raise r.fail(f"con_ filters are {filters_shape}, expected {(num_filters, in_channels, nr, nc)}")
    shapes: list[tuple[int, ...]] = [filters_shape]
    if use_bias:
        if biases_shape[0] * biases_shape[1] != num_filters:
            raise r.fail(f"con_ biases are {biases_shape}, expected {num_filters} of them")
        shapes.append((num_filters,))
    parts = _split(params, shapes, r, "con_")
    return Conv(filters=parts[0], bias=parts[1] if use_bias else None, stride=stride, padding=padding)


def _read_affine(r: _Reader, channels: int) -> Affine:
    version = r.string("affine_ version")
    if version not in ("affine_", "affine_2"):
        # a bn_con2 record would be converted by dlib on load; this file stores affine_ already
        raise r.fail(f"unexpected affine_ version {version!r}")
    params = r.tensor("affine_ params")
    gamma_shape = r.alias("affine_ gamma")
    r.alias("affine_ beta")
    if r.integer("affine_ mode") != 0:  # enum layer_mode { CONV_MODE = 0, FC_MODE = 1 }
        raise r.fail("affine_ in FC_MODE is not expected in this network")
    if version == "affine_2" and r.boolean("affine_ disabled"):
        raise r.fail("disabled affine_ layers are not expected in this network")
    if math.prod(gamma_shape) != channels:
        raise r.fail(f"affine_ gamma is {gamma_shape}, expected one value per channel ({channels})")
    gamma, beta = _split(params, [(channels,), (channels,)], r, "affine_")
    return Affine(gamma=gamma, beta=beta)


def _read_pool(r: _Reader, spec: _PoolSpec) -> Pool:
    name = f"{spec.kind}_pool_"
    version = r.string(f"{name} version")
    if version != f"{name}2":
        raise r.fail(f"unexpected {name} version {version!r}")
    window = (r.integer(f"{name} nr"), r.integer(f"{name} nc"))
    stride = (r.integer(f"{name} stride_y"), r.integer(f"{name} stride_x"))
    padding = (r.integer(f"{name} padding_y"), r.integer(f"{name} padding_x"))
    # pooling templates default to padding = stride != 1 ? 0 : size / 2, as con_ does
    want_pad = 0 if spec.stride != 1 else spec.window // 2
    want = ((spec.window,) * 2, (spec.stride,) * 2, (want_pad,) * 2)
    if (window, stride, padding) != want:
        raise r.fail(f"{name} (window, stride, padding) is {(window, stride, padding)}, expected {want}")
    return Pool(kind=spec.kind, window=window, stride=stride, padding=padding)


def _read_fc(r: _Reader, in_features: int) -> FullyConnected:
    version = r.string("fc_ version")
    if version not in ("fc_2", "fc_3"):
        raise r.fail(f"unexpected fc_ version {version!r}")
    num_outputs = r.integer("fc_ num_outputs")
    num_inputs = r.integer("fc_ num_inputs")
    params = r.tensor("fc_ params")
    weights_shape = r.alias("fc_ weights")
    r.alias("fc_ biases")
    bias_mode = r.integer("fc_ bias_mode")  # FC_HAS_BIAS = 0, FC_NO_BIAS = 1
    for what in (
        "learning_rate_mult",
        "weight_decay_mult",
        "bias_learning_rate_mult",
        "bias_weight_decay_mult",
    ):
        r.real(f"fc_ {what}")
    use_bias = r.boolean("fc_ use_bias") if version == "fc_3" else True
    has_bias = bias_mode == 0 and use_bias
    if num_inputs != in_features or weights_shape[:2] != (num_inputs, num_outputs):
        raise r.fail(f"fc_ weights are {weights_shape}, expected ({in_features}, {num_outputs}, 1, 1)")
    shapes: list[tuple[int, ...]] = [(num_inputs, num_outputs)]
    if has_bias:
        shapes.append((num_outputs,))
    parts = _split(params, shapes, r, "fc_")
    return FullyConnected(weights=parts[0], bias=parts[1] if has_bias else None)


def _read_plain(r: _Reader, name: str) -> None:
    version = r.string(f"{name} version")
    if version != name:
        raise r.fail(f"expected a {name} layer, found {version!r}")


def _read_input(r: _Reader) -> InputRGB:
    version = r.string("input layer version")
    if version != "input_rgb_image_sized":
        raise r.fail(f"expected input_rgb_image_sized, found {version!r}")
    mean = (r.real("avg_red"), r.real("avg_green"), r.real("avg_blue"))
    rows, cols = r.integer("input NR"), r.integer("input NC")
    return InputRGB(mean_rgb=mean, rows=rows, cols=cols)


def _read_loss(r: _Reader) -> LossMetric:
    version = r.string("loss version")
    if version == "loss_metric_":
        return LossMetric(margin=0.1, distance_threshold=0.75)  # hard-coded by that old version
    if version != "loss_metric_2":
        raise r.fail(f"expected loss_metric_ (dlib's face ResNet), found {version!r}")
    return LossMetric(margin=r.real("loss margin"), distance_threshold=r.real("loss dist_thresh"))


def _skip_layer_state(r: _Reader, version: int, over_input: bool) -> None:
    """The bookkeeping add_layer (version 2, or 2-3 over the input) writes after its details
    (core.h); the tensors are empty once net.clean() ran, but are skipped whatever they hold."""
    for what in ("this_layer_setup_called", "gradient_input_is_stale", "get_output_..._disabled"):
        r.boolean(f"add_layer {what}")
    r.tensor("x_grad")
    r.tensor("cached_output")
    if over_input:
        r.tensor("grad_final")
        if version >= 3:
            r.integer("_sample_expansion_factor")
    else:
        r.tensor("params_grad")


# ---------------------------------------------------------------------------------------------


def read_resnet(path: Path | str) -> ResNetWeights:
    """Parse `dlib_face_recognition_resnet_model_v1.dat`; `ValueError` on anything unexpected."""
    path = Path(path)
    return parse_resnet(path.read_bytes(), source=str(path))


def parse_resnet(data: bytes, source: str = "<bytes>") -> ResNetWeights:
    """`read_resnet` on the file's bytes."""
    r = _Reader(data, source)
    r.expect_version((1,), "add_loss_layer")
    loss = _read_loss(r)
    arch = face_resnet_architecture()
    # Top-down: one version number per layer, up to and including the conv on the input.
    versions: list[int] = []
    for i, spec in enumerate(arch):
        if isinstance(spec, Tag | Skip):
            versions.append(r.expect_version((1,), type(spec).__name__.lower()))
        elif i == len(arch) - 1:
            # the add_layer specialisation whose subnet is the input layer has its own versions
            versions.append(r.expect_version((2, 3), "add_layer over the input"))
        else:
            # version 1 predates params_grad and changed layout over dlib's history: refuse it
            versions.append(r.expect_version((2,), f"add_layer #{i} from the top"))
    net_input = _read_input(r)

    # Bottom-up: layer details, tracking channel counts to check shapes.
    layers: list[Layer] = []
    channels = 3
    tag_channels: dict[int, int] = {}
    for i, (spec, version) in enumerate(zip(reversed(arch), reversed(versions), strict=True)):
        over_input = i == 0
        layer: Layer
        if isinstance(spec, Tag):
            tag_channels[spec.tag] = channels
            layers.append(spec)
            continue
        if isinstance(spec, Skip):
            channels = tag_channels[spec.tag]
            layers.append(spec)
            continue
        if isinstance(spec, AddPrev):
            _read_plain(r, "add_prev_")
            channels = max(channels, tag_channels[spec.tag])
            layer = spec
        elif isinstance(spec, _ConSpec):
            layer = _read_con(r, spec, channels)
            channels = spec.filters
        elif isinstance(spec, _PoolSpec):
            layer = _read_pool(r, spec)
        elif spec.kind == "relu":
            _read_plain(r, "relu_")
            layer = Relu()
        elif spec.kind == "affine":
            layer = _read_affine(r, channels)
        else:
            # fc_ sits on avg_pool_everything, so its input is channels x 1 x 1
            layer = _read_fc(r, channels)
            channels = layer.weights.shape[1]
        _skip_layer_state(r, version, over_input)
        layers.append(layer)
    if r.pos != len(data):
        raise r.fail(f"{len(data) - r.pos} unexpected bytes after the network")
    return ResNetWeights(input=net_input, layers=tuple(layers), loss=loss)
