"""Face-recognition evaluation: verification, open-set identification, detection and timing.

Owns the metrics and dataset handling behind `safecity eval faces DIR [--detection DIR2]`, independent
of which recogniser is used: the caller passes the recogniser as callables (`embed`, `detect`).

Face folder (`load_face_set`): `<person>/<image>.jpg` (the folder name is the identity), `pairs.csv`
with header `img1,img2,same` (paths relative to the folder, `same` is 1/0, true/false or yes/no) and an
optional `identities.csv` whose `person` column must name folders that exist. Detection folder
(`load_detection_set`): images plus `labels.csv` with header `file,x,y,w,h`, one row per face,
x,y = left,top.

Privacy rule: file and folder names contain the person's name, so they never reach the recogniser.
`embed` and `detect` see only decoded pixels (RGB uint8, HxWx3); names are used only for scoring.

Scoring conventions (all distances are Euclidean between embeddings, smaller = more similar, and a
threshold accepts a pair or match when distance <= threshold):

* Verification on `pairs.csv`: 10-fold accuracy (`tenfold_accuracy`), rank-based ROC AUC (`roc_auc`),
  TAR at FAR 0.001 (`tar_at_far`) and accuracy at the configured default threshold (`accuracy_at`).
* Open-set identification (`identification`): the gallery is the first image (sorted by relative path)
  of each person with >= 2 images, mated probes are their other images, non-mated probes are the images
  of persons with exactly one image.
* Images where the recogniser finds no usable face (`embed` returns None) are counted in `no_face` and
  scored as failures: a pair with a missing embedding has distance NaN, which accuracy and AUC score as
  wrong at every threshold, and TAR at FAR as a same pair never accepted (a different pair without a face
  is taken as rejected there, see `tar_at_far` for why); a mated probe without an embedding is a miss
  (and a non-mated one raises no match); a person whose gallery image has no embedding cannot be
  matched by anyone.
* Detection (`detection_recall`): greedy one-to-one matching by IoU >= 0.3 per image; recall, precision
  and counts.
"""

from __future__ import annotations

import csv
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from safecity.eval.face_openset import OpenSetReport, evaluate_openset, openset_json, render_openset

PAIRS_FILE = "pairs.csv"
PAIRS_COLUMNS = ("img1", "img2", "same")
IDENTITIES_FILE = "identities.csv"
LABELS_FILE = "labels.csv"
LABEL_COLUMNS = ("file", "x", "y", "w", "h")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
N_FOLDS = 10
FAR_TARGET = 1e-3
DETECT_IOU = 0.3
"""A detection finds a labelled face at this IoU or more (dlib labels are tight, detector boxes looser)."""
FRAME_SIZE = (640, 480)
"""Width, height of the frame on which detection is timed."""

_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"0", "false", "no"})

Box = tuple[int, int, int, int]
"""x (left), y (top), width, height in pixels."""
Embed = Callable[[NDArray[np.uint8]], NDArray[np.float32] | None]
"""One whole RGB image in, the embedding of its primary face out (None when no usable face)."""
Detect = Callable[[NDArray[np.uint8]], list[Box]]
"""One RGB image in, the boxes of the faces found out."""
Progress = Callable[[int, int], None]
"""Called after each image with (done, total); no names, only counts."""


class FaceEvalError(ValueError):
    """Malformed evaluation input; the message names the file (and line) that is wrong."""


@dataclass(frozen=True, slots=True)
class FaceImage:
    path: str
    """Relative to the face folder, with forward slashes: `<person>/<image>`."""
    person: str


@dataclass(frozen=True, slots=True)
class FacePair:
    img1: str
    img2: str
    same: bool
    line: int
    """Line of pairs.csv (1-based, the header is line 1)."""


@dataclass(frozen=True, slots=True)
class FaceSet:
    """A loaded face folder: every image (sorted by relative path), the verification pairs, identities."""

    directory: Path
    images: tuple[FaceImage, ...]
    pairs: tuple[FacePair, ...]
    identities: tuple[str, ...]
    """The `person` column of identities.csv; empty when the file is absent."""

    @property
    def persons(self) -> tuple[str, ...]:
        return tuple(sorted({img.person for img in self.images}))

    def identification_split(
        self,
    ) -> tuple[tuple[FaceImage, ...], tuple[FaceImage, ...], tuple[FaceImage, ...]]:
        """(gallery, mated probes, non-mated probes) as described in the module docstring."""
        by_person: dict[str, list[FaceImage]] = {}
        for img in self.images:  # already sorted by path, so each list is too
            by_person.setdefault(img.person, []).append(img)
        gallery: list[FaceImage] = []
        mated: list[FaceImage] = []
        nonmated: list[FaceImage] = []
        for person in sorted(by_person):
            imgs = by_person[person]
            if len(imgs) >= 2:
                gallery.append(imgs[0])
                mated.extend(imgs[1:])
            else:
                nonmated.append(imgs[0])
        return tuple(gallery), tuple(mated), tuple(nonmated)


@dataclass(frozen=True, slots=True)
class DetectionImage:
    file: str
    boxes: tuple[Box, ...]
    line: int
    """Line of labels.csv where this image's first face is labelled."""


@dataclass(frozen=True, slots=True)
class DetectionSet:
    directory: Path
    images: tuple[DetectionImage, ...]

    @property
    def n_faces(self) -> int:
        return sum(len(img.boxes) for img in self.images)


@dataclass(frozen=True, slots=True)
class DetectionScore:
    """Greedy one-to-one matching of predicted to labelled boxes, summed over images."""

    n_true: int
    n_pred: int
    n_matched: int

    @property
    def recall(self) -> float:
        return self.n_matched / self.n_true if self.n_true else 0.0

    @property
    def precision(self) -> float:
        return self.n_matched / self.n_pred if self.n_pred else 0.0


@dataclass(frozen=True, slots=True)
class FaceEvalReport:
    """The summary of one evaluation; `to_json_dict` gives the `--json` form."""

    directory: Path
    n_images: int
    n_persons: int
    n_pairs: int
    no_face: int
    """Images for which `embed` returned None."""
    no_face_pairs: int
    """Pairs with at least one such image (scored wrong at every threshold)."""
    default_threshold: float
    best_threshold: float
    """Median over the 10 folds of the threshold chosen on the other 9."""
    pairs_accuracy: float
    pairs_accuracy_default: float
    auc: float
    tar_at_far_1e3: float
    n_gallery: int
    n_mated: int
    n_nonmated: int
    rank1: float | None
    """None when there are no mated probes (no person has two images)."""
    tpir: float | None
    fpir: float | None
    """None when there are no non-mated probes (no person has exactly one image)."""
    ms_embed: float
    """Median wall time of one `embed` call (one whole image, including finding the face in it)."""
    no_face_images: tuple[str, ...] = ()
    detection_directory: Path | None = None
    detect_recall: float | None = None
    detect_precision: float | None = None
    n_faces_labelled: int | None = None
    n_faces_detected: int | None = None
    n_faces_matched: int | None = None
    ms_detect: float | None = None
    """Median wall time of one `detect` call on a 640x480 frame; None without a detection callable."""
    openset: OpenSetReport | None = None
    """Watchlist techniques (DET rows) and the decision rule at its default; None without probes."""

    def to_json_dict(self) -> dict[str, Any]:
        """Rates rounded to 4 decimals, thresholds to 4, times to 0.1 ms; None stays None."""
        return {
            "directory": str(self.directory),
            "n_images": self.n_images,
            "n_persons": self.n_persons,
            "n_pairs": self.n_pairs,
            "no_face": self.no_face,
            "no_face_pairs": self.no_face_pairs,
            "default_threshold": _round(self.default_threshold, 4),
            "best_threshold": _round(self.best_threshold, 4),
            "pairs_accuracy": _round(self.pairs_accuracy, 4),
            "pairs_accuracy_default": _round(self.pairs_accuracy_default, 4),
            "auc": _round(self.auc, 4),
            "tar_at_far_1e3": _round(self.tar_at_far_1e3, 4),
            "n_gallery": self.n_gallery,
            "n_mated": self.n_mated,
            "n_nonmated": self.n_nonmated,
            "rank1": _round(self.rank1, 4),
            "tpir": _round(self.tpir, 4),
            "fpir": _round(self.fpir, 4),
            "detection_directory": None
            if self.detection_directory is None
            else str(self.detection_directory),
            "detect_recall": _round(self.detect_recall, 4),
            "detect_precision": _round(self.detect_precision, 4),
            "n_faces_labelled": self.n_faces_labelled,
            "n_faces_detected": self.n_faces_detected,
            "n_faces_matched": self.n_faces_matched,
            "ms_embed": _round(self.ms_embed, 1),
            "ms_detect": _round(self.ms_detect, 1),
            "no_face_images": list(self.no_face_images),
            "openset": None if self.openset is None else openset_json(self.openset),
        }


def _round(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None  # JSON has no NaN/inf; an undefined value is reported as null
    return round(value, digits)


# --------------------------------------------------------------------------------------------------
# Metrics (pure numpy)
# --------------------------------------------------------------------------------------------------


def _as_pairs(
    dist: NDArray[np.floating[Any]], same: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    d = np.asarray(dist, dtype=np.float64)
    s = np.asarray(same, dtype=np.bool_)
    if d.ndim != 1 or d.shape != s.shape:
        raise ValueError(f"dist and same must be 1-D and of equal length, got {d.shape} and {s.shape}")
    return d, s


def accuracy_at(dist: NDArray[np.floating[Any]], same: NDArray[np.bool_], threshold: float) -> float:
    """Share of pairs decided right when accepting distance <= threshold; NaN distances are always wrong."""
    d, s = _as_pairs(dist, same)
    if d.size == 0:
        raise ValueError("accuracy of an empty set of pairs is undefined")
    valid = ~np.isnan(d)
    accepted = valid & (d <= threshold)
    right = np.where(s, accepted, valid & ~accepted)
    return float(np.count_nonzero(right)) / d.size


def _best_threshold(d: NDArray[np.float64], s: NDArray[np.bool_]) -> float:
    """The threshold with the highest accuracy on (d, s); NaN distances are wrong whatever is chosen.

    Candidates are the midpoints between consecutive distinct distances (the middle of each gap, which
    generalises better than an observed distance), one just below the smallest (accept nothing) and the
    largest (accept everything). Ties in accuracy go to the smallest threshold (fewest accepts).
    """
    finite = np.unique(d[~np.isnan(d)])
    if finite.size == 0:
        return 0.0
    candidates = np.concatenate(
        ([np.nextafter(finite[0], -np.inf)], (finite[:-1] + finite[1:]) / 2.0, [finite[-1]])
    )
    pos = np.sort(d[s & ~np.isnan(d)])
    neg = np.sort(d[~s & ~np.isnan(d)])
    true_accepts = np.searchsorted(pos, candidates, side="right")
    true_rejects = neg.size - np.searchsorted(neg, candidates, side="right")
    return float(candidates[int(np.argmax(true_accepts + true_rejects))])


def _fold_of(same: NDArray[np.bool_], k: int) -> NDArray[np.intp]:
    """Fold index per pair: round-robin over same pairs then different pairs (file order kept in each).

    Deterministic and stratified, so each fold gets the same share of same and different pairs even when
    the file lists all same pairs first (as LFW's pairs do), and no fold is empty when k <= n.
    """
    order = np.concatenate((np.flatnonzero(same), np.flatnonzero(~same)))
    folds = np.empty(same.size, dtype=np.intp)
    folds[order] = np.arange(same.size) % k
    return folds


def tenfold_accuracy(
    dist: NDArray[np.floating[Any]], same: NDArray[np.bool_], n_folds: int = N_FOLDS
) -> tuple[float, NDArray[np.float64]]:
    """Mean over folds of the accuracy at the threshold that is best on the other folds.

    The pairs are split into `n_folds` folds (fewer when there are fewer pairs) by `_fold_of`. Returns
    (mean accuracy, the threshold chosen for each fold). NaN distances are wrong at every threshold.
    """
    d, s = _as_pairs(dist, same)
    if d.size < 2:
        raise ValueError(f"cross-validated accuracy needs at least 2 pairs, got {d.size}")
    k = min(n_folds, d.size)
    folds = _fold_of(s, k)
    accuracies: list[float] = []
    thresholds = np.empty(k, dtype=np.float64)
    for fold in range(k):
        test = folds == fold
        thresholds[fold] = _best_threshold(d[~test], s[~test])
        accuracies.append(accuracy_at(d[test], s[test], float(thresholds[fold])))
    return float(np.mean(accuracies)), thresholds


def _worst_case(d: NDArray[np.float64], s: NDArray[np.bool_]) -> NDArray[np.float64]:
    """NaN made wrong everywhere: a same pair as far as possible, a different pair as close as possible."""
    return np.where(np.isnan(d), np.where(s, np.inf, -np.inf), d)


def roc_auc(dist: NDArray[np.floating[Any]], same: NDArray[np.bool_]) -> float:
    """Probability that a same pair is closer than a different pair, ties counting one half.

    Rank-based (Mann-Whitney U), so it does not depend on any threshold. NaN distances rank worst:
    a same pair with NaN is farther than every different pair, a different pair with NaN closer than
    every same pair. ValueError unless both same and different pairs are present.
    """
    d, s = _as_pairs(dist, same)
    if not s.any() or s.all():
        raise ValueError("ROC AUC needs both same and different pairs")
    d = _worst_case(d, s)
    pos = d[s]
    neg = np.sort(d[~s])
    below = np.searchsorted(neg, pos, side="left")
    not_above = np.searchsorted(neg, pos, side="right")
    farther = neg.size - not_above  # different pairs farther than this same pair: ranked right
    ties = not_above - below
    return float(np.sum(farther + 0.5 * ties)) / (pos.size * neg.size)


def tar_at_far(
    dist: NDArray[np.floating[Any]],
    same: NDArray[np.bool_],
    far: float = FAR_TARGET,
    *,
    missing_different_accepted: bool = False,
) -> float:
    """Share of same pairs accepted at the loosest threshold that accepts at most far * n_different pairs.

    The allowed number of false accepts is floor(far * n_different). With few different pairs that is 0
    (300 LFW pairs at FAR 0.001 allow 0.3), so the threshold lies just below the smallest different-pair
    distance and TAR is the share of same pairs strictly closer than every different pair. Ties are
    handled the same way: a threshold equal to a different-pair distance accepts it, so the threshold
    always lies strictly below the first different-pair distance that may not be accepted.

    NaN distances (missing embeddings): a same pair with NaN is never accepted, so it lowers TAR. A
    different pair with NaN is by default taken as rejected (no face, no match) and so does not move the
    threshold. Scoring it as a false accept at every threshold (`missing_different_accepted=True`), like
    the other verification metrics do, would make FAR 0.001 unreachable as soon as one such pair exists
    among fewer than 1000 (TAR 0 whatever the recogniser: 0.000 instead of 0.947 for dlib on the LFW
    fold, where 4 of 300 different pairs hold an image without a detected face).
    """
    d, s = _as_pairs(dist, same)
    if not s.any() or s.all():
        raise ValueError("TAR at FAR needs both same and different pairs")
    if not 0.0 <= far <= 1.0:
        raise ValueError(f"far must be in [0, 1], got {far}")
    neg_all = d[~s]
    allowed = math.floor(far * neg_all.size + 1e-9)  # + epsilon: 0.001 * 1000 is 0.99999... in floats
    neg = np.sort(neg_all[~np.isnan(neg_all)])
    if missing_different_accepted:
        allowed -= neg_all.size - neg.size
    if allowed < 0:
        return 0.0
    pos = d[s & ~np.isnan(d)]
    n_same = int(np.count_nonzero(s))
    if allowed >= neg.size:
        return pos.size / n_same
    first_rejected = neg[allowed]
    return float(np.count_nonzero(pos < first_rejected)) / n_same


def identification(
    gallery_vecs: NDArray[np.floating[Any]],
    gallery_ids: Sequence[str],
    probe_vecs: NDArray[np.floating[Any]],
    probe_ids: Sequence[str],
    mated_mask: NDArray[np.bool_],
    threshold: float,
) -> tuple[float | None, float | None, float | None]:
    """Open-set identification: (rank-1 rate, TPIR, FPIR) against a gallery of one vector per person.

    Each probe's top match is its nearest gallery vector (Euclidean). Rank-1 = share of mated probes whose
    top match is the right person (no threshold). TPIR = share of mated probes whose top match is right
    and within `threshold`. FPIR = share of non-mated probes whose top match is within `threshold` (any
    match raises an alert). Rows with NaN are missing embeddings: a missing gallery row is left out (that
    person cannot be matched), a missing mated probe is a miss and a missing non-mated probe raises no
    alert. Rank-1 and TPIR are None without mated probes, FPIR None without non-mated probes.
    """
    gallery = np.asarray(gallery_vecs, dtype=np.float64)
    probes = np.asarray(probe_vecs, dtype=np.float64)
    mated = np.asarray(mated_mask, dtype=np.bool_)
    if (
        gallery.ndim != 2
        or probes.ndim != 2
        or (gallery.size and probes.size and gallery.shape[1] != probes.shape[1])
    ):
        raise ValueError(
            f"gallery and probes must be 2-D with equal width, got {gallery.shape} and {probes.shape}"
        )
    if (
        len(gallery_ids) != gallery.shape[0]
        or len(probe_ids) != probes.shape[0]
        or mated.shape != (probes.shape[0],)
    ):
        raise ValueError("ids and mated_mask must have one entry per gallery or probe row")
    g_ok = ~np.isnan(gallery).any(axis=1)
    p_ok = ~np.isnan(probes).any(axis=1)
    ids = np.asarray(gallery_ids, dtype=object)[g_ok]
    top_id = np.full(probes.shape[0], None, dtype=object)
    top_dist = np.full(probes.shape[0], np.inf)
    if g_ok.any() and p_ok.any():
        diff = probes[p_ok][:, None, :] - gallery[g_ok][None, :, :]
        dists = np.sqrt(np.einsum("pgd,pgd->pg", diff, diff))
        best = np.argmin(dists, axis=1)
        top_id[p_ok] = ids[best]
        top_dist[p_ok] = dists[np.arange(best.size), best]
    right = np.array(
        [top_id[i] is not None and top_id[i] == probe_ids[i] for i in range(probes.shape[0])], bool
    )
    within = top_dist <= threshold
    n_mated = int(np.count_nonzero(mated))
    n_nonmated = mated.size - n_mated
    rank1 = float(np.count_nonzero(right & mated)) / n_mated if n_mated else None
    tpir = float(np.count_nonzero(right & within & mated)) / n_mated if n_mated else None
    fpir = float(np.count_nonzero(within & ~mated)) / n_nonmated if n_nonmated else None
    return rank1, tpir, fpir


def _iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _match_image(pred: Sequence[Box], true: Sequence[Box], iou: float) -> int:
    """Greedy one-to-one: take the highest-IoU (prediction, label) pair left, while its IoU >= `iou`."""
    scored = sorted(
        ((_iou(p, t), i, j) for i, p in enumerate(pred) for j, t in enumerate(true)),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    used_pred: set[int] = set()
    used_true: set[int] = set()
    for value, i, j in scored:
        if value < iou:
            break
        if i not in used_pred and j not in used_true:
            used_pred.add(i)
            used_true.add(j)
    return len(used_true)


def detection_recall(
    pred_boxes: Sequence[Sequence[Box]], true_boxes: Sequence[Sequence[Box]], iou: float = DETECT_IOU
) -> DetectionScore:
    """Match predictions to labels image by image (lists of boxes per image, same order) and sum."""
    if len(pred_boxes) != len(true_boxes):
        raise ValueError(f"need one prediction list per image: {len(pred_boxes)} vs {len(true_boxes)} images")
    matched = sum(_match_image(p, t, iou) for p, t in zip(pred_boxes, true_boxes, strict=True))
    return DetectionScore(
        n_true=sum(len(t) for t in true_boxes), n_pred=sum(len(p) for p in pred_boxes), n_matched=matched
    )


# --------------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------------


def _read_csv(
    path: Path, required: Sequence[str], exact: bool
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line, fields) of the non-blank rows; FaceEvalError on a missing file or bad header."""
    if not path.is_file():
        raise FaceEvalError(f"{path} is missing: expected a CSV with header {','.join(required)}")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header = [c.strip() for c in rows[0]] if rows else []
    if (exact and tuple(header) != tuple(required)) or not set(required) <= set(header):
        found = ",".join(rows[0]) if rows else "an empty file"
        raise FaceEvalError(f"{path} line 1: expected header {','.join(required)}, found {found}")
    body = [(n, row) for n, row in enumerate(rows[1:], start=2) if row and any(c.strip() for c in row)]
    for number, row in body:
        if len(row) != len(header):
            raise FaceEvalError(f"{path} line {number}: expected {len(header)} fields, got {len(row)}: {row}")
    return header, body


def _parse_same(path: Path, number: int, value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise FaceEvalError(f"{path} line {number}: same must be 1/0, true/false or yes/no, got {value!r}")


def load_face_set(directory: Path) -> FaceSet:
    """Images, pairs and identities of a face folder; FaceEvalError naming the file and line that is wrong."""
    if not directory.is_dir():
        raise FaceEvalError(f"face evaluation folder {directory} does not exist or is not a folder")
    images = tuple(
        sorted(
            (
                FaceImage(f"{p.parent.name}/{p.name}", p.parent.name)
                for p in directory.glob("*/*")
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            ),
            key=lambda img: img.path,
        )
    )
    if not images:
        raise FaceEvalError(
            f"{directory} has no <person>/<image> files ({', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    known = {img.path for img in images}
    pairs_path = directory / PAIRS_FILE
    _, body = _read_csv(pairs_path, PAIRS_COLUMNS, exact=True)
    pairs: list[FacePair] = []
    for number, row in body:
        img1, img2 = (c.strip().replace("\\", "/") for c in row[:2])
        for name in (img1, img2):
            if name not in known:
                raise FaceEvalError(f"{pairs_path} line {number}: image {name!r} is not in {directory}")
        pairs.append(FacePair(img1, img2, _parse_same(pairs_path, number, row[2]), number))
    if not pairs:
        raise FaceEvalError(f"{pairs_path} has a header but no pairs")
    if all(p.same for p in pairs) or not any(p.same for p in pairs):
        raise FaceEvalError(f"{pairs_path} needs both same-person and different-person pairs")
    identities: list[str] = []
    identities_path = directory / IDENTITIES_FILE
    if identities_path.exists():
        header, body = _read_csv(identities_path, ("person",), exact=False)
        column = header.index("person")
        persons = {img.person for img in images}
        for number, row in body:
            person = row[column].strip()
            if person not in persons:
                raise FaceEvalError(
                    f"{identities_path} line {number}: person {person!r} has no images in {directory}"
                )
            identities.append(person)
    return FaceSet(directory, images, tuple(pairs), tuple(identities))


def load_detection_set(directory: Path) -> DetectionSet:
    """Labelled faces of a detection folder, grouped by image in file order; FaceEvalError on bad input.

    Images in the folder that labels.csv does not name are ignored (they may hold unlabelled faces).
    """
    if not directory.is_dir():
        raise FaceEvalError(f"face detection folder {directory} does not exist or is not a folder")
    path = directory / LABELS_FILE
    _, body = _read_csv(path, LABEL_COLUMNS, exact=True)
    boxes: dict[str, list[Box]] = {}
    first_line: dict[str, int] = {}
    for number, row in body:
        file = row[0].strip()
        if not file:
            raise FaceEvalError(f"{path} line {number}: file must not be empty")
        if not (directory / file).is_file():
            raise FaceEvalError(f"{path} line {number}: image {file!r} is not in {directory}")
        try:
            x, y, w, h = (int(v) for v in row[1:])
        except ValueError:
            raise FaceEvalError(f"{path} line {number}: x, y, w, h must be integers, got {row[1:]}") from None
        if w <= 0 or h <= 0:
            raise FaceEvalError(f"{path} line {number}: box must have w, h > 0, got {row[1:]}")
        boxes.setdefault(file, []).append((x, y, w, h))
        first_line.setdefault(file, number)
    if not boxes:
        raise FaceEvalError(f"{path} has a header but no labelled faces")
    return DetectionSet(
        directory, tuple(DetectionImage(f, tuple(b), first_line[f]) for f, b in boxes.items())
    )


def _load_rgb(path: Path) -> NDArray[np.uint8]:
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise FaceEvalError(f"cannot decode {path} ({data.size} bytes): not an image or corrupt")
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def letterbox(image: NDArray[np.uint8], size: tuple[int, int] = FRAME_SIZE) -> NDArray[np.uint8]:
    """`image` scaled to fit `size` (width, height) keeping its aspect ratio, padded black right and below."""
    width, height = size
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[:new_h, :new_w] = resized
    return frame


# --------------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------------


def _embed_all(
    face_set: FaceSet, embed: Embed, progress: Progress | None
) -> tuple[dict[str, NDArray[np.float64] | None], list[float]]:
    """Each image embedded once, in path order; returns the embeddings by path and the call times (ms)."""
    vectors: dict[str, NDArray[np.float64] | None] = {}
    times: list[float] = []
    width: int | None = None
    for i, img in enumerate(face_set.images, start=1):
        pixels = _load_rgb(face_set.directory / img.path)  # only pixels cross to the recogniser
        start = time.perf_counter()
        out = embed(pixels)
        times.append((time.perf_counter() - start) * 1000.0)
        if out is None:
            vectors[img.path] = None
        else:
            vec = np.asarray(out, dtype=np.float64).ravel()
            if vec.size == 0 or not np.isfinite(vec).all():
                raise ValueError(f"embed returned an empty or non-finite vector for {img.path}")
            if width is not None and vec.size != width:
                raise ValueError(f"embed returned {vec.size} values for {img.path}, earlier images {width}")
            width = vec.size
            vectors[img.path] = vec
        if progress is not None:
            progress(i, len(face_set.images))
    return vectors, times


def _pair_distance(a: NDArray[np.float64] | None, b: NDArray[np.float64] | None) -> float:
    """Euclidean distance, NaN when either embedding is missing (scored wrong at every threshold)."""
    return math.nan if a is None or b is None else float(np.linalg.norm(a - b))


def _stack(vectors: Sequence[NDArray[np.float64] | None], width: int) -> NDArray[np.float64]:
    """Rows of vectors, NaN rows where an embedding is missing."""
    out = np.full((len(vectors), width), np.nan)
    for i, vec in enumerate(vectors):
        if vec is not None:
            out[i] = vec
    return out


def _evaluate_detection(detection_set: DetectionSet, detect: Detect) -> tuple[DetectionScore, float]:
    """Recall/precision on the labelled images as stored, then the median time on 640x480 frames.

    Recall is measured on the original images so the labels are used unchanged; timing uses a separate
    call on each image letterboxed to 640x480, run after the scoring calls so model loading is not timed.
    """
    images = [_load_rgb(detection_set.directory / img.file) for img in detection_set.images]
    preds = [list(detect(image)) for image in images]
    score = detection_recall(preds, [img.boxes for img in detection_set.images])
    times: list[float] = []
    for image in images:
        frame = letterbox(image)
        start = time.perf_counter()
        detect(frame)
        times.append((time.perf_counter() - start) * 1000.0)
    return score, statistics.median(times)


def evaluate_faces(
    face_set: FaceSet,
    embed: Embed,
    default_threshold: float,
    detection_set: DetectionSet | None = None,
    detect: Detect | None = None,
    *,
    progress: Progress | None = None,
    target_fpir: float = 0.01,
    enrol: int = 3,
    gallery_size: int | None = None,
    cohort_k: int = 3,
    cohort_weight: float = 1.0,
) -> FaceEvalReport:
    """Embed every image of `face_set` once and score verification, identification and, optionally, detection.

    `embed` receives one whole decoded image (RGB uint8) and returns the embedding of its primary face or
    None; it never sees a file name. `ms_embed` is the median time of those calls, so it includes finding
    the face in the image. Missing embeddings are scored as failures (see the module docstring).
    `detect` is needed when `detection_set` is given; `ms_detect` is None without it.
    """
    if detection_set is not None and detect is None:
        raise ValueError("a detection set needs a detect callable")
    vectors, times = _embed_all(face_set, embed, progress)
    width = next((v.size for v in vectors.values() if v is not None), 1)

    dist = np.array([_pair_distance(vectors[p.img1], vectors[p.img2]) for p in face_set.pairs], np.float64)
    same = np.array([p.same for p in face_set.pairs], dtype=np.bool_)
    accuracy, thresholds = tenfold_accuracy(dist, same)

    gallery, mated, nonmated = face_set.identification_split()
    probes = mated + nonmated
    rank1, tpir, fpir = identification(
        _stack([vectors[g.path] for g in gallery], width),
        [g.person for g in gallery],
        _stack([vectors[p.path] for p in probes], width),
        [p.person for p in probes],
        np.array([True] * len(mated) + [False] * len(nonmated), dtype=np.bool_),
        default_threshold,
    )

    score: DetectionScore | None = None
    ms_detect: float | None = None
    if detection_set is not None and detect is not None:
        score, ms_detect = _evaluate_detection(detection_set, detect)

    people: dict[str, list[NDArray[np.float64] | None]] = {}
    for img in face_set.images:  # sorted by path: each person's photos in order
        people.setdefault(img.person, []).append(vectors[img.path])
    openset = None
    if mated and nonmated and any(v is not None for v in vectors.values()):
        openset = evaluate_openset(
            people,
            target_fpir=target_fpir,
            enrol=enrol,
            gallery_size=gallery_size,
            cohort_k=cohort_k,
            cohort_weight=cohort_weight,
        )

    no_face = tuple(path for path, vec in vectors.items() if vec is None)
    return FaceEvalReport(
        directory=face_set.directory,
        n_images=len(face_set.images),
        n_persons=len(face_set.persons),
        n_pairs=len(face_set.pairs),
        no_face=len(no_face),
        no_face_pairs=int(np.count_nonzero(np.isnan(dist))),
        default_threshold=default_threshold,
        best_threshold=float(np.median(thresholds)),
        pairs_accuracy=accuracy,
        pairs_accuracy_default=accuracy_at(dist, same, default_threshold),
        auc=roc_auc(dist, same),
        tar_at_far_1e3=tar_at_far(dist, same, FAR_TARGET),
        n_gallery=len(gallery),
        n_mated=len(mated),
        n_nonmated=len(nonmated),
        rank1=rank1,
        tpir=tpir,
        fpir=fpir,
        ms_embed=statistics.median(times),
        no_face_images=no_face,
        detection_directory=None if detection_set is None else detection_set.directory,
        detect_recall=None if score is None else score.recall,
        detect_precision=None if score is None else score.precision,
        n_faces_labelled=None if score is None else score.n_true,
        n_faces_detected=None if score is None else score.n_pred,
        n_faces_matched=None if score is None else score.n_matched,
        ms_detect=ms_detect,
        openset=openset,
    )


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render_table(report: FaceEvalReport) -> str:
    """The human-readable summary: one metric per line, aligned, with counts beside the rates."""
    r = report
    rows: list[tuple[str, str]] = [
        ("images / persons / pairs", f"{r.n_images} / {r.n_persons} / {r.n_pairs}"),
        ("no face found", f"{r.no_face} images ({r.no_face_pairs} pairs), scored as failures"),
        (
            "verification accuracy, 10-fold",
            f"{_fmt(r.pairs_accuracy)} (median threshold {r.best_threshold:.3f})",
        ),
        (
            "accuracy at default threshold",
            f"{_fmt(r.pairs_accuracy_default)} (threshold {r.default_threshold:.3f})",
        ),
        ("ROC AUC", _fmt(r.auc)),
        ("TAR at FAR 0.001", _fmt(r.tar_at_far_1e3)),
        ("gallery / mated / non-mated", f"{r.n_gallery} / {r.n_mated} / {r.n_nonmated}"),
        ("rank-1 identification (1 photo)", _fmt(r.rank1)),
        (f"TPIR, 1 photo, distance <= {r.default_threshold:.2f}", _fmt(r.tpir)),
        (f"FPIR, 1 photo, distance <= {r.default_threshold:.2f}", _fmt(r.fpir)),
        ("ms per face, embed (median)", f"{r.ms_embed:.1f}"),
    ]
    if r.detect_recall is not None:
        rows += [
            (
                f"detection recall, IoU >= {DETECT_IOU}",
                f"{_fmt(r.detect_recall)} ({r.n_faces_matched}/{r.n_faces_labelled} faces)",
            ),
            (
                "detection precision",
                f"{_fmt(r.detect_precision)} ({r.n_faces_matched}/{r.n_faces_detected} boxes)",
            ),
        ]
    if r.ms_detect is not None:
        rows.append(("ms per 640x480 frame, detect (median)", f"{r.ms_detect:.1f}"))
    width = max(len(name) for name, _ in rows)
    lines = [f"Face recognition: {r.directory}"]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    if r.openset is not None:
        lines += ["", render_openset(r.openset)]
    return "\n".join(lines)
