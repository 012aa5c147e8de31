"""interpret() and candidates(): the never-worse policy, corrections, band text, unknown readings."""

from __future__ import annotations

import dataclasses

import pytest

from safecity.analytics.plates.formats import (
    FORMATS,
    PlateInterpretation,
    candidates,
    clean_reading,
    interpret,
)

BELGRADE = ["RS", "HR", "BA", "ME", "MK", "HU", "RO", "BG"]


# --- 1. As read: a reading an expected format accepts unchanged keeps its characters ---------------


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("5EZP631", "US plate, once stored as SEZP63"),
        ("6MDU097", "US plate, once stored as GMDU097"),
        ("7AHN739", "US plate, once stored as ZAHN739"),
        ("SI819AK", "Slovak plate (Skalica), once stored as ŠI819AK"),
        ("8G12OAB", "fits the generic layouts as read"),
        ("RK6O5AB", "Slovak chosen layout as read"),
        ("4BO4979", "generic layouts as read"),
    ],
)
def test_reading_that_fits_as_read_is_kept_unchanged(raw: str, why: str) -> None:
    got = interpret(raw)
    assert (got.normalised, got.corrections, got.valid) == (raw, 0, True), why


def test_exact_reading_has_factor_one_in_a_regular_layout() -> None:
    got = interpret("BG 123-AB")
    assert (got.text, got.normalised, got.country, got.valid, got.corrections, got.confidence_factor) == (
        "BG 123-AB",
        "BG123AB",
        "RS",
        True,
        0,
        1.0,
    )


def test_exact_fit_beats_a_corrected_one() -> None:
    got = interpret("8G 12O-AB")  # the generic US layout accepts it as read; no format needs a change
    assert (got.text, got.country, got.corrections) == ("8G12OAB", "US", 0)


def test_regular_layout_labels_the_country_before_a_generic_one() -> None:
    got = interpret("7ABC123", countries=["US", "GB"])  # US listed first, but only generically
    assert (got.country, got.text) == ("US", "7ABC123")
    got = interpret("M5XSX", countries=["US", "GB"])
    assert (got.country, got.text) == ("GB", "M5 XSX")


def test_expected_countries_order_is_the_priority() -> None:
    assert interpret("ZA 834-CO").country == "RS"  # Zaječar in Serbia, Žilina in Slovakia
    assert interpret("ZA 834-CO", countries=["SK", "RS"]).country == "SK"


def test_generic_us_layout_is_last_and_weaker() -> None:
    got = interpret("7ABC123")
    assert (got.country, got.valid) == ("US", True)
    assert got.confidence_factor < 0.9


def test_separator_inside_a_group_lowers_the_factor_of_an_exact_fit() -> None:
    assert interpret("BG12 OAB", countries=["GB"]).confidence_factor == 1.0
    assert interpret("BG 12O-AB", countries=["GB"]).confidence_factor == pytest.approx(0.8)


def test_vanity_layout_read_exactly_is_kept() -> None:
    got = interpret("KMBORAK")
    assert (got.text, got.country) == ("KM BORAK", "SK")


def test_mercosul_is_read_as_mercosul_not_as_corrected_old_plate() -> None:
    got = interpret("ABC1D23")
    assert (got.text, got.country, got.corrections) == ("ABC1D23", "BR", 0)


def test_old_brazilian_plate() -> None:
    assert interpret("ABC1234", countries=["BR"]).text == "ABC-1234"


# --- 2. Corrected only when exactly one correction fits ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "countries", "text", "corrections"),
    [
        ("BG 12O-AB", ["RS"], "BG 120-AB", 1),  # letter O in a digit-only position
        ("8G 123-AB", ["RS"], "BG 123-AB", 1),  # digit 8 in a letter-only position (the area code)
        ("NS 1Z34-CD", ["RS"], "NS 1234-CD", 1),
        ("BG 123-A8", ["RS"], "BG 123-AB", 1),
        ("BG 5I2-AB", ["RS"], "BG 512-AB", 1),
        ("8G 12O-AB", ["RS"], "BG 120-AB", 2),
        ("8G 12O-AB", BELGRADE, "BG 120-AB", 2),
        ("ZG 9757-H6", ["HR"], "ZG 9757-HG", 1),
        ("8A 123AB", ["SK", "CZ"], "BA 123AB", 1),
        ("WA 12O45", ["PL"], "WA 12045", 1),  # O is never in the Polish vehicle part
        ("4BO 4979", ["CZ"], "4B0 4979", 1),  # O is not issued in Czech series: it is a 0
    ],
)
def test_positional_correction_in_an_expected_format(
    raw: str, countries: list[str], text: str, corrections: int
) -> None:
    got = interpret(raw, countries=countries)
    assert (got.text, got.corrections, got.valid) == (text, corrections, True)


def test_correction_leaves_characters_a_position_admits() -> None:
    got = interpret("1AB 1234", countries=["CZ"])  # the third position admits letters and digits
    assert (got.text, got.corrections) == ("1AB 1234", 0)


def test_two_formats_giving_different_corrections_is_ambiguous() -> None:
    # Serbian car plate BG 123-AS (one change) or Serbian motorcycle plate BG 12-345 (one change).
    got = interpret("BG123A5", countries=["RS"])
    assert (got.text, got.valid, got.country, got.corrections) == ("BG123A5", False, "", 0)


def test_two_countries_giving_different_corrections_is_ambiguous() -> None:
    # Serbian BB 662-GK (8 read for B) or Romanian B 866 ZGK (2 read as 6): equally likely.
    assert interpret("B8662GK", countries=["RS"]).text == "BB 662-GK"
    got = interpret("B8662GK", countries=["RS", "RO"])
    assert (got.text, got.valid, got.country) == ("B8662GK", False, "")


def test_formats_agreeing_on_the_corrected_key_are_not_ambiguous() -> None:
    got = interpret("SI819AK", countries=["RS", "HR"])  # Šid in Serbia, Šibenik in Croatia
    assert (got.text, got.normalised, got.country) == ("ŠI 819-AK", "SI819AK", "RS")


def test_best_supported_correction_decides() -> None:
    # "WA 56660" with PL stripped; WA 5666Q (0 read for Q) would need one change more.
    got = interpret("PL WA 56660")
    assert (got.text, got.corrections) == ("WA 56660", 1)


def test_min_correction_factor_bounds_correction() -> None:
    assert interpret("8G 12O-AB", countries=["RS"], min_correction_factor=0.85).text == "8G12OAB"
    assert interpret("BG 12O-AB", countries=["RS"], min_correction_factor=0.85).text == "BG 120-AB"


def test_min_correction_factor_one_never_corrects() -> None:
    assert not interpret("BG 12O-AB", countries=["RS"], min_correction_factor=1.0).valid


def test_max_corrections_bounds_correction() -> None:
    assert not interpret("8G 12O-AB", countries=["RS"], max_corrections=1).valid


def test_each_correction_lowers_the_factor() -> None:
    factors = [
        interpret(raw, countries=["RS"]).confidence_factor for raw in ("BG 120-AB", "BG 12O-AB", "8G 12O-AB")
    ]
    assert factors == pytest.approx([1.0, 0.9, 0.81])


@pytest.mark.parametrize(
    "word", ["TEXAS", "TOYOTA", "TAXI", "PENSKE", "HONDA", "DEALER", "SILVERADO", "PRIVATE"]
)
def test_words_are_never_plates(word: str) -> None:
    got = interpret(word)
    assert (got.text, got.valid) == (word, False)


def test_digits_alone_are_never_corrected() -> None:
    got = interpret("1268205")  # a US plate; IZ 68205 would be Polish-shaped after two changes
    assert (got.text, got.valid) == ("1268205", False)


def test_permissive_layouts_are_not_corrected_into() -> None:
    assert FORMATS["PL"].validate("F0BEAR1")  # a Polish individual plate...
    assert not interpret("FOBEAR1", countries=["PL"]).valid  # ...but O is not corrected into it


def test_permissive_layout_as_read_is_kept_though_a_regular_one_fits_after_a_change() -> None:
    # A Slovak chosen registration as read, or the regular RK 605AB with O read for 0: as read wins.
    got = interpret("RK 6O5AB", countries=["SK"])
    assert (got.text, got.country, got.corrections) == ("RK 6O5AB", "SK", 0)


def test_emblem_read_as_a_character_is_dropped() -> None:
    got = interpret("RK 8 755AJ", countries=["SK"])
    assert (got.text, got.country, got.corrections) == ("RK 755AJ", "SK", 1)


def test_area_code_read_without_its_diacritic_is_restored_in_the_text_only() -> None:
    got = interpret("CA 123-AB", countries=["RS"])  # an OCR model without Č
    assert (got.text, got.normalised, got.country, got.corrections) == ("ČA 123-AB", "CA123AB", "RS", 1)


def test_area_code_ambiguous_without_its_diacritic_is_kept_as_read() -> None:
    got = interpret("BC 123-AB", countries=["RS"])  # BČ (Bečej) or BĆ (Bogatić)
    assert (got.text, got.country, got.corrections) == ("BC 123-AB", "RS", 0)


# --- Band text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "countries", "text"),
    [
        ("SRBBG123AB", [], "BG 123-AB"),
        ("SRB BG 123-AB", [], "BG 123-AB"),
        ("EU SRB BG 123-AB", [], "BG 123-AB"),
        ("BG 123-AB SRB", [], "BG 123-AB"),
        ("HR ZG 1234-AB", [], "ZG 1234-AB"),
        ("PL WA 56660", [], "WA 56660"),
        ("D HH AB 1234", [], "HH AB 1234"),
        ("IBG123AB", ["RS"], "BG 123-AB"),
    ],
)
def test_glued_band_text_is_stripped_when_the_reading_fits_nothing_as_read(
    raw: str, countries: list[str], text: str
) -> None:
    got = interpret(raw, countries=countries)
    assert (got.text, got.valid) == (text, True)


def test_band_text_is_kept_when_the_reading_fits_as_read() -> None:
    got = interpret("IBG123AB")  # I is Italy's band, but eight letters and digits fit the generic layout
    assert (got.text, got.corrections) == ("IBG123AB", 0)


def test_stripping_counts_as_a_correction() -> None:
    got = interpret("SRBBG123AB")
    assert got.corrections == 1
    assert got.confidence_factor == pytest.approx(0.9)


def test_band_text_that_belongs_to_the_plate_is_kept() -> None:
    got = interpret("BY 649AG")  # BY is Belarus on a band, and Bytca on a Slovak plate
    assert (got.text, got.country) == ("BY 649AG", "SK")


def test_band_text_is_not_stripped_when_the_rest_fits_nothing() -> None:
    got = interpret("SRB HELLO")
    assert (got.text, got.valid) == ("SRBHELLO", False)


# --- 3. Unknown readings -------------------------------------------------------------------------------


def test_unknown_reading_is_kept_with_lower_confidence() -> None:
    got = interpret("hello")
    assert got == PlateInterpretation(
        text="HELLO", normalised="HELLO", country="", valid=False, corrections=0, confidence_factor=0.6
    )


def test_unknown_reading_keeps_its_diacritics_in_the_text_and_folds_them_in_the_key() -> None:
    got = interpret("Šđ", countries=["RS"])
    assert (got.text, got.normalised, got.valid) == ("ŠĐ", "SD", False)


def test_unknown_factor_is_the_callers() -> None:
    assert interpret("HELLO", unknown_factor=0.25).confidence_factor == 0.25


def test_empty_reading_is_kept_not_dropped() -> None:
    got = interpret("  -  ")
    assert (got.text, got.normalised, got.valid) == ("", "", False)


def test_unknown_reading_has_no_candidates() -> None:
    assert candidates("HELLO") == []


# --- Cleaning ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["bg 123-ab", " BG.123·AB ", "BG/123 - AB|", "'BG 123 AB'", "BG_123_AB"])
def test_stray_separators_and_case(raw: str) -> None:
    assert interpret(raw).text == "BG 123-AB"


def test_cyrillic_look_alikes_are_read_as_latin() -> None:
    assert interpret("ВG 123-АВ").text == "BG 123-AB"  # Cyrillic В and А


def test_cyrillic_police_letter_is_transliterated() -> None:
    got = interpret("П 123-456", countries=["RS"])
    assert (got.text, got.normalised, got.country) == ("P 123-456", "P123456", "RS")


def test_clean_reading_keeps_separator_positions() -> None:
    assert clean_reading(" bg 123-ab.") == ("BG123AB", frozenset({2, 5}))


# --- Diacritics: the key folds them, the text keeps them ----------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text", "normalised"),
    [
        ("ŠA 123-AB", "ŠA 123-AB", "SA123AB"),
        ("ČA 4821-ŽĆ", "ČA 4821-ŽĆ", "CA4821ZC"),
        ("ĐA 123-AA", "ĐA 123-AA", "DA123AA"),
        ("ČK 1234-ŠĐ", "ČK 1234-ŠĐ", "CK1234SD"),
    ],
)
def test_search_key_folds_diacritics_and_text_keeps_them(raw: str, text: str, normalised: str) -> None:
    got = interpret(raw)
    assert (got.text, got.normalised, got.corrections) == (text, normalised, 0)


# --- candidates() -----------------------------------------------------------------------------------


def test_candidates_keep_the_corrected_alternative() -> None:
    texts = [(c.text, c.corrections) for c in candidates("ABC1D23", countries=["BR"])]
    assert texts == [("ABC1D23", 0), ("ABC-1023", 1)]


def test_candidates_list_exact_fits_first_then_corrections_by_confidence() -> None:
    found = candidates("8G 12O-AB")
    exact = [c for c in found if c.corrections == 0]
    corrected = [c.confidence_factor for c in found if c.corrections > 0]
    assert found[: len(exact)] == exact and exact
    assert corrected == sorted(corrected, reverse=True) and corrected
    assert ("RS", "BG120AB") in [(c.country, c.normalised) for c in found]


def test_emblem_drop_is_less_likely_than_a_look_alike() -> None:
    # BG 1803-TA with I read for 1, or BG 803-TA with the shield read as I: the look-alike wins.
    got = interpret("BG I803-TA", countries=["RS"])
    assert (got.text, got.corrections) == ("BG 1803-TA", 1)


def test_candidates_list_country_priority_among_exact_fits() -> None:
    found = candidates("ZA 834-CO")
    assert [(c.country, c.text) for c in found[:2]] == [("RS", "ZA 834-CO"), ("SK", "ZA 834CO")]


def test_candidates_are_unique_per_country_and_key() -> None:
    found = candidates("BG 123-AB")
    keys = [(c.country, c.normalised) for c in found]
    assert len(keys) == len(set(keys))
    assert found[0].country == "RS"


def test_countries_limit_the_formats() -> None:
    got = interpret("ZA 834CO", countries=["sk"])
    assert (got.country, got.text) == ("SK", "ZA 834CO")


def test_countries_exclude_a_format() -> None:
    assert not interpret("BG 123-AB", countries=["HR"]).valid


@pytest.mark.parametrize("countries", [[], (), None])
def test_no_countries_expects_every_format(countries: list[str] | None) -> None:
    assert interpret("BG 123-AB", countries=countries).country == "RS"


# --- Arguments and caching ---------------------------------------------------------------------------


def test_interpretation_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        interpret("BG 123-AB").text = "X"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"countries": ["XX"]}, "unknown country"),
        ({"countries": "RS"}, "not the string"),
        ({"countries": ["RS", 7]}, "must be a string"),
        ({"max_corrections": -1}, "max_corrections"),
        ({"unknown_factor": 1.5}, "unknown_factor"),
        ({"unknown_factor": -0.1}, "unknown_factor"),
        ({"min_correction_factor": 1.1}, "min_correction_factor"),
        ({"min_correction_factor": -0.1}, "min_correction_factor"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        interpret("BG 123-AB", **kwargs)  # type: ignore[arg-type]


def test_candidates_check_countries() -> None:
    with pytest.raises(ValueError, match="unknown country"):
        candidates("BG 123-AB", countries=["SRB"])
