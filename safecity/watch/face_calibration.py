"""Calibrating the watchlist decision on labelled photos of people who stand for the passers-by.

Owns turning labelled face embeddings (several photos per person, no names needed) into a
`FaceCalibration`: every person is enrolled as a watchlist would enrol them (the mean of up to
`enrol` photos) and every photo of every other person is compared with that template, as a
stranger walking past would be. The scores of these impostor comparisons give the FAR table;
for the `cohort` score the photos themselves become the cohort (each comparison leaves out the
two people involved, as the deployed rule leaves out the candidate).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from safecity.types import FACE_EMBEDDING_DIM
from safecity.watch.face_decision import FaceCalibration, FarTable, Method

MIN_PERSONS = 20
"""Fewer people than this cannot stand for the passers-by of a city."""
PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})


def person_folders(directory: Path) -> list[list[Path]]:
    """The photos of each person: one sub-folder per person, photos inside (names are never read
    beyond telling people apart). ValueError naming the folder when it holds no usable layout."""
    if not directory.is_dir():
        raise ValueError(f"{directory}: not a folder")
    people = []
    for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
        photos = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in PHOTO_SUFFIXES)
        if photos:
            people.append(photos)
    if len(people) < MIN_PERSONS:
        raise ValueError(
            f"{directory}: {len(people)} people with photos; calibration needs at least {MIN_PERSONS} "
            "sub-folders, one per person, with .jpg or .png photos"
        )
    return people


def templates_of(people: Sequence[npt.NDArray[np.floating]], enrol: int) -> npt.NDArray[np.float32]:
    """One template per person: the mean of their first `enrol` photos."""
    return np.stack([np.asarray(p[:enrol], np.float64).mean(axis=0) for p in people]).astype(np.float32)


def calibrate(
    people: Sequence[npt.NDArray[np.floating]],
    *,
    method: Method,
    enrol: int = 3,
    cohort_k: int = 3,
    cohort_weight: float = 1.0,
    source: str = "",
) -> FaceCalibration:
    """The calibration measured on `people` (one n_i x 128 array of photo embeddings per person)."""
    people = [np.asarray(p, np.float32).reshape(-1, FACE_EMBEDDING_DIM) for p in people]
    people = [p[~np.isnan(p).any(axis=1)] for p in people]
    people = [p for p in people if len(p)]
    if len(people) < MIN_PERSONS:
        raise ValueError(f"calibration needs photos of at least {MIN_PERSONS} people, got {len(people)}")
    photos = np.concatenate(people)
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(people)])
    templates = templates_of(people, enrol)
    distances = np.linalg.norm(photos[:, None, :] - templates[None, :, :], axis=2)  # photo x person
    impostor = owner[:, None] != np.arange(len(people))[None, :]
    if method == "distance":
        scores = distances[impostor]
    else:
        scores = _cohort_scores(photos, owner, distances, cohort_k, cohort_weight)[impostor]
    return FaceCalibration(
        method=method,
        table=FarTable.from_impostor_scores(scores),
        cohort=photos if method == "cohort" else np.zeros((0, FACE_EMBEDDING_DIM), np.float32),
        cohort_k=cohort_k,
        cohort_weight=cohort_weight,
        persons=len(people),
        images=int(photos.shape[0]),
        source=source,
        created=datetime.now(UTC),
    )


def _cohort_scores(
    photos: npt.NDArray[np.float32],
    owner: npt.NDArray[np.int_],
    distances: npt.NDArray[np.floating],
    k: int,
    weight: float,
) -> npt.NDArray[np.float64]:
    """Cohort scores of every photo against every template, the two people left out of the cohort:
    `cohort_score` for all pairs at once (the per-pair loop is too slow for thousands of photos)."""
    n_people = distances.shape[1]
    between = np.linalg.norm(photos[:, None, :] - photos[None, :, :], axis=2)
    between[owner[:, None] == owner[None, :]] = np.inf  # the probe's own photos are not cohort
    most_photos = int(np.bincount(owner).max())
    depth = min(between.shape[1], k + most_photos)
    nearest = np.argsort(between, axis=1)[:, :depth]
    near_d = np.take_along_axis(between, nearest, axis=1)
    near_owner = owner[nearest]
    scores = np.empty_like(distances, dtype=np.float64)
    for person in range(n_people):
        usable = (near_owner != person) & np.isfinite(near_d)
        first_k = usable & (np.cumsum(usable, axis=1) <= k)
        count = first_k.sum(axis=1)
        cohort_mean = np.where(first_k, near_d, 0.0).sum(axis=1) / np.maximum(count, 1)
        # As `cohort_score`: without any cohort face the score is the distance itself.
        margin = np.where(count > 0, cohort_mean - distances[:, person], 0.0)
        scores[:, person] = distances[:, person] - weight * margin
    return scores
