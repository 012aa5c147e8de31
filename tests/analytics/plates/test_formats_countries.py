"""Country formats other than Serbia: exact validation (no correction) and the printed form."""

from __future__ import annotations

import pytest

from safecity.analytics.plates.formats import FORMATS


def _valid(country: str, text: str) -> bool:
    return FORMATS[country].validate(text)


@pytest.mark.parametrize(
    "text", ["ZG 1234-AB", "ZG 123-A", "ST 999-ZZ", "ČK 1234-ŠĐ", "RI 0001-AB", "zg 9757 hg", "ŽU 555-Ž"]
)
def test_valid_croatian_plates(text: str) -> None:
    assert _valid("HR", text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("XX 1234-AB", "unknown registration area"),
        ("BG 1234-AB", "Serbian area, not Croatian"),
        ("ZG 12-AB", "too few digits"),
        ("ZG 12345-AB", "too many digits"),
        ("ZG 1234-ABC", "three letters"),
        ("ZG 1234", "no letters"),
        ("ZG 1234-A1", "digit among the letters"),
    ],
)
def test_invalid_croatian_plates(text: str, why: str) -> None:
    assert not _valid("HR", text), why


@pytest.mark.parametrize(
    "text", ["BA 123AB", "BA-123AB", "RK 755AJ", "ZA 001AA", "XY 123AB", "KM BORAK", "BA ABC12"]
)
def test_valid_slovak_plates(text: str) -> None:
    assert _valid("SK", text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("BA 1234AB", "four digits"),
        ("BA 12AB", "two digits"),
        ("B 123AB", "one-letter district"),
        ("BA 123A", "one letter"),
        ("BA 123ABC", "three letters"),
        ("XX BORAK", "chosen registration needs a real district"),
        ("BA 12345", "chosen registration needs a letter"),
        ("BA BORAKS", "chosen registration of six characters"),
    ],
)
def test_invalid_slovak_plates(text: str, why: str) -> None:
    assert not _valid("SK", text), why


@pytest.mark.parametrize("text", ["1A2 3456", "1T4 3213", "4B0 4979", "9AB 1234", "2S1 0000", "5Z9-9999"])
def test_valid_czech_plates(text: str) -> None:
    assert _valid("CZ", text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0A2 3456", "leading zero"),
        ("1X2 3456", "X is not a region"),
        ("1AO 1234", "O is not issued"),
        ("1A2 345", "three digits"),
        ("1A2 34567", "five digits"),
        ("AB2 3456", "letter first"),
    ],
)
def test_invalid_czech_plates(text: str, why: str) -> None:
    assert not _valid("CZ", text), why


@pytest.mark.parametrize(
    "text",
    [
        "WA 12345",
        "WA 1234A",
        "KR 123AC",
        "KR 1A234",
        "KR 1AC23",
        "BLM A123",
        "BLM 12AC",
        "BLM 1A23",
        "BLM 12A3",
        "BLM 1AC2",
        "BLM 12345",
        "SG 47471",
        "PY 12345",
        "F0 MAREK",
        "K6 Z17",
    ],
)
def test_valid_polish_plates(text: str) -> None:
    assert _valid("PL", text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("WA 1234B", "B is never in the vehicle part"),
        ("WA 12O45", "O is never in the vehicle part"),
        ("KR 1ZA23", "Z is never in the vehicle part"),
        ("WA 123456", "six characters"),
        ("WA 12ACE", "three letters"),
        ("WA 1234", "four characters after a two-letter area"),
        ("BLM AC12", "letters first is not a pattern"),
        ("W 12345", "one-letter area"),
        ("Q0 AB", "individual plate of two letters"),
    ],
)
def test_invalid_polish_plates(text: str, why: str) -> None:
    assert not _valid("PL", text), why


@pytest.mark.parametrize(
    "text", ["B AB 1234", "M X 1", "HH AB 123", "TÖL A 1", "B AB 1234E", "B AB 123H", "F WE 50", "ABC DE 123"]
)
def test_valid_german_plates(text: str) -> None:
    assert _valid("DE", text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("B AB 0123", "leading zero"),
        ("B AB 12345", "five digits"),
        ("B AB 123X", "only E or H may follow the digits"),
        ("ABCDEF 12", "six letters"),
        ("WOB AB 1234", "nine characters"),
        ("12 AB 34", "digits first"),
        ("B 1234", "no recognition letters"),
    ],
)
def test_invalid_german_plates(text: str, why: str) -> None:
    assert not _valid("DE", text), why


@pytest.mark.parametrize(
    "text", ["AB12 CDE", "OY09 FEU", "M5 XSX", "A123 BCD", "ABC 123D", "ABC 123", "123 ABC", "1 AB"]
)
def test_valid_british_plates(text: str) -> None:
    assert _valid("GB", text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("AB12 CDI", "I is not issued"),
        ("AB12 CQE", "Q is not issued"),
        ("AB123 CDE", "three age digits"),
        ("I123 ABC", "I was never an age letter"),
        ("AB 12345", "five digits"),
        ("A 1", "two characters: real, but not told from noise"),
    ],
)
def test_invalid_british_plates(text: str, why: str) -> None:
    assert not _valid("GB", text), why


@pytest.mark.parametrize("text", ["ABC-1234", "ABC1234", "ABC1D23", "BRA2E19"])
def test_valid_brazilian_plates(text: str) -> None:
    assert _valid("BR", text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("AB1234", "two letters"),
        ("ABC12345", "five digits"),
        ("ABC1DD3", "two letters in the Mercosul serial"),
        ("1BC1234", "digit first"),
    ],
)
def test_invalid_brazilian_plates(text: str, why: str) -> None:
    assert not _valid("BR", text), why


@pytest.mark.parametrize("text", ["7ABC123", "ABC 1234", "1A2", "ABCD1234", "GO-BEAR5"])
def test_valid_generic_us_plates(text: str) -> None:
    assert _valid("US", text)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("GOBEARS", "no digit (all-letter vanity plates are not told from words)"),
        ("12345", "no letter"),
        ("A 1", "two characters: real, but not told from noise"),
        ("ABCDE12345", "ten characters"),
    ],
)
def test_invalid_generic_us_plates(text: str, why: str) -> None:
    assert not _valid("US", text), why


@pytest.mark.parametrize(
    ("country", "text", "printed"),
    [
        ("RS", "bg123ab", "BG 123-AB"),
        ("HR", "zg1234ab", "ZG 1234-AB"),
        ("SK", "BA123AB", "BA 123AB"),
        ("SK", "KMBORAK", "KM BORAK"),
        ("CZ", "1A23456", "1A2 3456"),
        ("PL", "WA12345", "WA 12345"),
        ("PL", "BLMA123", "BLM A123"),
        ("PL", "F0MAREK", "F0 MAREK"),
        ("DE", "B AB 1234 E", "B AB 1234E"),
        ("GB", "AB12CDE", "AB12 CDE"),
        ("GB", "M5XSX", "M5 XSX"),
        ("BR", "ABC1234", "ABC-1234"),
        ("BR", "ABC1D23", "ABC1D23"),
        ("US", "7ABC123", "7ABC123"),
    ],
)
def test_printed_form(country: str, text: str, printed: str) -> None:
    assert FORMATS[country].printed(text) == printed


@pytest.mark.parametrize(
    ("text", "printed"),
    [("BAB1234", "B AB 1234"), ("FWE50", "F WE 50"), ("HHAB123", "HH AB 123"), ("XAB1", "XA B 1")],
)
def test_german_split_without_separators(text: str, printed: str) -> None:
    """A one-letter district only where such a district exists, then two recognition letters."""
    assert FORMATS["DE"].printed(text) == printed


def test_german_split_follows_the_reading_separators() -> None:
    assert FORMATS["DE"].read("BA B 1234", separators=frozenset({2, 3}))[0].printed == "BA B 1234"


def test_every_format_is_registered_under_its_country_in_priority_order() -> None:
    assert list(FORMATS) == ["RS", "HR", "SK", "CZ", "PL", "DE", "GB", "BR", "US"]
    for code, fmt in FORMATS.items():
        assert fmt.country == code
        assert fmt.name and fmt.description and fmt.layouts


def test_area_code_tables_use_only_letters_the_country_prints() -> None:
    for code in ("RS", "HR"):
        fmt = FORMATS[code]
        assert fmt.city_codes, code
        assert all(len(c) == 2 and set(c) <= fmt.letters and area for c, area in fmt.city_codes.items()), code
    assert {"ZG", "ST", "RI", "OS", "ČK", "ŠI"} <= set(FORMATS["HR"].city_codes)
    assert {"BA", "KE", "RK", "ZA", "KM"} <= set(FORMATS["SK"].city_codes)
