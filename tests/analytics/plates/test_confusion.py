"""OCR-confusion classes and one-edit distance used for grouping, hotlists and fuzzy search."""

from __future__ import annotations

import pytest

from safecity.analytics.plates.confusion import confusion_key, within_one_edit


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("BG120AB", "BG12OAB", True),
        ("8G123AB", "BG123AB", True),
        ("BG123AB", "BG123AC", False),
        ("S5Z2G6", "5S2Z6G", True),
        ("NS1234", "N51234", True),
    ],
)
def test_confusion_key(a: str, b: str, same: bool) -> None:
    assert (confusion_key(a) == confusion_key(b)) is same


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("BG123AB", "BG123AB", True),
        ("BG123AB", "BG124AB", True),
        ("BG123AB", "BG23AB", True),
        ("BG123AB", "BG1234AB", True),
        ("BG123AB", "BG125AC", False),
        ("BG123AB", "BG1AB", False),
    ],
)
def test_within_one_edit(a: str, b: str, expected: bool) -> None:
    assert within_one_edit(a, b) is expected
