"""The ONNX rebuild of dlib's face ResNet gives dlib's embeddings; its model cache is keyed by content."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import dlib
import numpy as np
import onnx
import pytest
import skimage.data
from numpy.typing import NDArray

from safecity.analytics.faces import onnx_net
from safecity.analytics.faces.dlib_net import read_resnet
from safecity.analytics.faces.embedding import (
    CHIP_PADDING,
    CHIP_SIZE,
    DlibEmbedder,
    OnnxEmbedder,
    make_embedder,
)
from safecity.analytics.faces.model_files import face_model_files
from safecity.analytics.faces.onnx_net import build_onnx, cached_onnx_model
from safecity.sim.faces import reference_image

MAX_COSINE_DISTANCE = 1e-4
MAX_ABS_DIFF = 1e-4
LFW_PHOTOS = 8

Chips = NDArray[np.uint8]
_astronaut: Callable[[], NDArray[np.uint8]] = skimage.data.astronaut


@pytest.fixture(scope="session")
def onnx_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_onnx_model(face_model_files().resnet, tmp_path_factory.mktemp("face_onnx"))


@pytest.fixture(scope="session")
def onnx_embedder(onnx_model: Path) -> OnnxEmbedder:
    return OnnxEmbedder(onnx_model, threads=1)


@pytest.fixture(scope="session")
def dlib_embedder() -> DlibEmbedder:
    return DlibEmbedder(face_model_files().resnet)


class _Aligner:
    def __init__(self) -> None:
        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(face_model_files().shape_5))

    def chip(self, rgb: NDArray[Any]) -> Chips | None:
        """The chip of the largest face, if any (the test photos are portraits)."""
        rgb = np.ascontiguousarray(rgb)
        boxes = sorted(self.detector(rgb, 0), key=lambda box: box.area(), reverse=True)
        if not boxes:
            return None
        shape = self.shape(rgb, boxes[0])
        return np.asarray(dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING))


@pytest.fixture(scope="session")
def aligner() -> _Aligner:
    return _Aligner()


@pytest.fixture(scope="module")
def fixed_chips(aligner: _Aligner) -> dict[str, Chips]:
    astronaut = aligner.chip(_astronaut())
    hopper = aligner.chip(cv2.cvtColor(reference_image("grace_hopper"), cv2.COLOR_BGR2RGB))
    assert astronaut is not None and hopper is not None
    brighter = np.clip(hopper.astype(np.int16) * 5 // 4 + 20, 0, 255).astype(np.uint8)
    return {
        "astronaut": astronaut,
        "grace_hopper": hopper,
        "astronaut_flipped": np.ascontiguousarray(astronaut[:, ::-1]),
        "grace_hopper_brighter": brighter,
    }


def _assert_same_embeddings(ours: NDArray[np.float32], ref: NDArray[np.float32]) -> None:
    assert ours.shape == ref.shape and ours.dtype == np.float32
    cosine = 1.0 - np.sum(ours * ref, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1))
    assert float(np.max(cosine)) <= MAX_COSINE_DISTANCE
    assert float(np.max(np.abs(ours - ref))) <= MAX_ABS_DIFF


def test_onnx_equals_dlib_on_fixed_chips(
    fixed_chips: dict[str, Chips], onnx_embedder: OnnxEmbedder, dlib_embedder: DlibEmbedder
) -> None:
    chips = np.stack(list(fixed_chips.values()))
    _assert_same_embeddings(onnx_embedder.embed(chips), dlib_embedder.embed(chips))


def test_onnx_equals_dlib_on_lfw(
    shared_data: Path, aligner: _Aligner, onnx_embedder: OnnxEmbedder, dlib_embedder: DlibEmbedder
) -> None:
    root = shared_data / "faces"
    if not root.is_dir():
        pytest.skip(f"LFW photos not found under {root}")
    chips: list[Chips] = []
    for photo in sorted(root.glob("*/*.jpg")):
        bgr = cv2.imread(str(photo), cv2.IMREAD_COLOR)
        chip = None if bgr is None else aligner.chip(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        if chip is not None:
            chips.append(chip)
        if len(chips) == LFW_PHOTOS:
            break
    assert chips, f"no face found in the photos under {root}"
    batch = np.stack(chips)
    _assert_same_embeddings(onnx_embedder.embed(batch), dlib_embedder.embed(batch))


def test_embeddings_tell_people_apart(fixed_chips: dict[str, Chips], onnx_embedder: OnnxEmbedder) -> None:
    v = dict(zip(fixed_chips, onnx_embedder.embed(np.stack(list(fixed_chips.values()))), strict=True))
    # 0.6 is dlib's same-person threshold for this model
    assert np.linalg.norm(v["astronaut"] - v["astronaut_flipped"]) < 0.6
    assert np.linalg.norm(v["grace_hopper"] - v["grace_hopper_brighter"]) < 0.6
    assert np.linalg.norm(v["astronaut"] - v["grace_hopper"]) > 0.6


def test_batch_equals_one_by_one(fixed_chips: dict[str, Chips], onnx_embedder: OnnxEmbedder) -> None:
    chips = np.stack(list(fixed_chips.values()))
    singles = np.concatenate([onnx_embedder.embed(chips[i : i + 1]) for i in range(len(chips))])
    np.testing.assert_allclose(onnx_embedder.embed(chips), singles, atol=1e-6)


def test_float_input_graph(
    fixed_chips: dict[str, Chips], onnx_embedder: OnnxEmbedder, tmp_path: Path
) -> None:
    model = build_onnx(read_resnet(face_model_files().resnet), "float32")
    onnx.checker.check_model(model, full_check=True)
    path = tmp_path / "float.onnx"
    path.write_bytes(model.SerializeToString())
    chips = np.stack(list(fixed_chips.values()))
    np.testing.assert_allclose(OnnxEmbedder(path).embed(chips), onnx_embedder.embed(chips), atol=1e-6)


def test_chip_checks(onnx_embedder: OnnxEmbedder) -> None:
    assert onnx_embedder.embed(np.zeros((0, CHIP_SIZE, CHIP_SIZE, 3), np.uint8)).shape == (0, 128)
    with pytest.raises(ValueError, match="uint8"):
        onnx_embedder.embed(np.zeros((1, CHIP_SIZE, CHIP_SIZE, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(n, 150, 150, 3\)"):
        onnx_embedder.embed(np.zeros((CHIP_SIZE, CHIP_SIZE, 3), np.uint8))


def test_cache_is_reused_and_keyed_by_content(
    onnx_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dat = face_model_files().resnet
    cache = onnx_model.parent
    built_at = onnx_model.stat().st_mtime_ns

    def no_rebuild(*_: object) -> None:
        raise AssertionError("the cached model was rebuilt")

    with monkeypatch.context() as patch:
        patch.setattr(onnx_net, "build_onnx", no_rebuild)
        assert cached_onnx_model(dat, cache) == onnx_model
        # the same content under another name is the same model
        copy = tmp_path / "renamed.dat"
        shutil.copyfile(dat, copy)
        assert cached_onnx_model(copy, cache) == onnx_model
    assert onnx_model.stat().st_mtime_ns == built_at

    # one changed weight is another model, built beside the first
    data = bytearray(copy.read_bytes())
    data[-100] ^= 0x01
    copy.write_bytes(bytes(data))
    other = cached_onnx_model(copy, cache)
    assert other != onnx_model and other.is_file() and onnx_model.is_file()
    assert not [name for name in os.listdir(cache) if name.endswith(".tmp")]


def test_make_embedder(tmp_path: Path) -> None:
    embedder = make_embedder("onnx", tmp_path, threads=2)
    assert embedder.name == "onnx" and isinstance(embedder, OnnxEmbedder) and embedder.threads == 2
    assert len(list(tmp_path.glob("*.onnx"))) == 1
    with pytest.raises(ValueError, match="unknown face embedding backend"):
        make_embedder("torch", tmp_path)  # type: ignore[arg-type]
