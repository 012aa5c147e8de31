"""Serbian plate format: every series (standard, trailer, motorcycle, police, diplomatic, army, temporary,
chosen), validation of printed and normalised forms, normalisation, printing."""

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
        ("BG 12-ABC", "too few digits"),
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
    assert normalise_plate("ša 4821-žč") == "SA4821ZC"  # the search key folds diacritics
    assert normalise_plate("ša 4821-žč", keep_diacritics=True) == "ŠA4821ŽČ"
    assert normalise_plate("ÐA 1-2", keep_diacritics=True) == "ĐA12"


@pytest.mark.parametrize(
    ("text", "layout", "printed"),
    [
        ("BG 12345-TX", "standard", "BG 12345-TX"),  # taxi
        ("AB 123 BG", "trailer", "AB 123 BG"),
        ("XY123NS", "trailer", "XY 123 NS"),
        ("BG 12-345", "motorcycle", "BG 12-345"),
        ("BG12345", "motorcycle", "BG 12-345"),  # two rows joined
        ("P 123-456", "police", "P 123-456"),
        ("40-A-123", "diplomatic", "40-A-123"),
        ("123M456", "diplomatic", "123-M-456"),
        ("A-1234", "army", "A-1234"),
        ("RP 1234", "temporary", "RP 1234"),
        ("RPE 12345", "temporary", "RPE 12345"),
        ("BG 12-AB", "chosen", "BG 12AB"),
        ("NS 1AB", "chosen", "NS 1AB"),
    ],
)
def test_special_series(text: str, layout: str, printed: str) -> None:
    m = SERBIA.match(text)
    assert m is not None and (m.layout.name, m.printed) == (layout, printed)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("AB 123 XX", "trailer needs a real area code at the end"),
        ("XX 12-345", "motorcycle needs a real area code"),
        ("BG 1-234", "motorcycle: two and three digits"),
        ("P 1234-567", "police: two groups of three digits"),
        ("R 123-456", "police letter is P"),
        ("40-B-123", "diplomatic status letter is A, M, P or E"),
        ("4-A-123", "diplomatic country number of two or three digits"),
        ("A-12", "army number of three or more digits"),
        ("RX 1234", "temporary plates begin with RP or RPE"),
        ("BG MARKO", "chosen letters alone cannot be told from a word"),
        ("BG 1A", "chosen of two characters"),
        ("BG 12ABC", "chosen of five characters with digits (the hyphen counts)"),
        ("BG 1234", "chosen needs two letters"),
    ],
)
def test_invalid_special_series(text: str, why: str) -> None:
    assert not SERBIA.validate(text), why


def test_regular_series_need_no_diacritic_but_keep_one() -> None:
    m = SERBIA.match("ŠA 4821-ŽČ")
    assert m is not None and (m.printed, m.normalised, m.corrections) == ("ŠA 4821-ŽČ", "SA4821ZC", 0)


def test_reading_without_the_diacritic_fits_only_with_a_correction() -> None:
    assert not SERBIA.validate("SA 123-AB")
    (m, *_) = SERBIA.read("SA 123-AB", max_corrections=1)
    assert (m.printed, m.corrections) == ("ŠA 123-AB", 1)


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
