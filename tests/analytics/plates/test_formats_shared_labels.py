"""Every plate label of the shared EU and Croatian sets is accepted by some format (sanity check, not tuning).

SOURCES.md notes that some labels write the letter O where the plate has the digit 0 and asks for
scoring with O and 0 treated as the same character; the check does that.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from safecity.analytics.plates.formats import interpret

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
LABELS = [DATA / "plates" / name / "labels.csv" for name in ("eu", "hr")]


def _o_is_0(text: str) -> str:
    return text.replace("O", "0")


def test_every_shared_label_is_a_valid_plate() -> None:
    missing = [str(p) for p in LABELS if not p.is_file()]
    if missing:
        pytest.skip(f"shared plate labels not found beside the repository: {', '.join(missing)}")
    rows = [row for path in LABELS for row in csv.DictReader(path.open(encoding="utf-8"))]
    assert len(rows) >= 70
    rejected = []
    for row in rows:
        got = interpret(row["plate_text"])
        if not got.valid or _o_is_0(got.normalised) != _o_is_0(row["plate_text"]):
            rejected.append((row["file"], row["plate_text"], got.text, got.valid))
    assert rejected == []
