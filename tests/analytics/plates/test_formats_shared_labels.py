"""Formats on the labelled shared sets: every label comes back unchanged; EU and Croatian labels are plates.

SOURCES.md notes that some labels write the letter O where the plate has the digit 0 and asks for
scoring with O and 0 treated as the same character; the checks do that. Sanity checks on the
labels, not tuning: the formats never saw these sets' images.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from safecity.analytics.plates.formats import interpret

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "plates"
SETS = ("eu", "hr", "us", "us_crops")


def _o_is_0(text: str) -> str:
    return text.replace("O", "0")


def _labels(name: str) -> list[str]:
    path = DATA / name / "labels.csv"
    if not path.is_file():
        pytest.skip(f"shared plate labels not found beside the repository: {path}")
    with path.open(encoding="utf-8") as f:
        return [row["plate_text"] for row in csv.DictReader(f)]


@pytest.mark.parametrize("name", SETS)
def test_every_shared_label_comes_back_unchanged(name: str) -> None:
    labels = _labels(name)
    assert labels
    changed = [
        (label, interpret(label).text)
        for label in labels
        if _o_is_0(interpret(label).normalised) != _o_is_0(label)
    ]
    assert changed == []


@pytest.mark.parametrize("name", ["eu", "hr"])
def test_every_european_label_is_a_valid_plate(name: str) -> None:
    rejected = [label for label in _labels(name) if not interpret(label).valid]
    assert rejected == []
