"""Plate evaluation: scoring on a tiny folder made here, per-file errors, label-file validation."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from rich.table import Table

from safecity.config import PlateSettings
from safecity.eval.plates import evaluate_plates, load_labels, report_json, report_table
from safecity.sim.plates import render_plate

SHARED_PLATES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "plates"
HEADER = "file,plate_text,x,y,w,h\n"


def _scene(text: str, seed: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    rng = np.random.default_rng(seed)
    plate = render_plate(text)
    w, h = 200, round(200 * plate.shape[0] / plate.shape[1])
    img = np.full((300, 400, 3), 70, np.uint8)
    x, y = int(rng.integers(20, 180)), int(rng.integers(100, 240))
    img[y : y + h, x : x + w] = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)
    img = np.clip(img + rng.normal(0.0, 2.0, img.shape), 0, 255).astype(np.uint8)
    return img, (x, y, w, h)


@pytest.fixture(scope="module")
def plate_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two readable plates, one labelled wrongly, one corrupt JPEG and one missing file."""
    folder = tmp_path_factory.mktemp("plates")
    lines = [HEADER]
    for i, (text, label) in enumerate(
        (("BG 123-AB", "BG123AB"), ("NS 4567-CD", "NS4567CD"), ("KG 321-EF", "XX999"))
    ):
        img, (x, y, w, h) = _scene(text, i)
        cv2.imwrite(str(folder / f"p{i}.jpg"), img)
        lines.append(f"p{i}.jpg,{label},{x},{y},{w},{h}\n")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    lines.append("broken.jpg,BG111AA,0,0,10,10\n")
    lines.append("missing.jpg,BG222BB,0,0,10,10\n")
    (folder / "labels.csv").write_text("".join(lines))
    return folder


def test_evaluation_scores_each_image_and_summarises(plate_dir: Path) -> None:
    report = evaluate_plates(plate_dir, PlateSettings())
    rows = {r.file: r for r in report.rows}
    assert report.n == 5
    assert rows["p0.jpg"].exact and rows["p1.jpg"].exact and not rows["p2.jpg"].exact
    assert rows["p2.jpg"].read == "KG321EF"
    assert report.exact == pytest.approx(2 / 5)
    assert report.detect_recall >= 3 / 5  # all three readable plates found where labelled
    assert report.ms_median > 0 and report.ms_p95 >= report.ms_median


def test_unreadable_files_are_reported_per_file_without_aborting(plate_dir: Path) -> None:
    report = evaluate_plates(plate_dir, PlateSettings())
    rows = {r.file: r for r in report.rows}
    assert report.errors == 2
    assert "cannot decode broken.jpg" in rows["broken.jpg"].error
    assert "not found" in rows["missing.jpg"].error
    assert rows["broken.jpg"].ms is None and not rows["broken.jpg"].exact


def test_report_json_has_the_summary_keys_and_serialises(plate_dir: Path) -> None:
    data = report_json(evaluate_plates(plate_dir, PlateSettings()))
    assert {"n", "exact", "exact_o0", "detect_recall", "ms_median", "ms_p95"} <= data.keys()
    assert json.loads(json.dumps(data))["n"] == 5
    assert len(data["images"]) == 5


def test_report_table_lists_misses_and_summary(plate_dir: Path) -> None:
    table = report_table(evaluate_plates(plate_dir, PlateSettings()))
    assert isinstance(table, Table)
    files = list(table.columns[0].cells)
    assert "p2.jpg" in files and "broken.jpg" in files and "p0.jpg" not in files
    assert "exact" in files


def test_o_and_0_are_scored_as_the_same_in_exact_o0(tmp_path: Path) -> None:
    img, (x, y, w, h) = _scene("BG 100-AB", 11)
    cv2.imwrite(str(tmp_path / "a.jpg"), img)
    (tmp_path / "labels.csv").write_text(f"{HEADER}a.jpg,BG1OOAB,{x},{y},{w},{h}\n")
    report = evaluate_plates(tmp_path, PlateSettings())
    assert (report.exact, report.exact_o0) == (0.0, 1.0)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_labels(tmp_path / "nope")


def test_missing_labels_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"labels\.csv is missing"):
        load_labels(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("file,text\n", "line 1: expected header"),
        (f"{HEADER}a.jpg,BG1,1,2,3\n", "line 2: expected 6 fields"),
        (f"{HEADER}a.jpg,BG1,1,2,3,4\nb.jpg,BG2,x,2,3,4\n", "line 3: x, y, w, h must be integers"),
        (f"{HEADER}a.jpg,BG1,1,2,0,4\n", "line 2: box must have"),
        (f"{HEADER}a.jpg,,1,2,3,4\n", "line 2: file and plate_text"),
        (HEADER, "no labelled images"),
    ],
    ids=["header", "fields", "not-int", "empty-box", "no-text", "no-rows"],
)
def test_malformed_labels_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "labels.csv").write_text(content)
    with pytest.raises(ValueError, match=message):
        load_labels(tmp_path)


@pytest.mark.skipif(not (SHARED_PLATES / "hr").is_dir(), reason="../shared/data/plates/hr not present")
def test_croatian_shared_plates_read_at_the_target() -> None:
    report = evaluate_plates(SHARED_PLATES / "hr", PlateSettings())
    assert report.exact_o0 >= 0.9
