"""Parsing dlib's face ResNet .dat: the layers it yields, and clear errors on damaged files."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from safecity.analytics.faces import dlib_net
from safecity.analytics.faces.dlib_net import (
    AddPrev,
    Affine,
    Conv,
    FullyConnected,
    Pool,
    ResNetWeights,
    parse_resnet,
    read_resnet,
)
from safecity.analytics.faces.model_files import face_model_files


@pytest.fixture(scope="module")
def dat_bytes() -> bytes:
    return face_model_files().resnet.read_bytes()


@pytest.fixture(scope="module")
def weights(dat_bytes: bytes) -> ResNetWeights:
    return parse_resnet(dat_bytes)


def test_layer_counts(weights: ResNetWeights) -> None:
    kinds = Counter(type(layer).__name__ for layer in weights.layers)
    # 1 stem conv + 14 residual blocks of 2 convs, each conv followed by an affine and most by a relu
    assert kinds["Conv"] == 29
    assert kinds["Affine"] == 29
    assert kinds["Relu"] == 29
    assert kinds["AddPrev"] == 14
    assert kinds["Tag"] == 18
    assert kinds["Skip"] == 4
    assert kinds["Pool"] == 6  # max pool, 4 down-sampling shortcuts, avg_pool_everything
    assert kinds["FullyConnected"] == 1
    assert weights.embedding_size == 128


def test_input_and_loss(weights: ResNetWeights) -> None:
    assert (weights.input.rows, weights.input.cols) == (150, 150)
    assert weights.input.mean_rgb == pytest.approx((122.782, 117.001, 104.298), abs=1e-4)
    assert weights.loss.margin == pytest.approx(0.04)
    assert weights.loss.distance_threshold == pytest.approx(0.6)


def test_shapes(weights: ResNetWeights) -> None:
    convs = [layer for layer in weights.layers if isinstance(layer, Conv)]
    stem = convs[0]
    assert stem.filters.shape == (32, 3, 7, 7)
    assert (stem.stride, stem.padding) == ((2, 2), (0, 0))
    assert [c.filters.shape[0] for c in convs[1:]] == [32] * 6 + [64] * 8 + [128] * 6 + [256] * 8
    strided = [c for c in convs[1:] if c.stride == (2, 2)]
    assert len(strided) == 4 and all(c.padding == (0, 0) for c in strided)
    assert all(c.padding == (1, 1) for c in convs[1:] if c.stride == (1, 1))
    assert all(c.bias is not None and c.bias.shape == (c.filters.shape[0],) for c in convs)
    affines = [layer for layer in weights.layers if isinstance(layer, Affine)]
    assert [a.gamma.shape[0] for a in affines] == [c.filters.shape[0] for c in convs]
    pools = [layer for layer in weights.layers if isinstance(layer, Pool)]
    assert (pools[0].kind, pools[0].window, pools[0].stride) == ("max", (3, 3), (2, 2))
    assert (pools[-1].kind, pools[-1].window) == ("avg", (0, 0))
    assert [p.tag for p in weights.layers if isinstance(p, AddPrev)].count(2) == 4
    fc = weights.layers[-1]
    assert isinstance(fc, FullyConnected) and fc.weights.shape == (256, 128) and fc.bias is None
    params = sum(c.filters.size + c.filters.shape[0] for c in convs) + fc.weights.size
    params += sum(a.gamma.size + a.beta.size for a in affines)
    assert params == 5_614_592  # every float of the 22.4 MB file except the empty training state
    assert all(np.isfinite(c.filters).all() for c in convs)


def test_read_resnet_reads_the_file(weights: ResNetWeights) -> None:
    again = read_resnet(face_model_files().resnet)
    first, second = weights.layers[0], again.layers[0]
    assert isinstance(first, Conv) and isinstance(second, Conv)
    np.testing.assert_array_equal(first.filters, second.filters)


@pytest.mark.parametrize("keep", [0, 1, 20, 300, 100_000, -1], ids=lambda k: f"keep{k}")
def test_truncated_file(dat_bytes: bytes, keep: int) -> None:
    with pytest.raises(ValueError, match="truncated"):
        parse_resnet(dat_bytes[:keep])


def test_trailing_bytes(dat_bytes: bytes) -> None:
    with pytest.raises(ValueError, match="unexpected bytes after the network"):
        parse_resnet(dat_bytes + b"\x00")


def test_garbage(tmp_path: Path) -> None:
    junk = tmp_path / "junk.dat"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ValueError, match=str(junk)):
        read_resnet(junk)


def test_wrong_version_string(dat_bytes: bytes) -> None:
    with pytest.raises(ValueError, match="expected loss_metric_"):
        parse_resnet(dat_bytes.replace(b"loss_metric_2", b"loss_mabcde_2", 1))
    with pytest.raises(ValueError, match="unexpected con_ version 'con_9'"):
        parse_resnet(dat_bytes.replace(b"con_4", b"con_9", 1))


def test_another_network_is_refused(dat_bytes: bytes) -> None:
    # the stem conv's stride (2) is the 7th integer after "con_4" and its 4736-float params
    at = dat_bytes.index(b"con_4") + len(b"con_4")
    params_end = at + 2 + 3 + 2 * 3 + 4 * 4736
    tampered = bytearray(dat_bytes)
    assert tampered[params_end : params_end + 8] == b"\x01\x20\x01\x07\x01\x07\x01\x02"
    tampered[params_end + 7] = 3
    with pytest.raises(ValueError, match=r"con_ .* expected"):
        parse_resnet(bytes(tampered))


# dlib's version-1 tensor encoding: no shipped model uses it, so check the decoder against an
# independent encoder written from serialize.h / float_details.h.


def _dlib_int(value: int) -> bytes:
    magnitude = abs(value).to_bytes(8, "little").rstrip(b"\x00") or b"\x00"
    return bytes([len(magnitude) | (0x80 if value < 0 else 0)]) + magnitude


def _dlib_float(value: float) -> bytes:
    mantissa, exponent = math.frexp(value)
    m, e = int(mantissa * (1 << 24)), exponent - 24
    while m and m & 0xFF == 0:
        m, e = m >> 8, e + 8
    return _dlib_int(m) + _dlib_int(e)


def test_version_1_tensor() -> None:
    values = np.array([0.0, 1.0, -2.5, 3.1415927, -1e-3, 6e4], dtype=np.float32)
    blob = _dlib_int(1) + b"".join(_dlib_int(d) for d in (1, 2, 3, 1))
    blob += b"".join(_dlib_float(float(v)) for v in values)
    reader = dlib_net._Reader(blob, "test")
    np.testing.assert_array_equal(reader.tensor("t"), values.reshape(1, 2, 3, 1))
    assert reader.pos == len(blob)
