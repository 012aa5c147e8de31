"""The watchlist decision rule: threshold from a target FPIR and the gallery size, cohort scores, files."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from safecity.watch.face_decision import (
    SHIPPED,
    FaceCalibration,
    FaceCalibrationError,
    FarTable,
    OpenSetRule,
    cohort_score,
    comparison_rate,
    far_grid,
)


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return v / np.linalg.norm(v)


def near(vector: np.ndarray, distance: float, seed: int) -> np.ndarray:
    direction = unit(seed)
    direction -= direction.dot(vector) * vector
    direction /= np.linalg.norm(direction)
    return (vector + distance * direction).astype(np.float32)


@pytest.mark.parametrize(
    ("target", "gallery", "expected"),
    [
        (0.01, 1, 0.01),
        (0.01, 100, 1.005e-4),
        (0.05, 10, 5.116e-3),
    ],
)
def test_comparison_rate_spreads_the_target_over_the_gallery(
    target: float, gallery: int, expected: float
) -> None:
    assert comparison_rate(target, gallery) == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("target", [0.0, 1.0, -0.1])
def test_comparison_rate_refuses_a_target_outside_zero_and_one(target: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        comparison_rate(target, 10)


def test_far_table_thresholds_are_the_impostor_quantiles() -> None:
    scores = np.linspace(0.0, 1.0, 100_001)
    table = FarTable.from_impostor_scores(scores)
    assert table.comparisons == 100_001
    assert table.threshold(0.1) == pytest.approx(0.1, abs=1e-4)
    assert table.threshold(0.001) == pytest.approx(0.001, abs=1e-4)


def test_far_table_interpolates_between_rates_on_a_log_scale() -> None:
    table = FarTable.from_impostor_scores(np.linspace(0.0, 1.0, 100_001))
    between = table.threshold(10**-1.125)
    assert table.threshold(10**-1.25) < between < table.threshold(10**-1.0)


def test_far_table_clamps_rates_beyond_the_grid() -> None:
    table = FarTable.from_impostor_scores(np.linspace(0.0, 1.0, 1001))
    assert table.threshold(0.5) == table.thresholds[0]
    assert table.threshold(1e-12) == table.thresholds[-1]


def test_far_table_refuses_thresholds_that_grow_as_the_rate_falls() -> None:
    grid = far_grid()
    with pytest.raises(ValueError, match="must not increase"):
        FarTable(grid, tuple(float(i) for i in range(len(grid))), 10)


def test_threshold_tightens_as_the_gallery_grows() -> None:
    rule = OpenSetRule(SHIPPED, 0.01)
    thresholds = [rule.threshold(n) for n in (1, 10, 100, 1000)]
    assert thresholds == sorted(thresholds, reverse=True)
    assert thresholds[0] > thresholds[-1]


def test_a_stricter_target_gives_a_tighter_threshold() -> None:
    assert OpenSetRule(SHIPPED, 0.001).threshold(100) < OpenSetRule(SHIPPED, 0.01).threshold(100)


def test_fixed_distance_rule_ignores_the_gallery_size() -> None:
    rule = OpenSetRule.fixed_distance(0.4)
    assert rule.threshold(1) == rule.threshold(10_000) == 0.4


def test_fixed_distance_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        OpenSetRule.fixed_distance(0.0)


def _cohort_rule(cohort: np.ndarray, threshold: float) -> OpenSetRule:
    grid = far_grid()
    table = FarTable(grid, tuple(threshold for _ in grid), 1000)
    return OpenSetRule(FaceCalibration("cohort", table, cohort=cohort, cohort_k=3, cohort_weight=1.0), 0.01)


def test_cohort_score_is_the_distance_less_the_margin_to_the_k_nearest() -> None:
    assert cohort_score(0.4, np.array([0.6, 0.8, 1.2]), 2, 1.0) == pytest.approx(0.4 - (0.7 - 0.4))


def test_cohort_score_without_a_cohort_is_the_distance() -> None:
    assert cohort_score(0.4, np.array([]), 3, 1.0) == 0.4


def test_a_face_close_to_many_people_is_held_back_by_the_cohort() -> None:
    person = unit(1)
    probe = near(person, 0.42, seed=2)
    crowd = np.stack([near(probe, 0.35, seed=10 + i) for i in range(5)])  # others look nearer still
    templates = person[None, :]
    assert OpenSetRule.fixed_distance(0.45).decide(probe, templates, [templates]).matched
    decision = _cohort_rule(crowd, 0.45).decide(probe, templates, [templates])
    assert not decision.matched and decision.score > decision.distance


def test_a_face_clearly_nearer_one_person_passes_the_cohort_rule() -> None:
    person = unit(1)
    probe = near(person, 0.42, seed=2)
    strangers = np.stack([unit(100 + i) for i in range(20)])  # far from everyone
    templates = person[None, :]
    decision = _cohort_rule(strangers, 0.2).decide(probe, templates, [templates])
    assert decision.matched and decision.score < decision.distance


def test_the_candidates_own_photos_are_not_its_cohort() -> None:
    a, b = unit(1), unit(2)
    probe = near(a, 0.3, seed=3)
    photos_a = np.stack([near(a, 0.2, seed=4), near(a, 0.2, seed=5)])
    rule = _cohort_rule(np.stack([unit(200 + i) for i in range(10)]), 0.0)
    with_own = rule.decide(probe, np.stack([a, b]), [photos_a, b[None, :]])
    without_own = rule.decide(probe, np.stack([a, b]), [np.zeros((0, 128), np.float32), b[None, :]])
    assert with_own.score == pytest.approx(without_own.score)


def test_calibration_survives_a_round_trip_through_its_file(tmp_path: Path) -> None:
    cohort = np.stack([unit(i) for i in range(7)])
    original = FaceCalibration(
        "cohort", SHIPPED.table, cohort=cohort, cohort_k=2, cohort_weight=0.5, persons=3, images=7, source="x"
    )
    path = tmp_path / "calibration.npz"
    original.save(path)
    loaded = FaceCalibration.load(path)
    assert (loaded.method, loaded.table, loaded.cohort_k, loaded.cohort_weight) == (
        "cohort",
        SHIPPED.table,
        2,
        0.5,
    )
    assert np.array_equal(loaded.cohort, cohort)
    assert (loaded.persons, loaded.images, loaded.source, loaded.created) == (3, 7, "x", original.created)


def test_calibrations_written_at_once_leave_one_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "calibration.npz"
    writers = [
        FaceCalibration(
            "cohort", SHIPPED.table, cohort=np.stack([unit(i)] * 200), persons=20, images=200, source=str(i)
        )
        for i in range(8)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda c: c.save(path), writers))
    loaded = FaceCalibration.load(path)
    assert loaded.source in {str(i) for i in range(8)}
    assert np.array_equal(loaded.cohort, writers[int(loaded.source)].cohort)
    assert [p.name for p in tmp_path.iterdir()] == ["calibration.npz"]


@pytest.mark.parametrize("content", [b"", b"not an archive", b"PK\x03\x04broken"])
def test_a_file_that_is_not_a_calibration_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "calibration.npz"
    path.write_bytes(content)
    with pytest.raises(FaceCalibrationError, match="not a face calibration"):
        FaceCalibration.load(path)


def test_a_missing_calibration_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FaceCalibrationError, match="no face calibration"):
        FaceCalibration.load(tmp_path / "absent.npz")
