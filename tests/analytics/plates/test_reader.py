"""The plate reader on synthetic plates and sim frames: accuracy, regions, bad input, offline models."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from safecity.analytics.plates.formats import normalise_plate
from safecity.analytics.plates.ocr import model_dir, model_paths
from safecity.analytics.plates.reader import PlateCandidate, PlateReader, PlateReaderError
from safecity.config import PlateSettings, SimSettings
from safecity.sim.plates import random_plate, render_plate
from safecity.sim.render import ClipRenderer
from safecity.sim.scenario import build_scenario
from safecity.types import BBox

SIM_PLATES = 40
SIM_MIN_ACCURACY = 0.95


@pytest.fixture(scope="module")
def reader() -> Iterator[PlateReader]:
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield PlateReader(PlateSettings(countries=["RS"]))  # sim plates are Serbian
    cv2.setNumThreads(threads)


def plate_scene(
    text: str, rng: np.random.Generator, *, size: tuple[int, int] = (480, 360), width: int | None = None
) -> tuple[np.ndarray, BBox]:
    """A rendered plate on a car-coloured panel with blur and noise; the image and the plate's box."""
    plate = render_plate(text)
    w = width if width is not None else int(rng.integers(110, 220))
    h = round(w * plate.shape[0] / plate.shape[1])
    img = np.full((size[1], size[0], 3), 90, np.uint8)
    colour = tuple(int(c) for c in rng.integers(30, 200, 3))
    cv2.rectangle(img, (20, 40), (size[0] - 20, size[1] - 20), colour, -1)
    x = int(rng.integers(30, size[0] - 30 - w))
    y = int(rng.integers(size[1] // 3, size[1] - 30 - h))
    img[y : y + h, x : x + w] = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)
    img = cv2.GaussianBlur(img, (0, 0), 0.7)
    img = np.clip(img + rng.normal(0.0, 3.0, img.shape), 0, 255).astype(np.uint8)
    return img, BBox(x, y, w, h)


def best_text(found: list[PlateCandidate]) -> str:
    return found[0].normalised if found else ""


def test_reads_rendered_sim_plates(reader: PlateReader) -> None:
    rng = np.random.default_rng(7)
    texts = [random_plate(rng) for _ in range(SIM_PLATES)]
    correct = sum(best_text(reader.read(plate_scene(t, rng)[0])) == normalise_plate(t) for t in texts)
    assert correct / SIM_PLATES >= SIM_MIN_ACCURACY, f"{correct}/{SIM_PLATES} sim plates read exactly"


def test_candidate_fields_describe_the_read(reader: PlateReader) -> None:
    image, box = plate_scene("BG 123-AB", np.random.default_rng(1), width=200)
    best = reader.read(image)[0]
    assert (best.normalised, best.country, best.valid) == ("BG123AB", "RS", True)
    assert best.text == "BG 123-AB"
    assert 0.0 < best.confidence <= best.ocr_confidence <= 1.0
    assert best.bbox.iou(box) > 0.3


def test_reads_a_plate_in_a_sim_city_frame(reader: PlateReader) -> None:
    settings = SimSettings()
    scenario = build_scenario(1, 20.0, 1, fps=settings.fps, width=1280, height=720)
    renderer = ClipRenderer(scenario, scenario.cameras[0])
    index, plate, box = next(
        (i, v.plate, b)
        for i in range(scenario.frames)
        for v, b in renderer.projector.layout(i).plates
        if b.w >= 100
    )
    image, _ = renderer.frame(index)
    found = reader.read(image)
    match = [c for c in found if c.normalised == normalise_plate(plate)]
    assert match, f"{plate} not among {[c.normalised for c in found]}"
    assert match[0].bbox.iou(box) > 0.3


def test_read_regions_reads_only_inside_the_regions(reader: PlateReader) -> None:
    rng = np.random.default_rng(3)
    left, _ = plate_scene("NS 456-CD", rng, size=(400, 300), width=180)
    right, right_box = plate_scene("BG 789-EF", rng, size=(400, 300), width=180)
    frame = np.hstack([left, right])
    region = BBox(400, 0, 400, 300)
    found = reader.read_regions(frame, [region])
    assert [c.normalised for c in found] == ["BG789EF"]
    shifted = BBox(right_box.x + 400, right_box.y, right_box.w, right_box.h)
    assert found[0].bbox.iou(shifted) > 0.3  # full-frame pixels, not region pixels


def test_read_regions_ignores_regions_outside_the_frame(reader: PlateReader) -> None:
    image, _ = plate_scene("BG 123-AB", np.random.default_rng(2))
    assert reader.read_regions(image, [BBox(1000, 1000, 50, 50), BBox(0, 0, 0, 0)]) == []


def test_blank_and_tiny_images_give_no_reads(reader: PlateReader) -> None:
    assert reader.read(np.full((240, 320, 3), 128, np.uint8)) == []
    assert reader.read(np.zeros((5, 5, 3), np.uint8)) == []


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (None, "no image"),
        ("frame.jpg", "numpy"),
        (np.zeros((0, 10, 3), np.uint8), "empty"),
        (np.zeros((10, 10, 3), np.float32), "uint8"),
        (np.zeros((10, 10), np.uint8), "shape"),
        (np.zeros((8193, 4, 3), np.uint8), "8192"),
    ],
    ids=["none", "not-array", "empty", "float", "grey", "oversized"],
)
def test_bad_images_raise_a_clear_error(reader: PlateReader, image: object, message: str) -> None:
    with pytest.raises(PlateReaderError, match=message):
        reader.read(image)  # type: ignore[arg-type]


def test_bad_image_in_read_regions_raises_too(reader: PlateReader) -> None:
    with pytest.raises(PlateReaderError, match="no image"):
        reader.read_regions(None, [BBox(0, 0, 10, 10)])  # type: ignore[arg-type]


def test_models_come_from_the_installed_rapidocr_wheel() -> None:
    det, rec = model_paths()
    assert det.parent == rec.parent == model_dir()
    assert model_dir().parent.name == "rapidocr"
    assert det.stat().st_size > 0 and rec.stat().st_size > 0


def test_reader_builds_and_reads_with_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    offline = PlateReader(PlateSettings())
    image, _ = plate_scene("BG 555-KL", np.random.default_rng(5), width=200)
    assert best_text(offline.read(image)) == "BG555KL"


def test_ocr_threads_setting_reaches_the_sessions() -> None:
    reader = PlateReader(PlateSettings(ocr_threads=2))
    assert reader.engine.session_threads == (2, 1)


def test_a_country_without_a_plate_format_is_refused_when_the_reader_is_built() -> None:
    with pytest.raises(ValueError, match="unknown country code"):
        PlateReader(PlateSettings(countries=["XX"]))


@pytest.mark.parametrize(
    ("countries", "message"), [(["RS", "XX"], "unknown country code"), ("RS", "not the string")]
)
def test_a_bad_country_list_per_call_is_refused(reader: PlateReader, countries: object, message: str) -> None:
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match=message):
        reader.read(image, countries=countries)  # type: ignore[arg-type]
