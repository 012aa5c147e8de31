"""The machinery country tables are written in: argument checks, the correction rule, splits and matches."""

from __future__ import annotations

import pytest

from safecity.analytics.plates.confusion import CONFUSION_CLASSES
from safecity.analytics.plates.formats import (
    DIGITS,
    LATIN,
    POSITIONAL_PAIRS,
    SERBIA,
    Group,
    Layout,
    PlateFormat,
    fold,
    interpret,
)
from safecity.analytics.plates.formats.base import base_letter, letters_and_digits


def test_positional_pairs_lie_inside_the_shared_confusion_classes() -> None:
    for digit, letters in POSITIONAL_PAIRS:
        assert digit in DIGITS and set(letters) <= LATIN
        for letter in letters:
            assert any(digit in cls and letter in cls for cls in CONFUSION_CLASSES), (digit, letter)


def test_each_letter_corrects_to_one_digit() -> None:
    letters = [letter for _, group in POSITIONAL_PAIRS for letter in group]
    assert len(letters) == len(set(letters))


@pytest.mark.parametrize(
    ("ch", "base"), [("Č", "C"), ("Đ", "D"), ("Ž", "Z"), ("Ä", "A"), ("B", "B"), ("7", "7")]
)
def test_base_letter(ch: str, base: str) -> None:
    assert base_letter(ch) == base


def test_group_fits_by_position() -> None:
    group = Group("digits", DIGITS, 3, 3)
    assert group.fit("1O3") == ("103", 1)
    assert group.fit("1X3") is None


def test_group_first_position_has_its_own_class() -> None:
    group = Group("number", DIGITS, 1, 4, first=DIGITS - {"0"})
    assert group.fit("0123") is None
    assert group.fit("1023") == ("1023", 0)


def test_code_group_corrects_to_the_nearest_code() -> None:
    group = Group("city", LATIN, 2, 2, codes=frozenset({"BG", "NS"}))
    assert group.fit("8G") == ("BG", 1)
    assert group.fit("XX") is None


@pytest.mark.parametrize(
    ("segment", "fitted"),
    [
        ("ČA", ("ČA", 0)),
        ("CA", ("ČA", 1)),  # a diacritic added is a correction
        ("8A", None),
        ("8C", ("BC", 1)),  # BČ or BĆ: the look-alike corrected, the unknown diacritic left out
        ("BC", ("BC", 0)),
    ],
)
def test_code_group_counts_diacritic_changes(segment: str, fitted: tuple[str, int] | None) -> None:
    group = Group("city", LATIN | frozenset("ČĆ"), 2, 2, codes=frozenset({"ČA", "BČ", "BĆ"}))
    assert group.fit(segment) == fitted


def test_group_counts_a_diacritic_removed() -> None:
    assert Group("letters", LATIN, 2, 2).fit("ŠA") == ("SA", 1)


@pytest.mark.parametrize(
    ("text", "folded"), [("ŠA123ĐŽ", "SA123DZ"), ("ČĆ", "CC"), ("BG123AB", "BG123AB"), ("Ł", "L")]
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_match_spells_national_letters_and_folds_the_key() -> None:
    m = SERBIA.match("ŠA 123-ŽĐ")
    assert m is not None and (m.spelled, m.normalised, m.printed) == ("ŠA123ŽĐ", "SA123ZD", "ŠA 123-ŽĐ")


def test_code_group_does_not_guess_between_equally_near_codes() -> None:
    group = Group("city", LATIN, 2, 2, codes=frozenset({"BO", "BD"}))
    assert group.fit("B0") is None


def test_layout_splits_report_group_starts() -> None:
    layout = Layout("x", (Group("a", LATIN, 1, 2), Group("b", DIGITS, 1, 2)), joiners=(" ",))
    assert [(s.parts, s.starts) for s in layout.splits("AB1", 0)] == [(("AB", "1"), frozenset({2}))]


def test_match_group_by_name() -> None:
    m = SERBIA.match("BG 123-AB")
    assert m is not None
    assert (m.group("city"), m.group("digits"), m.group("letters")) == ("BG", "123", "AB")
    with pytest.raises(KeyError, match="no group 'serial'"):
        m.group("serial")


def test_letters_and_digits_pattern() -> None:
    groups = letters_and_digits("DLLDD", LATIN)
    assert [(g.chars == DIGITS, g.min_len) for g in groups] == [(True, 1), (False, 2), (True, 2)]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Group("", DIGITS), "needs a name"),
        (lambda: Group("g", frozenset()), "admits no characters"),
        (lambda: Group("g", DIGITS, 0, 1), "min_len"),
        (lambda: Group("g", DIGITS, 3, 2), "min_len"),
        (lambda: Group("g", DIGITS, first=frozenset()), "`first`"),
        (lambda: Group("g", LATIN, 2, 2, codes=frozenset({"ABC"})), "code is outside"),
        (lambda: Layout("l", (), joiners=()), "no groups"),
        (lambda: Layout("l", (Group("a", LATIN), Group("b", DIGITS)), joiners=()), "need 1 joiners"),
        (lambda: Layout("l", (Group("a", LATIN),), joiners=(), confidence=0.0), "confidence"),
        (lambda: Layout("l", (Group("a", LATIN),), joiners=(), tier=3), "tier"),
        (lambda: Layout("l", (Group("a", LATIN),), joiners=(), emblem_after=0), "emblem_after"),
        (lambda: Layout("l", (Group("a", LATIN),), joiners=(), min_chars=0), "min_chars"),
        (lambda: PlateFormat("Serbia", "Serbia", SERBIA.layouts, "d"), "alpha-2"),
        (lambda: PlateFormat("RS", "Serbia", (), "d"), "no layouts"),
        (lambda: letters_and_digits("LDQ", LATIN), "L, D and X"),
        (lambda: SERBIA.layouts[0].render(("BG",)), "got 1 parts"),
        (lambda: SERBIA.read("BG 123-AB", max_corrections=-1), "max_corrections"),
    ],
)
def test_bad_arguments_raise(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(ValueError, match=message):
        build()


def test_repeated_readings_are_cached() -> None:
    assert interpret("BG 123-AB") is interpret("BG 123-AB")
