"""Serbian plate format: validation of printed and normalised forms, normalisation, printing."""

from __future__ import annotations

import re

import pytest

from safecity.analytics.plates.formats import (
    FORMATS,
    SERBIA,
    SERBIAN_ASCII_LETTERS,
    SERBIAN_LETTERS,
    normalise_plate,
)


@pytest.mark.parametrize(
    "text",
    [
        "BG 123-AB",
        "BG123AB",
        "bg 123-ab",
        " BG 123-AB ",
        "BG-123-AB",
        "BG 123 AB",
        "BG.123.AB",
        "NS 1234-CD",
        "NI 007-ZZ",
        "KG 555-XW",
        "ČA 101-ŠĐ",
        "ŠA 4821-ŽČ",
        "KŠ 909-ĆY",
        "ĐA 123-AA",
        "ÐA 123-AA",  # Icelandic eth typed for Đ
        "VŠ 3456-KJ",
        "BG 12345-AB",
    ],
)
def test_valid_serbian_plates(text: str) -> None:
    assert SERBIA.validate(text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("XX 123-AB", "unknown registration area"),
        ("BE 123-AB", "unknown registration area"),
        ("BG 12-AB", "too few digits"),
        ("BG 123456-AB", "too many digits"),
        ("BG 123-QA", "Q is not a Serbian letter"),
        ("BG 123-AQ", "Q is not a Serbian letter"),
        ("BG 123-A", "one serial letter"),
        ("BG 123-ABC", "three serial letters"),
        ("BG 123-A1", "digit in the serial letters"),
        ("BG 12A-AB", "letter among the digits"),
        ("B 123-AB", "one-letter area code"),
        ("BGD 123-AB", "three-letter area code"),
        ("123-AB", "no area code"),
        ("BG ABC-12", "letters and digits swapped"),
        ("DŽ 123-AB", "digraph is not one letter"),
        ("BG 123-ÄB", "letter from another alphabet"),
        ("", "empty"),
        ("   ", "blank"),
    ],
)
def test_invalid_serbian_plates(text: str, why: str) -> None:
    assert not SERBIA.validate(text), why


def test_normalise_plate() -> None:
    assert normalise_plate(" bg 123-ab ") == "BG123AB"
    assert normalise_plate("BG·123·AB") == "BG123AB"
    assert normalise_plate("ša 4821-žč") == "ŠA4821ŽČ"
    assert normalise_plate("ÐA 1-2") == "ĐA12"


def test_printed_form() -> None:
    assert SERBIA.printed("bg123ab") == "BG 123-AB"
    assert SERBIA.printed("NS 1234 CD") == "NS 1234-CD"
    with pytest.raises(ValueError, match="not a valid Serbia plate"):
        SERBIA.printed("XX 123-AB")


def test_tables_are_consistent() -> None:
    assert FORMATS["RS"] is SERBIA
    assert SERBIA.country == "RS"
    assert len(SERBIA.city_codes) >= 70
    for code, area in SERBIA.city_codes.items():
        assert len(code) == 2 and all(ch in SERBIAN_LETTERS for ch in code), code
        assert area
    assert {"BG", "NS", "NI", "KG", "ČA", "ŠA", "KŠ", "VŠ"} <= set(SERBIA.city_codes)
    assert set(SERBIAN_ASCII_LETTERS) <= SERBIAN_LETTERS
    assert not set("QÄÖÜ") & SERBIAN_LETTERS
    assert re.fullmatch(r"[A-Z]+", SERBIAN_ASCII_LETTERS)
