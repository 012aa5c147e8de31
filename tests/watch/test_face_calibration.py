"""Calibrating the watchlist decision on labelled photos: impostor tables, cohort, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from safecity.watch.face_calibration import MIN_PERSONS, _cohort_scores, calibrate, person_folders
from safecity.watch.face_decision import cohort_score


def people(n: int, photos: int = 4, spread: float = 0.25, seed: int = 0) -> list[np.ndarray]:
    """Synthetic identities: a random centre each, photos scattered around it."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        centre = rng.normal(size=128)
        centre /= np.linalg.norm(centre)
        out.append((centre + rng.normal(scale=spread / np.sqrt(128), size=(photos, 128))).astype(np.float32))
    return out


def test_distance_calibration_counts_every_impostor_comparison() -> None:
    result = calibrate(people(25, photos=4), method="distance", enrol=3)
    assert result.table.comparisons == 25 * 4 * 24  # every photo against every other person
    assert result.cohort.shape == (0, 128)


def test_cohort_calibration_keeps_every_photo_as_the_cohort() -> None:
    result = calibrate(people(25, photos=4), method="cohort", enrol=3, cohort_k=2, cohort_weight=0.5)
    assert result.cohort.shape == (100, 128)
    assert (result.cohort_k, result.cohort_weight, result.persons, result.images) == (2, 0.5, 25, 100)


@pytest.mark.parametrize("method", ["distance", "cohort"])
def test_impostor_thresholds_fall_with_the_rate(method: str) -> None:
    table = calibrate(people(30), method=method).table  # type: ignore[arg-type]
    assert list(table.thresholds) == sorted(table.thresholds, reverse=True)
    assert table.thresholds[0] > table.thresholds[-1]


def test_photos_without_a_face_are_left_out() -> None:
    group = people(25, photos=3)
    group[0][1] = np.nan
    assert calibrate(group, method="distance").images == 74


def test_too_few_people_are_refused() -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_PERSONS} people"):
        calibrate(people(MIN_PERSONS - 1), method="distance")


def _folders(root: Path, n: int, photos: int = 2) -> None:
    for i in range(n):
        folder = root / f"person_{i:02d}"
        folder.mkdir()
        for j in range(photos):
            (folder / f"{j}.jpg").write_bytes(b"")


def test_person_folders_lists_each_persons_photos(tmp_path: Path) -> None:
    _folders(tmp_path, MIN_PERSONS, photos=2)
    (tmp_path / "person_00" / "notes.txt").write_text("not a photo")
    found = person_folders(tmp_path)
    assert len(found) == MIN_PERSONS and all(len(p) == 2 for p in found)


def test_person_folders_refuses_a_folder_with_too_few_people(tmp_path: Path) -> None:
    _folders(tmp_path, 3)
    with pytest.raises(ValueError, match="3 people with photos"):
        person_folders(tmp_path)


def test_person_folders_refuses_a_file(tmp_path: Path) -> None:
    path = tmp_path / "photos.zip"
    path.write_bytes(b"PK")
    with pytest.raises(ValueError, match="not a folder"):
        person_folders(path)


@pytest.mark.parametrize(("n", "photos", "k"), [(4, 3, 2), (3, 1, 5), (2, 1, 3)])
def test_vectorised_cohort_scores_equal_cohort_score_per_pair(n: int, photos: int, k: int) -> None:
    vectors = people(n, photos=photos, seed=n)
    stacked = np.concatenate(vectors)
    owner = np.repeat(np.arange(n), photos)
    templates = np.stack([v.mean(axis=0) for v in vectors])
    distances = np.linalg.norm(stacked[:, None, :] - templates[None, :, :], axis=2)
    scores = _cohort_scores(stacked, owner, distances, k, 0.7)
    for i in range(len(stacked)):
        for person in range(n):
            others = (owner != owner[i]) & (owner != person)
            cohort = np.linalg.norm(stacked[others] - stacked[i], axis=1)
            assert scores[i, person] == pytest.approx(
                cohort_score(float(distances[i, person]), cohort, k, 0.7)
            )
