"""Plate evaluation: label formats, scoring against stand-in readers, the CLI, the naive baseline.

Most tests score stand-in readers (a table from an image's grey level to its reads), so the
scoring is checked without OCR. The tests that run the OCR models read 1-3 images each; the one
on the shared sets copies three of their images into tmp_path and skips without them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

import safecity.eval.plates as plates_module
from safecity.cli.app import app
from safecity.config import PlateSettings
from safecity.eval.naive_plates import NaivePlateReader, NaiveRead
from safecity.eval.plates import (
    ImageReader,
    PlateSet,
    Read,
    SetKind,
    SetResult,
    details_table,
    evaluate_plates,
    evaluate_sets,
    load_plate_set,
    results_json,
    summary_table,
)
from safecity.governance.egress import EgressRecorder
from safecity.sim.plates import render_plate
from safecity.types import BBox, BGRImage

SHARED_PLATES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "plates"
BOXES = "file,plate_text,x,y,w,h\n"
CROPS = "file,state,plate_text\n"
LABEL_BOX = BBox(100, 100, 100, 40)

runner = CliRunner()


# -- helpers ------------------------------------------------------------------------------------------


def _grey(folder: Path, name: str, level: int) -> None:
    """A small image of one grey level (PNG, lossless: the level identifies it to a stand-in reader)."""
    cv2.imwrite(str(folder / name), np.full((300, 400, 3), level, np.uint8))


def _set(folder: Path, header: str, rows: Sequence[str], images: dict[str, int]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, level in images.items():
        _grey(folder, name, level)
    (folder / "labels.csv").write_text(header + "".join(f"{r}\n" for r in rows))
    return folder


def _stand_in(reads: dict[int, list[Read]], calls: list[int] | None = None) -> ImageReader:
    """A reader answering by the image's grey level; records the levels it was asked about."""

    def read(image: BGRImage) -> list[Read]:
        level = int(image[0, 0, 0])
        if calls is not None:
            calls.append(level)
        return reads.get(level, [])

    return read


def _read(text: str, box: BBox = LABEL_BOX, confidence: float = 0.9, raw: str | None = None) -> Read:
    return Read(text, text if raw is None else raw, box, confidence)


def _one(tmp_path: Path, header: str, row: str, reads: list[Read]) -> SetResult:
    folder = _set(tmp_path / "set", header, [row], {"a.png": 10})
    (result,) = evaluate_sets([load_plate_set(folder)], _stand_in({10: reads}))
    return result


def _scene(text: str, seed: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    rng = np.random.default_rng(seed)
    plate = render_plate(text)
    w, h = 200, round(200 * plate.shape[0] / plate.shape[1])
    img = np.full((300, 400, 3), 70, np.uint8)
    x, y = int(rng.integers(20, 180)), int(rng.integers(100, 240))
    img[y : y + h, x : x + w] = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)
    img = np.clip(img + rng.normal(0.0, 2.0, img.shape), 0, 255).astype(np.uint8)
    return img, (x, y, w, h)


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["eval", "plates", *args])
    return result.exit_code, result.output


def _last_json(output: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return data


# -- labels -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind", "text", "box"),
    [
        (f"{BOXES}a.png,BG 123-ab,1,2,30,40\n", SetKind.BOXES, "BG123AB", BBox(1, 2, 30, 40)),
        (f"\ufeff{BOXES}a.png,BG123AB,1,2,30,40\n", SetKind.BOXES, "BG123AB", BBox(1, 2, 30, 40)),
        (f"{BOXES}\na.png,BG123AB,1,2,30,40\n\n", SetKind.BOXES, "BG123AB", BBox(1, 2, 30, 40)),
        (f"{CROPS}a.png,ca,7abc-123\n", SetKind.CROPS, "7ABC123", None),
        (" file , state , plate_text\na.png,ak,FUW999\n", SetKind.CROPS, "FUW999", None),
    ],
    ids=["boxes", "boxes-bom", "boxes-blank-lines", "crops", "crops-spaced-header"],
)
def test_the_header_decides_the_kind_of_set(
    tmp_path: Path, content: str, kind: SetKind, text: str, box: BBox | None
) -> None:
    _grey(tmp_path, "a.png", 10)
    (tmp_path / "labels.csv").write_text(content, encoding="utf-8")
    plate_set = load_plate_set(tmp_path)
    assert (plate_set.kind, [(lb.file, lb.text, lb.box) for lb in plate_set.labels]) == (
        kind,
        [("a.png", text, box)],
    )


def test_a_set_is_named_after_its_folder(tmp_path: Path) -> None:
    folder = _set(tmp_path / "us_crops", CROPS, ["a.png,ak,FUW999"], {"a.png": 10})
    assert load_plate_set(folder / ".." / "us_crops").name == "us_crops"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "line 1: expected header .* found an empty file"),
        ("file,text\n", "line 1: expected header file,plate_text,x,y,w,h or file,state,plate_text"),
        ("file,plate_text\na.png,AB123\n", "line 1: expected header"),
        (f"{BOXES}a.png,BG1,1,2,3\n", "line 2: expected 6 fields, got 5"),
        (f"{BOXES}a.png,BG1,1,2,3,4\nb.png,BG2,x,2,3,4\n", "line 3: x, y, w, h must be integers"),
        (f"{BOXES}a.png,BG1,1,2,3.5,4\n", "line 2: x, y, w, h must be integers"),
        (f"{BOXES}a.png,BG1,1,2,0,4\n", "line 2: box must have"),
        (f"{BOXES}a.png,BG1,-1,2,3,4\n", "line 2: box must have"),
        (f"{BOXES}a.png,,1,2,3,4\n", "line 2: file and plate_text"),
        (f"{BOXES}a.png,--,1,2,3,4\n", "line 2: file and plate_text"),
        (f"{CROPS}a.png,ak\n", "line 2: expected 3 fields, got 2"),
        (f"{CROPS}a.png,ak,FUW999,1,2,3,4\n", "line 2: expected 3 fields, got 7"),
        (f"{CROPS},ak,FUW999\n", "line 2: file and plate_text"),
        (BOXES, "no labelled images"),
        (CROPS, "no labelled images"),
        (f"{CROPS}gone.png,ak,FUW999\n", "none of the 1 images named in labels.csv is in the folder"),
    ],
    ids=[
        "empty-file",
        "unknown-header",
        "crops-without-state",
        "boxes-fields",
        "boxes-not-int",
        "boxes-float",
        "boxes-empty-box",
        "boxes-negative",
        "boxes-no-text",
        "boxes-only-separators",
        "crops-too-few",
        "crops-too-many",
        "crops-no-file",
        "boxes-no-rows",
        "crops-no-rows",
        "no-image-present",
    ],
)
def test_malformed_labels_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    _grey(tmp_path, "a.png", 10)
    (tmp_path / "labels.csv").write_text(content)
    with pytest.raises(ValueError, match=message):
        load_plate_set(tmp_path)


def _a_file(folder: Path) -> Path:
    (folder / "labels.csv").write_text(BOXES)
    return folder / "labels.csv"


def _empty_folder(folder: Path) -> Path:
    (folder / "x").mkdir()
    return folder / "x"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nope", "does not exist"),
        (_empty_folder, r"labels\.csv is missing"),
        (_a_file, "is not a folder"),
    ],
    ids=["no-folder", "no-labels", "a-file"],
)
def test_missing_folder_or_labels_is_a_clear_error(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        load_plate_set(make(tmp_path))


# -- scoring ------------------------------------------------------------------------------------------

SCORES = [
    # label, reads, (exact, exact O=0, found, wrong text)
    ("AB123", [_read("AB123")], (True, True, True, False)),
    ("OB100", [_read("0B1OO")], (False, True, True, False)),
    ("AB123", [_read("AB124")], (False, False, True, False)),
    ("AB123", [_read("AB123", BBox(170, 100, 100, 40))], (True, True, False, False)),  # IoU 0.18
    ("AB123", [_read("AB123", BBox(130, 100, 100, 40))], (True, True, True, False)),  # IoU 0.54
    ("AB123", [_read("TEXAS", BBox(0, 0, 60, 20)), _read("AB123")], (False, False, False, True)),
    ("AB123", [_read("TAXI", BBox(200, 100, 50, 40))], (False, False, False, True)),  # edge to edge
    ("AB123", [], (False, False, False, False)),
]


@pytest.mark.parametrize(("label", "reads", "expected"), SCORES, ids=[str(i) for i in range(len(SCORES))])
def test_a_boxes_image_is_scored_on_its_best_read(
    tmp_path: Path, label: str, reads: list[Read], expected: tuple[bool, bool, bool, bool]
) -> None:
    (row,) = _one(tmp_path, BOXES, f"a.png,{label},100,100,100,40", reads).ours.rows
    assert (row.exact, row.exact_o0, row.found, row.wrong_text) == expected


@pytest.mark.parametrize(
    ("reads", "expected"),
    [
        ([_read("FUW999", BBox(0, 0, 5, 5))], (True, True, True)),
        ([_read("ALASKA", BBox(0, 0, 5, 5)), _read("FUW999")], (False, False, True)),
        ([], (False, False, False)),
    ],
    ids=["right", "wrong-text-first", "nothing"],
)
def test_a_crops_image_is_found_by_any_read(
    tmp_path: Path, reads: list[Read], expected: tuple[bool, bool, bool]
) -> None:
    result = _one(tmp_path, CROPS, "a.png,ak,FUW999", reads)
    (row,) = result.ours.rows
    assert (row.exact, row.exact_o0, row.found) == expected
    assert row.iou is None and not row.wrong_text


def test_wrong_text_is_not_applicable_to_a_crops_set(tmp_path: Path) -> None:
    assert _one(tmp_path, CROPS, "a.png,ak,FUW999", []).ours.wrong_text is None


def test_the_raw_string_is_scored_beside_the_formatted_one(tmp_path: Path) -> None:
    (row,) = _one(
        tmp_path, BOXES, "a.png,5EZP631,100,100,100,40", [_read("SEZP63", raw="5EZP 631")]
    ).ours.rows
    assert (row.exact_o0, row.raw_exact_o0) == (False, True)


@pytest.fixture
def mixed_set(tmp_path: Path) -> PlateSet:
    """Four images (ours reads a, b right; the naive reader a, c, d), a corrupt and a missing file."""
    folder = _set(
        tmp_path / "eu",
        BOXES,
        [
            "a.png,AB123,100,100,100,40",
            "b.png,CD456,100,100,100,40",
            "c.png,EF789,100,100,100,40",
            "d.png,GH012,100,100,100,40",
            "broken.jpg,XX111,0,0,10,10",
            "missing.png,XX222,0,0,10,10",
        ],
        {"a.png": 10, "b.png": 20, "c.png": 30, "d.png": 40},
    )
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return load_plate_set(folder)


OURS_READS = {10: [_read("AB123")], 20: [_read("CD456")], 30: [_read("TAXI", BBox(0, 0, 30, 10))]}
NAIVE_READS = {10: [_read("AB123")], 30: [_read("EF789")], 40: [_read("GH012")]}


def test_summary_counts_every_labelled_image(mixed_set: PlateSet) -> None:
    (result,) = evaluate_sets([mixed_set], _stand_in(OURS_READS))
    ours = result.ours
    assert (ours.name, ours.reader, ours.n, ours.errors) == ("eu", "ours", 6, 2)
    assert (ours.exact, ours.found, ours.wrong_text) == pytest.approx((2 / 6, 2 / 6, 1 / 6))
    assert result.baseline is None and result.exact_o0_ratio is None and result.ms_ratio is None


def test_unreadable_files_are_misses_reported_per_file(mixed_set: PlateSet) -> None:
    (result,) = evaluate_sets([mixed_set], _stand_in(OURS_READS), _stand_in(NAIVE_READS))
    for report in (result.ours, result.baseline):
        assert report is not None
        rows = {r.file: r for r in report.rows}
        assert "cannot decode broken.jpg" in rows["broken.jpg"].error
        assert "not found" in rows["missing.png"].error
        assert rows["broken.jpg"].ms is None and not rows["missing.png"].exact_o0


def test_the_baseline_reads_the_same_images_once_each(mixed_set: PlateSet) -> None:
    ours_calls: list[int] = []
    naive_calls: list[int] = []
    evaluate_sets([mixed_set], _stand_in(OURS_READS, ours_calls), _stand_in(NAIVE_READS, naive_calls))
    assert ours_calls == naive_calls == [10, 20, 30, 40]


def test_ratios_are_ours_over_the_baseline(mixed_set: PlateSet) -> None:
    (result,) = evaluate_sets([mixed_set], _stand_in(OURS_READS), _stand_in(NAIVE_READS))
    assert result.baseline is not None
    assert (result.ours.exact_o0, result.baseline.exact_o0) == pytest.approx((2 / 6, 3 / 6))
    assert result.exact_o0_ratio == pytest.approx(2 / 3)
    assert result.ms_ratio == pytest.approx(result.ours.ms_median / result.baseline.ms_median)


def test_no_accuracy_ratio_when_the_baseline_reads_nothing_right(mixed_set: PlateSet) -> None:
    (result,) = evaluate_sets([mixed_set], _stand_in(OURS_READS), _stand_in({}))
    assert result.exact_o0_ratio is None


def test_progress_is_reported_per_set(mixed_set: PlateSet, tmp_path: Path) -> None:
    crops = load_plate_set(_set(tmp_path / "crops", CROPS, ["a.png,ak,FUW999"], {"a.png": 10}))
    seen: list[tuple[int, int, int]] = []
    evaluate_sets(
        [mixed_set, crops], _stand_in({}), progress=lambda i, done, total: seen.append((i, done, total))
    )
    assert seen[-2:] == [(0, 6, 6), (1, 1, 1)] and len(seen) == 7


def test_json_has_every_set_and_ours_pooled_at_the_top(mixed_set: PlateSet, tmp_path: Path) -> None:
    crops = load_plate_set(_set(tmp_path / "crops", CROPS, ["a.png,ak,FUW999"], {"a.png": 10}))
    results = evaluate_sets([mixed_set, crops], _stand_in(OURS_READS), _stand_in(NAIVE_READS))
    data = json.loads(json.dumps(results_json(results)))
    assert (data["n"], data["errors"]) == (7, 2)
    assert [(s["set"], s["kind"]) for s in data["sets"]] == [("eu", "boxes"), ("crops", "crops")]
    eu, crops_json = data["sets"]
    assert eu["baseline"]["reader"] == "naive" and eu["ratio"]["exact_o0"] == pytest.approx(0.667)
    assert len(eu["ours"]["images"]) == 6 and crops_json["ours"]["wrong_text"] is None


def test_summary_table_has_a_row_per_set_and_reader(mixed_set: PlateSet) -> None:
    results = evaluate_sets([mixed_set], _stand_in(OURS_READS), _stand_in(NAIVE_READS))
    table = summary_table(results)
    assert list(table.columns[1].cells) == ["ours", "naive"]
    assert [c.header for c in table.columns][-2:] == ["O=0 ratio", "ms ratio"]
    assert list(table.columns[-2].cells) == ["0.67", ""]


def test_summary_table_without_baseline_has_no_ratio_columns(mixed_set: PlateSet) -> None:
    table = summary_table(evaluate_sets([mixed_set], _stand_in(OURS_READS)))
    assert "O=0 ratio" not in [c.header for c in table.columns] and len(table.rows) == 1


def test_details_list_our_misses_with_the_naive_read(mixed_set: PlateSet) -> None:
    (result,) = evaluate_sets([mixed_set], _stand_in(OURS_READS), _stand_in(NAIVE_READS))
    table = details_table(result)
    assert list(table.columns[0].cells) == ["c.png", "d.png", "broken.jpg", "missing.png"]
    assert "GH012" in str(list(table.columns[-1].cells)[1])


# -- the command --------------------------------------------------------------------------------------


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replace both readers in the command; returns the grey levels read (ours and naive alike)."""
    calls: list[int] = []
    monkeypatch.setattr(plates_module, "ours_reader", lambda _settings: _stand_in(OURS_READS, calls))
    monkeypatch.setattr(plates_module, "naive_reader", lambda: _stand_in(NAIVE_READS, calls))
    return calls


@pytest.fixture
def two_sets(mixed_set: PlateSet, tmp_path: Path) -> tuple[Path, Path]:
    crops = _set(tmp_path / "us_crops", CROPS, ["a.png,ak,AB123"], {"a.png": 10})
    return mixed_set.directory, crops


def test_cli_reads_several_sets_in_the_order_given(stand_ins: list[int], two_sets: tuple[Path, Path]) -> None:
    code, output = _cli(str(two_sets[1]), str(two_sets[0]), "--json")
    data = _last_json(output)
    assert code == 0 and [s["set"] for s in data["sets"]] == ["us_crops", "eu"]
    assert all(s["baseline"] is None for s in data["sets"])


def test_cli_baseline_is_in_the_json_beside_ours(stand_ins: list[int], two_sets: tuple[Path, Path]) -> None:
    code, output = _cli(*map(str, two_sets), "--baseline", "--json")
    data = _last_json(output)
    assert code == 0 and [s["baseline"]["reader"] for s in data["sets"]] == ["naive", "naive"]
    assert data["sets"][0]["ratio"]["exact_o0"] == pytest.approx(0.667)
    assert "naive" in output and "O=0 ratio" in output


def test_cli_details_print_the_misses(stand_ins: list[int], two_sets: tuple[Path, Path]) -> None:
    code, output = _cli(str(two_sets[0]), "--details")
    assert code == 0 and "missing.png" in output and "Plate reading, misses: eu" in output


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nope", "does not exist"),
        (_empty_folder, "labels.csv is missing"),
        (lambda p: _set(p / "x", BOXES, ["a.png,AB1,1,2,3"], {"a.png": 10}), "line 2: expected 6 fields"),
        (lambda p: _set(p / "x", BOXES, ["a.png,AB1,1,2,3,q"], {"a.png": 10}), "line 2: x, y, w, h must be"),
        (lambda p: _set(p / "x", "file,text\n", ["a.png,AB1"], {"a.png": 10}), "line 1: expected header"),
        (lambda p: _set(p / "x", CROPS, [], {"a.png": 10}), "no labelled images"),
        (lambda p: _set(p / "x", CROPS, ["b.png,ak,AB1"], {"a.png": 10}), "none of the 1 images"),
    ],
    ids=["no-folder", "no-labels", "fields", "not-int", "header", "no-rows", "no-images"],
)
def test_cli_exits_2_before_reading_anything(
    stand_ins: list[int],
    two_sets: tuple[Path, Path],
    tmp_path: Path,
    make: Callable[[Path], Path],
    message: str,
) -> None:
    bad = make(tmp_path)
    code, output = _cli(str(two_sets[0]), str(bad), "--baseline")
    assert code == 2 and message in output and stand_ins == []


# -- real readers (OCR models from the installed wheel) ------------------------------------------------


def test_ours_is_scored_through_its_normalised_text(tmp_path: Path) -> None:
    """Two synthetic scenes; the second is labelled with O for 0."""
    lines = [BOXES]
    for i, (text, label) in enumerate((("BG 123-AB", "BG123AB"), ("BG 100-AB", "BG1OOAB"))):
        img, (x, y, w, h) = _scene(text, i)
        cv2.imwrite(str(tmp_path / f"p{i}.png"), img)
        lines.append(f"p{i}.png,{label},{x},{y},{w},{h}\n")
    (tmp_path / "labels.csv").write_text("".join(lines))
    (result,) = evaluate_plates([tmp_path], PlateSettings())
    assert (result.ours.exact, result.ours.exact_o0, result.ours.found) == (0.5, 1.0, 1.0)


class _Engine:
    """Stands in for rapidocr: fixed lines in detection order, line i boxed at x = i .. i + 9."""

    def __init__(self, lines: list[tuple[str, float]]) -> None:
        self.lines = lines

    def __call__(self, image: BGRImage) -> SimpleNamespace:
        boxes = [[[i, 0], [i + 9, 0], [i + 9, 5], [i, 5]] for i in range(len(self.lines))]
        return SimpleNamespace(
            txts=tuple(t for t, _ in self.lines) or None,
            scores=tuple(s for _, s in self.lines) or None,
            boxes=np.array(boxes, np.float32) if boxes else None,
        )


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([("TEXAS", 0.99), ("ABC-1234", 0.9)], ["TEXAS", "ABC1234"]),
        ([("ab 12", 0.7), ("XYZ-98765", 0.8)], ["XYZ98765", "AB12"]),
        ([("ABC", 0.99), ("ABC1234567X", 0.99), ("5EZP631", 0.6)], ["5EZP631"]),
        ([("A-B-C", 0.99), ("ABCD", 0.5), ("ABCDEFGHIJ", 0.4)], ["ABCD", "ABCDEFGHIJ"]),
        ([], []),
    ],
    ids=["confidence-first", "cleaned", "lengths-4-to-10", "bounds-inclusive", "nothing"],
)
def test_the_naive_rule_keeps_4_to_10_characters_by_confidence(
    lines: list[tuple[str, float]], expected: list[str]
) -> None:
    reader = NaivePlateReader.__new__(NaivePlateReader)
    reader._engine = _Engine(lines)
    reads = reader.read(np.zeros((10, 10, 3), np.uint8))
    assert [r.text for r in reads] == expected
    assert all(isinstance(r, NaiveRead) and r.box.w == 9 for r in reads)


def test_the_naive_reader_reads_a_plate_without_touching_the_network() -> None:
    img, (x, y, w, h) = _scene("BG 123-AB", 0)
    recorder = EgressRecorder.instance()
    with recorder.session():
        reads = NaivePlateReader().read(img)
    assert recorder.attempts() == []
    assert reads[0].text == "BG123AB" and reads[0].box.iou(BBox(x, y, w, h)) >= 0.3


@pytest.mark.skipif(
    not ((SHARED_PLATES / "us").is_dir() and (SHARED_PLATES / "us_crops").is_dir()),
    reason="../shared/data/plates/us and us_crops not present",
)
def test_cli_runs_both_readers_on_shared_images(tmp_path: Path) -> None:
    """Two images of the US scenes and one crop, copied here; both readers, both kinds of set."""
    for name, keep in (("us", 2), ("us_crops", 1)):
        source, target = SHARED_PLATES / name, tmp_path / name
        target.mkdir()
        header, *rows = (source / "labels.csv").read_text().splitlines()[: keep + 1]
        for row in rows:
            shutil.copy(source / row.split(",")[0], target)
        (target / "labels.csv").write_text("\n".join([header, *rows]) + "\n")
    code, output = _cli(str(tmp_path / "us"), str(tmp_path / "us_crops"), "--baseline", "--json")
    data = _last_json(output)
    assert code == 0 and [(s["set"], s["kind"]) for s in data["sets"]] == [
        ("us", "boxes"),
        ("us_crops", "crops"),
    ]
    for s in data["sets"]:
        assert s["ours"]["errors"] == s["baseline"]["errors"] == 0
        assert s["ours"]["ms_median"] > 0 and s["baseline"]["ms_median"] > 0
