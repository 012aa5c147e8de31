"""Open-set evaluation: DET rows per technique, the rule at its default, gallery size, enrolment."""

from __future__ import annotations

import numpy as np
import pytest

from safecity.eval.face_openset import DET_FPIRS, TECHNIQUES, evaluate_openset, openset_json, render_openset


def identities(n_listed: int = 40, n_strangers: int = 60, photos: int = 5, seed: int = 1) -> dict:
    """Synthetic people: listed ones with several photos, strangers with one."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray | None]] = {}
    for i in range(n_listed + n_strangers):
        centre = rng.normal(size=128)
        centre /= np.linalg.norm(centre)
        count = photos if i < n_listed else 1
        out[f"p{i:03d}"] = [centre + rng.normal(scale=0.3 / np.sqrt(128), size=128) for _ in range(count)]
    return out


def test_every_technique_gets_a_det_row() -> None:
    report = evaluate_openset(identities(), target_fpir=0.01)
    assert [t.name for t in report.techniques] == list(TECHNIQUES)
    assert all(len(t.tpir_at) == len(DET_FPIRS) for t in report.techniques)


def test_well_separated_people_are_found_at_the_default() -> None:
    report = evaluate_openset(identities(), target_fpir=0.01)
    assert [d.name for d in report.defaults] == [
        "shipped table (no calibration)",
        "calibrated on the other half",
    ]
    calibrated = report.defaults[1]
    assert calibrated.tpir > 0.9 and calibrated.fpir <= 0.05


def test_enrolment_keeps_at_least_one_photo_to_probe() -> None:
    report = evaluate_openset(identities(photos=3), target_fpir=0.01, enrol=5)
    assert report.n_mated == 40  # 3 photos each: 2 enrolled, 1 probed


def test_gallery_size_turns_the_others_into_strangers() -> None:
    full = evaluate_openset(identities(), target_fpir=0.01)
    small = evaluate_openset(identities(), target_fpir=0.01, gallery_size=10)
    assert (small.n_gallery, full.n_gallery) == (10, 40)
    assert small.n_nonmated == full.n_nonmated + 30 * 5


def test_a_mated_probe_without_a_face_is_a_miss() -> None:
    people = identities(photos=2)
    for person in list(people)[:40]:
        people[person][1] = None
    report = evaluate_openset(people, target_fpir=0.01)
    assert all(t.rank1 == 0.0 for t in report.techniques if t.name != "cohort (calibrated)")


def test_enrol_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        evaluate_openset(identities(), target_fpir=0.01, enrol=0)


def test_the_report_renders_as_text_and_json() -> None:
    report = evaluate_openset(identities(), target_fpir=0.01)
    text = render_openset(report)
    assert "cohort (calibrated)" in text and "At the default" in text
    data = openset_json(report)
    assert data["n_gallery"] == 40 and len(data["techniques"]) == len(TECHNIQUES)
