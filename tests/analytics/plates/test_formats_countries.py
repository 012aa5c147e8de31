"""Country formats other than Serbia: exact validation (no correction), the printed form, the registry."""

from __future__ import annotations

import pytest

from safecity.analytics.plates.formats import FORMATS, LATIN


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
    ("country", "text"),
    [
        ("BA", "A12-E-345"),
        ("BA", "T99-K-001"),
        ("BA", "123-A-456"),
        ("BA", "TA-123456"),
        ("BA", "TT-123456"),
        ("BA", "12345-M"),
        ("BA", "12-C-345"),
        ("ME", "PG AB123"),
        ("ME", "ŽB CD456"),
        ("ME", "PG 123AB"),
        ("ME", "BD AB12"),
        ("ME", "P PG 123"),
        ("MK", "SK 1234 AB"),
        ("MK", "OH 123-AB"),
        ("MK", "ST 9999 ZZ"),
        ("HU", "ABC-123"),
        ("HU", "AA BC-123"),
        ("RO", "B 123 ABC"),
        ("RO", "B 12 ABC"),
        ("RO", "CJ 12 ABC"),
        ("RO", "IS 05 XYZ"),
        ("BG", "CA 1234 AB"),
        ("BG", "C 1234 AB"),
        ("BG", "PB 0001 KX"),
        ("BG", "A 1234 B"),
        ("BG", "BA 123456"),
        ("AT", "W 12345 A"),
        ("AT", "GU 123 AB"),
        ("AT", "FK 1 ABC"),
        ("AT", "I TOMMY 1"),
        ("IT", "AB 123CD"),
        ("IT", "ZZ 999ZZ"),
        ("EU", "AB1234"),
        ("EU", "1ABC"),
    ],
)
def test_valid_plates_of_the_neighbouring_countries(country: str, text: str) -> None:
    assert _valid(country, text)


@pytest.mark.parametrize(
    ("country", "text", "why"),
    [
        ("BA", "A12-B-345", "B is not a letter both scripts share"),
        ("BA", "AB1-E-345", "letter among the first digits"),
        ("BA", "A12-E-34", "two serial digits"),
        ("BA", "TX-123456", "taxi plates begin with TA"),
        ("ME", "XX AB123", "unknown municipality"),
        ("ME", "PG AI123", "I is not issued"),
        ("ME", "PG AB1234", "four digits"),
        ("MK", "BG 1234 AB", "unknown region"),
        ("MK", "SK 12345 AB", "five digits"),
        ("HU", "AB-123", "two letters"),
        ("HU", "ABC-1234", "four digits"),
        ("HU", "AAA BC-123", "five letters"),
        ("RO", "XY 12 ABC", "unknown county"),
        ("RO", "CJ 12 ABQ", "Q is never used"),
        ("RO", "CJ 12 OAB", "the letters never begin with O"),
        ("RO", "CJ 1234 ABC", "four digits"),
        ("BG", "CA 1234 AD", "D is not a letter both scripts share"),
        ("BG", "ZZ 1234 AB", "unknown province"),
        ("BG", "CA 123 AB", "three digits"),
        ("AT", "XY 123 AB", "unknown district"),
        ("AT", "W 0123 A", "leading zero"),
        ("AT", "W 123 QA", "Q is never used"),
        ("AT", "W 123456 A", "six digits"),
        ("IT", "AB 123CI", "I is not issued"),
        ("IT", "AB 1234CD", "four digits"),
        ("EU", "ABCDEF", "no digit"),
        ("EU", "123456", "no letter"),
        ("EU", "A12", "three characters"),
        ("EU", "ABCDE12345", "ten characters"),
    ],
)
def test_invalid_plates_of_the_neighbouring_countries(country: str, text: str, why: str) -> None:
    assert not _valid(country, text), why


@pytest.mark.parametrize(
    ("country", "text", "printed"),
    [
        ("RS", "bg123ab", "BG 123-AB"),
        ("RS", "ša4821žč", "ŠA 4821-ŽČ"),
        ("BA", "A12E345", "A12-E-345"),
        ("BA", "TA123456", "TA-123456"),
        ("ME", "PGAB123", "PG AB123"),
        ("MK", "SK1234AB", "SK 1234 AB"),
        ("MK", "SK123AB", "SK 123-AB"),
        ("HU", "ABC123", "ABC-123"),
        ("HU", "AABC123", "AA BC-123"),
        ("RO", "B123ABC", "B 123 ABC"),
        ("RO", "CJ12ABC", "CJ 12 ABC"),
        ("BG", "CA1234AB", "CA 1234 AB"),
        ("AT", "W12345A", "W 12345 A"),
        ("AT", "ITOMMY1", "I TOMMY 1"),
        ("IT", "AB123CD", "AB 123CD"),
        ("EU", "AB-12 34", "AB1234"),
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
    assert list(FORMATS) == [
        *("RS", "HR", "BA", "ME", "MK", "HU", "RO", "BG"),
        *("SK", "CZ", "PL", "AT", "DE", "IT", "GB", "BR", "US", "EU"),
    ]
    for code, fmt in FORMATS.items():
        assert fmt.country == code
        assert fmt.name and fmt.description and fmt.layouts


def test_generic_layouts_rank_last() -> None:
    tiers = [max(layout.tier for layout in fmt.layouts) for fmt in FORMATS.values()]
    assert tiers[-2:] == [2, 2] and 2 not in tiers[:-2]


def test_area_code_tables_use_only_letters_the_country_prints() -> None:
    for code in ("RS", "HR"):
        fmt = FORMATS[code]
        assert fmt.city_codes, code
        assert all(len(c) == 2 and set(c) <= fmt.letters and area for c, area in fmt.city_codes.items()), code
    assert {"ZG", "ST", "RI", "OS", "ČK", "ŠI"} <= set(FORMATS["HR"].city_codes)
    assert {"BA", "KE", "RK", "ZA", "KM"} <= set(FORMATS["SK"].city_codes)


@pytest.mark.parametrize("country", ["BG", "ME", "MK", "RO", "AT"])
def test_neighbouring_area_code_tables_hold_one_or_two_capitals(country: str) -> None:
    codes = FORMATS[country].city_codes
    assert codes
    assert all(
        1 <= len(code) <= 2 and set(code) <= LATIN | {"Š", "Ž"} and area for code, area in codes.items()
    )


def test_bulgarian_codes_use_only_letters_both_scripts_share() -> None:
    assert all(set(code) <= FORMATS["BG"].letters for code in FORMATS["BG"].city_codes)
