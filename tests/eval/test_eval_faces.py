"""Face evaluation: metric tables, loader errors, missing faces as failures, end to end on a made-up set."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from safecity.eval.faces import (
    Box,
    DetectionSet,
    FaceEvalError,
    FaceEvalReport,
    FaceSet,
    accuracy_at,
    detection_recall,
    evaluate_faces,
    identification,
    letterbox,
    load_detection_set,
    load_face_set,
    render_table,
    roc_auc,
    tar_at_far,
    tenfold_accuracy,
)

NAN = math.nan
REQUIRED_KEYS = {
    "pairs_accuracy",
    "pairs_accuracy_default",
    "auc",
    "tar_at_far_1e3",
    "rank1",
    "tpir",
    "fpir",
    "detect_recall",
    "ms_embed",
    "ms_detect",
}


def _arrays(dist: list[float], same: list[int]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    return np.array(dist, dtype=np.float64), np.array(same, dtype=np.bool_)


# ---------------------------------------------------------------------------------------------- metrics


@pytest.mark.parametrize(
    ("dist", "same", "threshold", "expected"),
    [
        ([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0], 0.5, 1.0),
        ([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0], 0.15, 0.75),
        ([0.5, 0.5], [1, 0], 0.5, 0.5),  # accept when distance <= threshold: the different pair is accepted
        ([0.1, 0.9], [0, 1], 0.5, 0.0),
        ([NAN, 0.1], [1, 1], 10.0, 0.5),  # a missing same pair is never accepted
        ([NAN, 0.9], [0, 0], 0.5, 0.5),  # a missing different pair is wrong even when nothing is accepted
    ],
)
def test_accuracy_at_threshold(dist: list[float], same: list[int], threshold: float, expected: float) -> None:
    assert accuracy_at(*_arrays(dist, same), threshold) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("dist", "same", "expected"),
    [
        ([0.1] * 10 + [0.9] * 10, [1] * 10 + [0] * 10, 1.0),
        ([0.9] * 10 + [0.1] * 10, [1] * 10 + [0] * 10, 0.5),  # best on 9 folds: accept nothing
        ([NAN] * 10 + [0.9] * 10, [1] * 10 + [0] * 10, 0.5),  # missing same pairs are all wrong
    ],
)
def test_tenfold_accuracy(dist: list[float], same: list[int], expected: float) -> None:
    accuracy, thresholds = tenfold_accuracy(*_arrays(dist, same))
    assert accuracy == pytest.approx(expected)
    assert thresholds.shape == (10,)


def test_tenfold_threshold_is_the_middle_of_the_gap() -> None:
    _, thresholds = tenfold_accuracy(*_arrays([0.2] * 10 + [0.6] * 10, [1] * 10 + [0] * 10))
    assert thresholds == pytest.approx(np.full(10, 0.4))


def test_tenfold_uses_fewer_folds_than_pairs() -> None:
    accuracy, thresholds = tenfold_accuracy(*_arrays([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]))
    assert thresholds.shape == (4,)
    assert accuracy == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("dist", "same", "expected"),
    [
        ([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0], 1.0),  # perfect separation
        ([0.8, 0.9, 0.1, 0.2], [1, 1, 0, 0], 0.0),  # reversed
        ([0.5, 0.5, 0.5, 0.5], [1, 1, 0, 0], 0.5),  # all tied
        ([0.1, 0.5, 0.3, 0.5], [1, 1, 0, 0], 0.625),  # (1 + 1 + 0 + 0.5) / 4
        ([NAN, 0.1, 0.9, 0.8], [1, 1, 0, 0], 0.5),  # a missing same pair ranks below every different pair
        ([0.1, 0.2, NAN, 0.8], [1, 1, 0, 0], 0.5),  # a missing different pair ranks above every same pair
    ],
)
def test_roc_auc(dist: list[float], same: list[int], expected: float) -> None:
    assert roc_auc(*_arrays(dist, same)) == pytest.approx(expected)


def test_roc_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both same and different"):
        roc_auc(*_arrays([0.1, 0.2], [1, 1]))


@pytest.mark.parametrize(
    ("dist", "same", "far", "expected"),
    [
        ([0.1, 0.2, 0.6, 0.5, 0.9], [1, 1, 1, 0, 0], 0.001, 2 / 3),  # below the smallest negative, 0.5
        ([0.1, 0.2, 0.6, 0.5, 0.9], [1, 1, 1, 0, 0], 0.5, 1.0),  # one false accept allowed: below 0.9
        ([0.5, 0.4, 0.5, 0.9], [1, 1, 0, 0], 0.001, 0.5),  # a tie with the negative is not accepted
        ([0.1, 0.2, 0.5, NAN], [1, 1, 0, 0], 0.001, 1.0),  # a missing negative is rejected: no face, no match
        ([0.1, NAN, 0.5, 0.9], [1, 1, 0, 0], 0.001, 0.5),  # a missing positive is never accepted
        ([0.1, 0.2, 0.3, 0.4], [1, 1, 0, 0], 1.0, 1.0),  # everything allowed
    ],
)
def test_tar_at_far(dist: list[float], same: list[int], far: float, expected: float) -> None:
    assert tar_at_far(*_arrays(dist, same), far) == pytest.approx(expected)


def test_tar_at_far_can_count_missing_negatives_as_false_accepts() -> None:
    dist, same = _arrays([0.1, 0.2, 0.5, NAN], [1, 1, 0, 0])
    assert tar_at_far(dist, same, 0.001, missing_different_accepted=True) == 0.0  # FAR 0.001 unreachable


def test_tar_at_far_allows_far_times_negatives_false_accepts() -> None:
    negatives = np.linspace(1.0, 2.0, 1000)  # FAR 0.001 of 1000 allows exactly one false accept
    dist = np.concatenate(([1.0005], negatives))
    same = np.array([True] + [False] * 1000)
    assert tar_at_far(dist, same, 0.001) == 1.0  # 1.0005 lies between the first and second negative


GALLERY = np.array([[0.0, 0.0], [10.0, 0.0]])
GALLERY_IDS = ["A", "B"]


@pytest.mark.parametrize(
    ("probes", "ids", "mated", "expected"),
    [
        # A close (right, within), B at 4 (right, too far), A near B (wrong); non-mated at 1.5 and 7.1
        (
            [[1, 0], [6, 0], [9, 0], [0, 1.5], [5, 5]],
            ["A", "B", "A", "C", "D"],
            [1, 1, 1, 0, 0],
            (2 / 3, 1 / 3, 1 / 2),
        ),
        ([[1, 0], [11, 0]], ["A", "B"], [1, 1], (1.0, 1.0, None)),  # no non-mated probes: FPIR undefined
        ([[50, 50]], ["C"], [0], (None, None, 0.0)),  # no mated probes: rank-1 and TPIR undefined
        ([[NAN, NAN], [NAN, NAN]], ["A", "C"], [1, 0], (0.0, 0.0, 0.0)),  # missing probes: miss, no alert
    ],
)
def test_identification(
    probes: list[list[float]],
    ids: list[str],
    mated: list[int],
    expected: tuple[float | None, float | None, float | None],
) -> None:
    got = identification(GALLERY, GALLERY_IDS, np.array(probes, float), ids, np.array(mated, bool), 2.0)
    assert got == pytest.approx(expected)


def test_identification_missing_gallery_entry_cannot_be_matched() -> None:
    gallery = np.array([[NAN, NAN], [10.0, 0.0]])
    rank1, tpir, _ = identification(
        gallery, GALLERY_IDS, np.array([[0.0, 0.0]]), ["A"], np.array([True]), 100.0
    )
    assert (rank1, tpir) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("pred", "true", "expected"),
    [
        ([[(0, 0, 10, 10)]], [[(0, 0, 10, 10)]], (1, 1, 1)),
        ([[(0, 0, 10, 10)]], [[(5, 5, 10, 10)]], (1, 1, 0)),  # IoU 25/175 < 0.3
        ([[(0, 0, 10, 10)]], [[(0, 0, 10, 16)]], (1, 1, 1)),  # IoU 100/160 >= 0.3
        ([[(0, 0, 10, 10), (1, 1, 10, 10)]], [[(0, 0, 10, 10)]], (1, 2, 1)),  # one label, matched once
        # greedy: (p0, t1) at IoU 0.82 goes first, leaving p1-t0 (0.11); an optimal assignment would match 2
        (
            [[(2, 0, 10, 10), (8, 0, 10, 10)], []],
            [[(0, 0, 10, 10), (3, 0, 10, 10)], [(0, 0, 5, 5)]],
            (3, 2, 1),
        ),
        ([[], []], [[(0, 0, 10, 10)], [(0, 0, 10, 10)]], (2, 0, 0)),
    ],
)
def test_detection_recall(
    pred: list[list[Box]], true: list[list[Box]], expected: tuple[int, int, int]
) -> None:
    score = detection_recall(pred, true, iou=0.3)
    assert (score.n_true, score.n_pred, score.n_matched) == expected
    assert score.recall == pytest.approx(expected[2] / expected[0])


def test_detection_precision_is_matched_over_predicted() -> None:
    score = detection_recall([[(0, 0, 10, 10), (50, 50, 10, 10)]], [[(0, 0, 10, 10)]])
    assert score.precision == pytest.approx(0.5)


def test_letterbox_fits_and_pads_to_640x480() -> None:
    frame = letterbox(np.full((100, 400, 3), 255, np.uint8))
    assert frame.shape == (480, 640, 3)
    assert frame[159, 0, 0] == 255 and frame[160, 0, 0] == 0  # 400x100 scaled by 1.6 -> 640x160


# ---------------------------------------------------------------------------------------------- loaders

PERSONS: dict[str, tuple[tuple[int, int, int], int]] = {
    # folder name: (colour that encodes the identity, number of images)
    "Alice_Smith": ((200, 40, 40), 3),
    "Bob_Jones": ((40, 200, 40), 3),
    "Carol_White": ((40, 40, 200), 3),
    "Dan_Brown": ((200, 200, 40), 2),
    "Eve_Black": ((40, 200, 200), 1),
    "Fay_Green": ((200, 40, 200), 1),
}
PAIRS = [
    ("Alice_Smith/Alice_Smith_0001.jpg", "Alice_Smith/Alice_Smith_0002.jpg", "1"),
    ("Alice_Smith/Alice_Smith_0001.jpg", "Alice_Smith/Alice_Smith_0003.jpg", "true"),
    ("Bob_Jones/Bob_Jones_0001.jpg", "Bob_Jones/Bob_Jones_0002.jpg", "1"),
    ("Bob_Jones/Bob_Jones_0002.jpg", "Bob_Jones/Bob_Jones_0003.jpg", "1"),
    ("Carol_White/Carol_White_0001.jpg", "Carol_White/Carol_White_0003.jpg", "1"),
    ("Dan_Brown/Dan_Brown_0001.jpg", "Dan_Brown/Dan_Brown_0002.jpg", "1"),
    ("Alice_Smith/Alice_Smith_0001.jpg", "Bob_Jones/Bob_Jones_0001.jpg", "0"),
    ("Bob_Jones/Bob_Jones_0001.jpg", "Carol_White/Carol_White_0002.jpg", "false"),
    ("Carol_White/Carol_White_0001.jpg", "Dan_Brown/Dan_Brown_0001.jpg", "0"),
    ("Dan_Brown/Dan_Brown_0002.jpg", "Eve_Black/Eve_Black_0001.jpg", "0"),
    ("Eve_Black/Eve_Black_0001.jpg", "Fay_Green/Fay_Green_0001.jpg", "0"),
    ("Alice_Smith/Alice_Smith_0003.jpg", "Fay_Green/Fay_Green_0001.jpg", "0"),
]
THRESHOLD = 0.1


def _make_face_dir(root: Path, faceless: frozenset[str] = frozenset()) -> Path:
    """Each person's images are their colour plus noise; images named in `faceless` are black."""
    rng = np.random.default_rng(0)
    for person, (rgb, count) in PERSONS.items():
        (root / person).mkdir(parents=True)
        for n in range(1, count + 1):
            rel = f"{person}/{person}_{n:04d}.jpg"
            pixels = (
                np.zeros((40, 40, 3))
                if rel in faceless
                else np.array(rgb, float) + rng.normal(0, 8, (40, 40, 3))
            )
            bgr = np.clip(pixels, 0, 255).astype(np.uint8)[:, :, ::-1]
            cv2.imwrite(str(root / rel), bgr)
    lines = ["img1,img2,same", *(",".join(p) for p in PAIRS)]
    (root / "pairs.csv").write_text("\n".join(lines) + "\n")
    (root / "identities.csv").write_text("person,role\n" + "".join(f"{p},x\n" for p in PERSONS))
    return root


class ColourEmbedder:
    """The mean colour of the pixels as the embedding; None for a dark image. Records what it was given."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, image: NDArray[np.uint8]) -> NDArray[np.float32] | None:
        self.calls.append(image)
        mean = image.reshape(-1, 3).mean(axis=0) / 255.0
        return None if mean.max() < 0.05 else mean.astype(np.float32)


@pytest.fixture(scope="module")
def face_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_face_dir(tmp_path_factory.mktemp("faces"))


@pytest.fixture(scope="module")
def faceless_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bob's gallery image has no face; it is in one same pair and two different pairs."""
    return _make_face_dir(tmp_path_factory.mktemp("faceless"), frozenset({"Bob_Jones/Bob_Jones_0001.jpg"}))


def test_load_face_set_counts(face_dir: Path) -> None:
    face_set = load_face_set(face_dir)
    gallery, mated, nonmated = face_set.identification_split()
    assert (len(face_set.images), len(face_set.persons), len(face_set.pairs)) == (13, 6, 12)
    assert (len(gallery), len(mated), len(nonmated)) == (4, 7, 2)
    assert [p.same for p in face_set.pairs] == [True] * 6 + [False] * 6


def test_gallery_is_first_image_by_path(face_dir: Path) -> None:
    gallery, _, _ = load_face_set(face_dir).identification_split()
    assert gallery[0].path == "Alice_Smith/Alice_Smith_0001.jpg"


def _fresh_set_with(tmp_path: Path, name: str, text: str | None) -> Path:
    target = tmp_path / "set"
    _make_face_dir(target)
    if text is None:
        (target / name).unlink()
    else:
        (target / name).write_text(text)
    return target


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("pairs.csv", None, r"pairs\.csv is missing"),
        ("pairs.csv", "a,b,c\nx,y,1\n", r"pairs\.csv line 1: expected header img1,img2,same"),
        ("pairs.csv", "", r"pairs\.csv line 1: .*an empty file"),
        ("pairs.csv", "img1,img2,same\n", r"pairs\.csv has a header but no pairs"),
        (
            "pairs.csv",
            "img1,img2,same\nAlice_Smith/Alice_Smith_0001.jpg,Nobody/Nobody_0001.jpg,1\n",
            r"pairs\.csv line 2: image 'Nobody/Nobody_0001\.jpg' is not in",
        ),
        (
            "pairs.csv",
            "img1,img2,same\nAlice_Smith/Alice_Smith_0001.jpg,Bob_Jones/Bob_Jones_0001.jpg,maybe\n",
            r"pairs\.csv line 2: same must be",
        ),
        (
            "pairs.csv",
            "img1,img2,same\nAlice_Smith/Alice_Smith_0001.jpg,Alice_Smith/Alice_Smith_0002.jpg,1\n",
            r"needs both same-person and different-person pairs",
        ),
        ("pairs.csv", "img1,img2,same\na,b\n", r"pairs\.csv line 2: expected 3 fields"),
        ("identities.csv", "name\nAlice_Smith\n", r"identities\.csv line 1: expected header person"),
        (
            "identities.csv",
            "person\nAlice_Smith\nZed_Zed\n",
            r"identities\.csv line 3: person 'Zed_Zed' has no",
        ),
    ],
)
def test_load_face_set_errors(tmp_path: Path, name: str, text: str | None, message: str) -> None:
    folder = _fresh_set_with(tmp_path, name, text)
    with pytest.raises(FaceEvalError, match=message):
        load_face_set(folder)


def test_load_face_set_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FaceEvalError, match="does not exist"):
        load_face_set(tmp_path / "nope")


def test_load_face_set_without_images(tmp_path: Path) -> None:
    (tmp_path / "pairs.csv").write_text("img1,img2,same\n")
    with pytest.raises(FaceEvalError, match="has no <person>/<image> files"):
        load_face_set(tmp_path)


def test_undecodable_image_is_an_input_error(tmp_path: Path) -> None:
    folder = _make_face_dir(tmp_path / "set")
    (folder / "Eve_Black" / "Eve_Black_0001.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(FaceEvalError, match=r"cannot decode .*Eve_Black_0001\.jpg"):
        evaluate_faces(load_face_set(folder), ColourEmbedder(), THRESHOLD)


def _detection_dir(root: Path, labels: str) -> Path:
    root.mkdir()
    image = np.full((120, 160, 3), 90, np.uint8)
    cv2.rectangle(image, (20, 30), (60, 70), (255, 255, 255), -1)
    cv2.imwrite(str(root / "group.jpg"), image)
    (root / "labels.csv").write_text(labels)
    return root


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("file,x,y\n", r"labels\.csv line 1: expected header file,x,y,w,h"),
        ("file,x,y,w,h\n", r"labels\.csv has a header but no labelled faces"),
        ("file,x,y,w,h\nother.jpg,1,2,3,4\n", r"labels\.csv line 2: image 'other\.jpg' is not in"),
        ("file,x,y,w,h\ngroup.jpg,1,2,a,4\n", r"labels\.csv line 2: x, y, w, h must be integers"),
        (
            "file,x,y,w,h\ngroup.jpg,1,2,3,4\ngroup.jpg,1,2,0,4\n",
            r"labels\.csv line 3: box must have w, h > 0",
        ),
    ],
)
def test_load_detection_set_errors(tmp_path: Path, labels: str, message: str) -> None:
    with pytest.raises(FaceEvalError, match=message):
        load_detection_set(_detection_dir(tmp_path / "det", labels))


def test_load_detection_set_groups_boxes_by_image(tmp_path: Path) -> None:
    folder = _detection_dir(tmp_path / "det", "file,x,y,w,h\ngroup.jpg,20,30,41,41\ngroup.jpg,100,10,20,20\n")
    detection_set = load_detection_set(folder)
    assert detection_set.n_faces == 2
    assert detection_set.images[0].boxes == ((20, 30, 41, 41), (100, 10, 20, 20))


# ---------------------------------------------------------------------------------------------- evaluation


@pytest.fixture(scope="module")
def perfect(face_dir: Path) -> tuple[FaceEvalReport, ColourEmbedder]:
    embedder = ColourEmbedder()
    return evaluate_faces(load_face_set(face_dir), embedder, THRESHOLD), embedder


def test_evaluate_scores_a_separable_set_perfectly(perfect: tuple[FaceEvalReport, ColourEmbedder]) -> None:
    report, _ = perfect
    assert (report.pairs_accuracy, report.pairs_accuracy_default, report.auc, report.tar_at_far_1e3) == (
        1,
        1,
        1,
        1,
    )
    assert (report.rank1, report.tpir, report.fpir) == (1.0, 1.0, 0.0)
    assert (report.n_gallery, report.n_mated, report.n_nonmated, report.no_face) == (4, 7, 2, 0)


def test_recogniser_sees_only_pixels_once_per_image(perfect: tuple[FaceEvalReport, ColourEmbedder]) -> None:
    report, embedder = perfect
    assert len(embedder.calls) == report.n_images == 13  # images in several pairs are embedded once
    for image in embedder.calls:
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (40, 40, 3)


def test_recogniser_gets_rgb(face_dir: Path) -> None:
    embedder = ColourEmbedder()
    evaluate_faces(load_face_set(face_dir), embedder, THRESHOLD)
    first = embedder.calls[0].reshape(-1, 3).mean(axis=0)  # Alice_Smith_0001: red
    assert first[0] > 150 > 90 > first[2]


def test_ms_embed_is_the_median_call_time(face_dir: Path) -> None:
    def slow(image: NDArray[np.uint8]) -> NDArray[np.float32]:
        time.sleep(0.005)
        return np.asarray(image.reshape(-1, 3).mean(axis=0), dtype=np.float32)

    report = evaluate_faces(load_face_set(face_dir), slow, THRESHOLD)
    assert 5.0 <= report.ms_embed < 100.0


def test_missing_faces_are_counted(faceless_dir: Path) -> None:
    report = evaluate_faces(load_face_set(faceless_dir), ColourEmbedder(), THRESHOLD)
    assert report.no_face == 1
    assert report.no_face_pairs == 3
    assert report.no_face_images == ("Bob_Jones/Bob_Jones_0001.jpg",)


def test_pairs_with_a_missing_face_are_wrong(faceless_dir: Path) -> None:
    report = evaluate_faces(load_face_set(faceless_dir), ColourEmbedder(), THRESHOLD)
    assert report.pairs_accuracy_default == pytest.approx(9 / 12)  # one same and two different pairs lost
    assert report.pairs_accuracy == pytest.approx(
        7 / 10
    )  # lost at any threshold: 3 of 10 folds hold one alone
    assert report.auc < 1.0


def test_tar_ignores_different_pairs_without_a_face(faceless_dir: Path) -> None:
    report = evaluate_faces(load_face_set(faceless_dir), ColourEmbedder(), THRESHOLD)
    assert report.tar_at_far_1e3 == pytest.approx(5 / 6)  # only the same pair without a face is lost


def test_missing_gallery_face_leaves_the_person_unmatched(faceless_dir: Path) -> None:
    report = evaluate_faces(load_face_set(faceless_dir), ColourEmbedder(), THRESHOLD)
    assert report.rank1 == pytest.approx(5 / 7)  # Bob's two probes have no gallery entry to match
    assert report.tpir == pytest.approx(5 / 7)


def test_detection_is_scored_and_timed_on_640x480_frames(tmp_path: Path, face_dir: Path) -> None:
    detection_set = load_detection_set(
        _detection_dir(tmp_path / "det", "file,x,y,w,h\ngroup.jpg,20,30,41,41\n")
    )
    shapes: list[tuple[int, ...]] = []

    def detect(image: NDArray[np.uint8]) -> list[Box]:
        shapes.append(image.shape)
        return [(22, 30, 40, 40)] if image.shape[:2] == (120, 160) else []

    report = evaluate_faces(load_face_set(face_dir), ColourEmbedder(), THRESHOLD, detection_set, detect)
    assert (report.detect_recall, report.detect_precision, report.n_faces_labelled) == (1.0, 1.0, 1)
    assert shapes == [(120, 160, 3), (480, 640, 3)]
    assert report.ms_detect is not None and report.ms_detect >= 0.0


def test_detection_set_needs_a_detector(face_dir: Path) -> None:
    detection_set = DetectionSet(face_dir, ())
    with pytest.raises(ValueError, match="needs a detect callable"):
        evaluate_faces(load_face_set(face_dir), ColourEmbedder(), THRESHOLD, detection_set)


def test_json_has_the_required_keys_and_serialises(perfect: tuple[FaceEvalReport, ColourEmbedder]) -> None:
    data = json.loads(json.dumps(perfect[0].to_json_dict(), allow_nan=False))
    assert data.keys() >= REQUIRED_KEYS
    assert data["detect_recall"] is None and data["ms_detect"] is None
    assert data["n_pairs"] == 12 and data["auc"] == 1.0


def test_render_table_names_each_metric(perfect: tuple[FaceEvalReport, ColourEmbedder]) -> None:
    text = render_table(perfect[0])
    for label in ("10-fold", "ROC AUC", "TAR at FAR 0.001", "rank-1", "TPIR", "FPIR", "ms per face"):
        assert label in text
    assert "detection recall" not in text


def test_shared_lfw_set_counts(shared_data: Path) -> None:
    folder = shared_data / "faces"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    face_set: FaceSet = load_face_set(folder)
    gallery, mated, nonmated = face_set.identification_split()
    assert (len(face_set.persons), len(face_set.images), len(face_set.pairs)) == (435, 896, 600)
    assert sum(p.same for p in face_set.pairs) == 300
    assert len(face_set.identities) == 435
    assert (len(gallery), len(mated), len(nonmated)) == (165, 461, 270)


def test_shared_detection_set_counts(shared_data: Path) -> None:
    folder = shared_data / "face_detection"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    detection_set = load_detection_set(folder)
    assert (len(detection_set.images), detection_set.n_faces) == (4, 18)
