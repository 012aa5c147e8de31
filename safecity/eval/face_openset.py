"""Open-set identification on a labelled face set: the DET trade-off of each watchlist technique.

Owns the watchlist part of `safecity eval faces`: how many listed people are found (TPIR) for how
many strangers raising an alert (FPIR), for each way of scoring a probe against the gallery, and
what the shipped decision rule does on the set.

Protocol. Every person with two or more photos is enrolled from their first `enrol` photos (at
most all but one) and probed with the rest (mated probes); people with one photo are strangers
(non-mated probes). `gallery_size` keeps only the first that many enrolled people (sorted): the
photos of the others become strangers too, so FPIR's growth with the gallery shows. Missing
embeddings count as failures: a mated probe without one is a miss, a stranger without one raises
nothing, an enrolled photo without one is left out of the template.

Techniques (each alone, then combined), scored so that smaller is more alike:
* `distance, 1 photo`: the distance to the first photo's embedding (the old watchlist);
* `distance`: the distance to the mean of the enrolled photos (multi-photo template);
* `margin`: the distance less its margin to the second-nearest person (rank-based);
* `cohort (gallery)`: the distance less its margin to the k nearest enrolled photos of others;
* `cohort (calibrated)`: the same with the cohort of a calibration on the other half of the
  people (identity-disjoint), as `safecity faces calibrate` on a city's own photos would give.
The DET rows sweep the threshold over the strangers' scores of this set; the `at default` rows
apply the decision rule at `faces.target_fpir` with its own threshold, never chosen on this set:
the shipped table (a fresh installation) and a calibration on the other half (cross-fitted: each
half is judged with the calibration measured on the other).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from safecity.types import FACE_EMBEDDING_DIM
from safecity.watch.face_calibration import MIN_PERSONS, calibrate
from safecity.watch.face_decision import SHIPPED, FaceCalibration, OpenSetRule, cohort_score

DET_FPIRS = (0.001, 0.005, 0.01, 0.05)
TECHNIQUES = ("distance, 1 photo", "distance", "margin", "cohort (gallery)", "cohort (calibrated)")

Vector = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TechniqueRow:
    """One scoring technique: rank-1 and TPIR at each FPIR of `DET_FPIRS` (thresholds swept)."""

    name: str
    rank1: float
    tpir_at: tuple[float, ...]
    us_per_probe: float
    """Scoring cost per probe against the whole gallery (microseconds, excluding the embedding)."""
    curve: tuple[tuple[float, float], ...]
    """(FPIR, TPIR) points of the DET curve, FPIR rising."""


@dataclass(frozen=True, slots=True)
class DefaultRow:
    """The decision rule as deployed, applied with its own threshold."""

    name: str
    method: str
    target_fpir: float
    threshold: float
    """The threshold for this gallery size (the mean of the two halves' when cross-fitted)."""
    tpir: float
    fpir: float
    false_alarms: int
    n_nonmated: int


@dataclass(frozen=True, slots=True)
class OpenSetReport:
    enrol: int
    n_gallery: int
    n_mated: int
    n_nonmated: int
    techniques: tuple[TechniqueRow, ...]
    defaults: tuple[DefaultRow, ...]


@dataclass(frozen=True, slots=True)
class _Split:
    templates: NDArray[np.float32]
    photos: tuple[NDArray[np.float32], ...]
    first: NDArray[np.float32]
    ids: tuple[str, ...]
    probes: NDArray[np.float32]
    probe_ids: tuple[str | None, ...]
    """The person of each probe; None for a stranger."""
    probe_ok: NDArray[np.bool_]


def _split(people: Mapping[str, Sequence[Vector | None]], enrol: int, gallery_size: int | None) -> _Split:
    enrolled = [p for p in sorted(people) if len(people[p]) >= 2]
    if gallery_size is not None:
        enrolled = enrolled[:gallery_size]
    chosen = set(enrolled)
    templates, photos, first, ids = [], [], [], []
    probes: list[Vector | None] = []
    probe_ids: list[str | None] = []
    for person in sorted(people):
        vectors = list(people[person])
        if person in chosen:
            k = min(enrol, len(vectors) - 1)
            known = [v for v in vectors[:k] if v is not None]
            probes.extend(vectors[k:])
            probe_ids.extend([person] * (len(vectors) - k))
            if known and vectors[0] is not None:
                stacked = np.stack(known).astype(np.float32)
                templates.append(stacked.mean(axis=0))
                photos.append(stacked)
                first.append(np.asarray(vectors[0], np.float32))
                ids.append(person)
        else:
            probes.extend(vectors)
            probe_ids.extend([None] * len(vectors))
    width = next(v.size for vs in people.values() for v in vs if v is not None)
    matrix = np.zeros((len(probes), width), np.float32)
    ok = np.array([v is not None for v in probes], bool)
    for i, v in enumerate(probes):
        if v is not None:
            matrix[i] = v
    return _Split(
        np.stack(templates) if templates else np.zeros((0, width), np.float32),
        tuple(photos),
        np.stack(first) if first else np.zeros((0, width), np.float32),
        tuple(ids),
        matrix,
        tuple(probe_ids),
        ok,
    )


def _scores(
    split: _Split, technique: str, calibration: FaceCalibration | None, k: int, weight: float
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """(nearest person index, score) per probe; +inf score for probes without an embedding."""
    gallery = split.first if technique == "distance, 1 photo" else split.templates
    distances = np.linalg.norm(split.probes[:, None, :] - gallery[None, :, :], axis=2).astype(np.float64)
    order = np.argsort(distances, axis=1)
    best = order[:, 0]
    rows = np.arange(len(best))
    d1 = distances[rows, best]
    if technique in ("distance, 1 photo", "distance"):
        scores = d1
    elif technique == "margin":
        # With one person enrolled there is no second-nearest: the distance alone.
        d2 = distances[rows, order[:, 1]] if gallery.shape[0] > 1 else d1
        scores = d1 - (d2 - d1)
    else:
        calib = calibration if technique == "cohort (calibrated)" else None
        extra = calib.cohort if calib is not None else np.zeros((0, gallery.shape[1]), np.float32)
        owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(split.photos)])
        enrolled = np.concatenate(split.photos)
        to_photos = np.linalg.norm(split.probes[:, None, :] - enrolled[None, :, :], axis=2)
        to_extra = np.linalg.norm(split.probes[:, None, :] - extra[None, :, :], axis=2)
        scores = np.array(
            [
                cohort_score(
                    float(d1[i]), np.concatenate([to_photos[i][owner != best[i]], to_extra[i]]), k, weight
                )
                for i in rows
            ]
        )
    scores = np.where(split.probe_ok, scores, np.inf)
    return best, scores


def _det(
    split: _Split, best: NDArray[np.intp], scores: NDArray[np.float64]
) -> tuple[float, tuple[float, ...], tuple[tuple[float, float], ...]]:
    mated = np.array([p is not None for p in split.probe_ids], bool)
    ids = np.asarray(split.ids, dtype=object)
    right = np.array(
        [
            p is not None and ok and len(ids) > 0 and ids[b] == p
            for p, b, ok in zip(split.probe_ids, best, split.probe_ok, strict=True)
        ],
        bool,
    )
    n_mated = max(1, int(mated.sum()))
    strangers = np.sort(scores[~mated])
    rank1 = float((right & mated).sum()) / n_mated

    def tpir_at(fpir: float) -> float:
        allowed = int(np.floor(fpir * strangers.size + 1e-9))
        # Accept scores strictly below the (allowed+1)-th smallest stranger score.
        limit = strangers[allowed] if allowed < strangers.size else np.inf
        return float((right & mated & (scores < limit)).sum()) / n_mated

    points = sorted({0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0})
    curve = tuple((f, tpir_at(f)) for f in points)
    return rank1, tuple(tpir_at(f) for f in DET_FPIRS), curve


def _halves(people: Mapping[str, Sequence[Vector | None]]) -> tuple[list[str], list[str]]:
    names = sorted(people)
    return names[0::2], names[1::2]


def _calibration_of(
    people: Mapping[str, Sequence[Vector | None]], names: Sequence[str], enrol: int, k: int, weight: float
) -> FaceCalibration:
    arrays = [
        np.stack([v for v in people[n] if v is not None])
        for n in names
        if any(v is not None for v in people[n])
    ]
    return calibrate(
        arrays, method="cohort", enrol=enrol, cohort_k=k, cohort_weight=weight, source="other half"
    )


def _decide_all(split: _Split, rule: OpenSetRule) -> tuple[int, int, int, int]:
    """(true positives, mated, false alarms, strangers) under the rule."""
    tp = fa = 0
    mated = sum(p is not None for p in split.probe_ids)
    strangers = len(split.probe_ids) - mated
    if split.templates.shape[0] == 0:
        return 0, mated, 0, strangers
    for vector, person, ok in zip(split.probes, split.probe_ids, split.probe_ok, strict=True):
        if not ok:
            continue
        decision = rule.decide(vector, split.templates, split.photos)
        if decision.matched:
            if person is None:
                fa += 1
            elif split.ids[decision.index] == person:
                tp += 1
    return tp, mated, fa, strangers


def evaluate_openset(
    people: Mapping[str, Sequence[Vector | None]],
    *,
    target_fpir: float,
    enrol: int = 3,
    gallery_size: int | None = None,
    cohort_k: int = 3,
    cohort_weight: float = 1.0,
) -> OpenSetReport:
    """Every technique's DET row and the decision rule at its default on `people` (embeddings in
    photo order per person; None where no face was found)."""
    if enrol < 1:
        raise ValueError(f"enrol must be at least 1, got {enrol}")
    if not any(v is not None for vs in people.values() for v in vs):
        raise ValueError("no embeddings to evaluate")
    split = _split(people, enrol, gallery_size)
    # The decision rule's tables are for dlib's 128-d space; a calibration needs enough people.
    rule_applies = split.probes.shape[1] == FACE_EMBEDDING_DIM
    half_a, half_b = _halves(people)
    calibrated = rule_applies and min(_with_faces(people, half_a), _with_faces(people, half_b)) >= MIN_PERSONS
    cal: dict[str, FaceCalibration] = {}
    parts: dict[str, _Split] = {}
    if calibrated:
        cal = {
            "a": _calibration_of(people, half_b, enrol, cohort_k, cohort_weight),
            "b": _calibration_of(people, half_a, enrol, cohort_k, cohort_weight),
        }
        parts = {
            "a": _split({n: people[n] for n in half_a}, enrol, None),
            "b": _split({n: people[n] for n in half_b}, enrol, None),
        }
    rows = []
    for technique in TECHNIQUES if calibrated else TECHNIQUES[:-1]:
        start = time.perf_counter()
        if technique == "cohort (calibrated)":
            # Each half judged with the calibration of the other; the DET pools both halves.
            pooled = [
                (parts[h], *_scores(parts[h], technique, cal[h], cohort_k, cohort_weight)) for h in "ab"
            ]
            merged = _merge(pooled)
            best, scores, scored = merged[1], merged[2], merged[0]
        else:
            best, scores = _scores(split, technique, None, cohort_k, cohort_weight)
            scored = split
        elapsed = time.perf_counter() - start
        rank1, tpirs, curve = _det(scored, best, scores)
        rows.append(TechniqueRow(technique, rank1, tpirs, 1e6 * elapsed / max(1, len(scores)), curve))
    n_mated = sum(p is not None for p in split.probe_ids)

    def report(defaults: Sequence[DefaultRow]) -> OpenSetReport:
        n_gallery, n_strangers = split.templates.shape[0], len(split.probe_ids) - n_mated
        return OpenSetReport(enrol, n_gallery, n_mated, n_strangers, tuple(rows), tuple(defaults))

    if not rule_applies:
        return report(())
    defaults = [_default_row("shipped table (no calibration)", split, OpenSetRule(SHIPPED, target_fpir))]
    if not calibrated:
        return report(defaults)
    tp = mated = fa = strangers = 0
    thresholds = []
    for h in "ab":
        rule = OpenSetRule(cal[h], target_fpir)
        t, m, f, s = _decide_all(parts[h], rule)
        tp, mated, fa, strangers = tp + t, mated + m, fa + f, strangers + s
        thresholds.append(rule.threshold(parts[h].templates.shape[0]))
    defaults.append(
        DefaultRow(
            "calibrated on the other half",
            "cohort",
            target_fpir,
            float(np.mean(thresholds)),
            tp / max(1, mated),
            fa / max(1, strangers),
            fa,
            strangers,
        )
    )
    return report(defaults)


def _with_faces(people: Mapping[str, Sequence[Vector | None]], names: Sequence[str]) -> int:
    return sum(any(v is not None for v in people[n]) for n in names)


def _default_row(name: str, split: _Split, rule: OpenSetRule) -> DefaultRow:
    tp, mated, fa, strangers = _decide_all(split, rule)
    return DefaultRow(
        name,
        rule.method,
        rule.target_fpir,
        rule.threshold(split.templates.shape[0]),
        tp / max(1, mated),
        fa / max(1, strangers),
        fa,
        strangers,
    )


def _merge(
    pooled: Sequence[tuple[_Split, NDArray[np.intp], NDArray[np.float64]]],
) -> tuple[_Split, NDArray[np.intp], NDArray[np.float64]]:
    """Two halves' probes as one, with person indices shifted into one gallery."""
    offset = 0
    bests, scores, oks, probes = [], [], [], []
    ids: list[str] = []
    probe_ids: list[str | None] = []
    for split, best, score in pooled:
        bests.append(best + offset)
        offset += len(split.ids)
        scores.append(score)
        ids.extend(split.ids)
        probe_ids.extend(split.probe_ids)
        oks.append(split.probe_ok)
        probes.append(split.probes)
    first = pooled[0][0]
    merged = _Split(
        first.templates,
        first.photos,
        first.first,
        tuple(ids),
        np.concatenate(probes),
        tuple(probe_ids),
        np.concatenate(oks),
    )
    return merged, np.concatenate(bests), np.concatenate(scores)


def openset_json(report: OpenSetReport) -> dict[str, object]:
    """The `--json` form: rates rounded to 4 decimals."""
    return {
        "enrol": report.enrol,
        "n_gallery": report.n_gallery,
        "n_mated": report.n_mated,
        "n_nonmated": report.n_nonmated,
        "det_fpirs": list(DET_FPIRS),
        "techniques": [
            {
                "name": t.name,
                "rank1": round(t.rank1, 4),
                "tpir_at": [round(v, 4) for v in t.tpir_at],
                "us_per_probe": round(t.us_per_probe, 1),
            }
            for t in report.techniques
        ],
        "defaults": [
            {
                "name": d.name,
                "method": d.method,
                "target_fpir": d.target_fpir,
                "threshold": round(d.threshold, 4),
                "tpir": round(d.tpir, 4),
                "fpir": round(d.fpir, 4),
                "false_alarms": d.false_alarms,
                "n_nonmated": d.n_nonmated,
            }
            for d in report.defaults
        ],
    }


def render_openset(report: OpenSetReport) -> str:
    """The DET table (one row per technique) and the rule at its default, as aligned text."""
    head = f"  {'technique':<22} {'rank-1':>7} " + " ".join(f"{f'@{f:g}':>8}" for f in DET_FPIRS)
    lines = [
        f"Watchlist (open-set): {report.n_gallery} people enrolled from up to {report.enrol} photos, "
        f"{report.n_mated} mated probes, {report.n_nonmated} strangers",
        "TPIR at FPIR (threshold swept over this set's strangers):",
        head + f" {'us/probe':>9}",
    ]
    for t in report.techniques:
        cells = " ".join(f"{v:>8.3f}" for v in t.tpir_at)
        lines.append(f"  {t.name:<22} {t.rank1:>7.3f} {cells} {t.us_per_probe:>9.0f}")
    lines.append("At the default (the rule's own threshold, not chosen on this set):")
    for d in report.defaults:
        lines.append(
            f"  {d.name:<32} {d.method:<8} target FPIR {d.target_fpir:g}  threshold {d.threshold:.3f}  "
            f"TPIR {d.tpir:.3f}  FPIR {d.fpir:.4f} ({d.false_alarms}/{d.n_nonmated})"
        )
    return "\n".join(lines)
