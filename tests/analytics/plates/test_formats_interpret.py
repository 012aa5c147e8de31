"""interpret() and candidates(): correction, glued band text, unknown readings, ranking, arguments."""

from __future__ import annotations

import dataclasses

import pytest

from safecity.analytics.plates.formats import PlateInterpretation, candidates, clean_reading, interpret


@pytest.mark.parametrize(
    ("raw", "text", "corrections"),
    [
        ("BG 12O-AB", "BG 120-AB", 1),  # letter O in a digit-only position
        ("8G 123-AB", "BG 123-AB", 1),  # digit 8 in a letter-only position (the area code)
        ("NS 1Z34-CD", "NS 1234-CD", 1),
        ("BG 123-A8", "BG 123-AB", 1),
        ("BG 5I2-AB", "BG 512-AB", 1),
        ("8G 12O-AB", "BG 120-AB", 2),
        ("ZG 9757-H6", "ZG 9757-HG", 1),
        ("RK 6O5AB", "RK 605AB", 1),
    ],
)
def test_positional_correction(raw: str, text: str, corrections: int) -> None:
    got = interpret(raw)
    assert (got.text, got.corrections, got.valid) == (text, corrections, True)


def test_correction_leaves_characters_a_position_admits() -> None:
    got = interpret("1AB 1234", countries=["CZ"])  # the third position admits letters and digits
    assert (got.text, got.corrections) == ("1AB 1234", 0)


def test_correction_applies_where_the_country_does_not_issue_the_letter() -> None:
    got = interpret("4BO 4979", countries=["CZ"])  # O is not issued in Czech series: it is a 0
    assert (got.text, got.corrections) == ("4B0 4979", 1)


def test_polish_vehicle_part_never_holds_o() -> None:
    assert interpret("WA 12O45", countries=["PL"]).text == "WA 12045"


def test_mercosul_is_read_as_mercosul_not_as_corrected_old_plate() -> None:
    got = interpret("ABC1D23")
    assert (got.text, got.country, got.corrections) == ("ABC1D23", "BR", 0)


def test_old_brazilian_plate() -> None:
    assert interpret("ABC1234", countries=["BR"]).text == "ABC-1234"


def test_candidates_keep_the_corrected_alternative() -> None:
    texts = [(c.text, c.corrections) for c in candidates("ABC1D23", countries=["BR"])]
    assert texts == [("ABC1D23", 0), ("ABC-1023", 1)]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("SRBBG123AB", "BG 123-AB"),
        ("SRB BG 123-AB", "BG 123-AB"),
        ("EU SRB BG 123-AB", "BG 123-AB"),
        ("BG 123-AB SRB", "BG 123-AB"),
        ("IBG123AB", "BG 123-AB"),
        ("HR ZG 1234-AB", "ZG 1234-AB"),
        ("PL WA 56660", "WA 56660"),
        ("D B AB 1234", "B AB 1234"),
    ],
)
def test_glued_band_text_is_stripped(raw: str, text: str) -> None:
    got = interpret(raw)
    assert (got.text, got.valid) == (text, True)


def test_stripping_lowers_the_confidence_factor() -> None:
    assert interpret("SRBBG123AB").confidence_factor < interpret("BG123AB").confidence_factor


def test_band_text_that_belongs_to_the_plate_is_kept() -> None:
    got = interpret("BY 649AG")  # BY is Belarus on a band, and Bytca on a Slovak plate
    assert (got.text, got.country) == ("BY 649AG", "SK")


def test_band_text_is_not_stripped_when_the_rest_fits_nothing() -> None:
    got = interpret("SRB HELLO")
    assert (got.text, got.valid) == ("SRBHELLO", False)


def test_unknown_reading_is_kept_with_lower_confidence() -> None:
    got = interpret("hello")
    assert got == PlateInterpretation(
        text="HELLO", normalised="HELLO", country="", valid=False, corrections=0, confidence_factor=0.6
    )


def test_unknown_factor_is_the_callers() -> None:
    assert interpret("HELLO", unknown_factor=0.25).confidence_factor == 0.25


def test_empty_reading_is_kept_not_dropped() -> None:
    got = interpret("  -  ")
    assert (got.text, got.normalised, got.valid) == ("", "", False)


def test_unknown_reading_has_no_candidates() -> None:
    assert candidates("HELLO") == []


@pytest.mark.parametrize("raw", ["bg 123-ab", " BG.123·AB ", "BG/123 - AB|", "'BG 123 AB'", "BG_123_AB"])
def test_stray_separators_and_case(raw: str) -> None:
    assert interpret(raw).text == "BG 123-AB"


def test_cyrillic_look_alikes_are_read_as_latin() -> None:
    assert interpret("ВG 123-АВ").text == "BG 123-AB"  # Cyrillic В and А


def test_area_code_read_without_its_diacritic_is_restored() -> None:
    got = interpret("CA 123-AB")  # an OCR model without Č
    assert (got.text, got.normalised, got.country, got.corrections) == ("ČA 123-AB", "ČA123AB", "RS", 0)


def test_area_code_ambiguous_without_its_diacritic_is_kept_as_read() -> None:
    got = interpret("BC 123-AB")  # BČ (Bečej) or BĆ (Bogatić)
    assert (got.text, got.country) == ("BC 123-AB", "RS")


def test_emblem_read_as_a_character_is_dropped() -> None:
    got = interpret("RK 8 755AJ")
    assert (got.text, got.country, got.corrections) == ("RK 755AJ", "SK", 1)


def test_valid_reading_without_corrections_has_factor_one() -> None:
    got = interpret("BG 123-AB")
    assert (got.text, got.normalised, got.country, got.valid, got.corrections, got.confidence_factor) == (
        "BG 123-AB",
        "BG123AB",
        "RS",
        True,
        0,
        1.0,
    )


def test_each_correction_lowers_the_factor() -> None:
    factors = [interpret(raw).confidence_factor for raw in ("BG 120-AB", "BG 12O-AB", "8G 12O-AB")]
    assert 1.0 == factors[0] > factors[1] > factors[2] > 0.6


def test_country_priority_serbia_first() -> None:
    found = candidates("ZA 834-CO")  # Zaječar in Serbia, Žilina in Slovakia
    assert [(c.country, c.text) for c in found[:2]] == [("RS", "ZA 834-CO"), ("SK", "ZA 834CO")]


def test_countries_limit_the_formats() -> None:
    got = interpret("ZA 834CO", countries=["sk"])
    assert (got.country, got.text) == ("SK", "ZA 834CO")


def test_countries_exclude_a_format() -> None:
    assert not interpret("BG 123-AB", countries=["HR"]).valid


def test_fewer_corrections_win_over_priority() -> None:
    got = interpret("WA 56660")  # Polish as read; Slovak only with two corrections
    assert (got.country, got.corrections) == ("PL", 0)


def test_specific_format_with_corrections_beats_the_generic_one() -> None:
    assert interpret("8G 12O-AB").country == "RS"


def test_generic_us_layout_is_last_and_weaker() -> None:
    got = interpret("7ABC123")
    assert (got.country, got.valid) == ("US", True)
    assert got.confidence_factor < 0.9


def test_separator_inside_a_group_counts_against_a_layout() -> None:
    assert interpret("BG 12O-AB").country == "RS"  # as read, "BG12 OAB" would be a British plate


def test_without_separators_the_exact_reading_wins() -> None:
    assert interpret("BG12OAB").text == "BG12 OAB"


def test_vanity_layout_beats_a_doubly_corrected_regular_one() -> None:
    got = interpret("KMBORAK")
    assert (got.text, got.country) == ("KM BORAK", "SK")


def test_max_corrections_bounds_correction() -> None:
    assert not interpret("8G 12O-AB", countries=["RS"], max_corrections=1).valid


def test_candidates_are_unique_per_country_and_text() -> None:
    found = candidates("BG 123-AB")
    keys = [(c.country, c.normalised) for c in found]
    assert len(keys) == len(set(keys))
    assert found[0].country == "RS"


def test_candidates_are_ordered_by_confidence() -> None:
    factors = [c.confidence_factor for c in candidates("8G 12O-AB")]
    assert factors == sorted(factors, reverse=True)


def test_interpretation_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        interpret("BG 123-AB").text = "X"  # type: ignore[misc]


def test_clean_reading_keeps_separator_positions() -> None:
    assert clean_reading(" bg 123-ab.") == ("BG123AB", frozenset({2, 5}))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"countries": ["XX"]}, "unknown country"),
        ({"countries": "RS"}, "not the string"),
        ({"countries": []}, "at least one country"),
        ({"max_corrections": -1}, "max_corrections"),
        ({"unknown_factor": 1.5}, "unknown_factor"),
        ({"unknown_factor": -0.1}, "unknown_factor"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        interpret("BG 123-AB", **kwargs)  # type: ignore[arg-type]


def test_candidates_check_countries() -> None:
    with pytest.raises(ValueError, match="unknown country"):
        candidates("BG 123-AB", countries=["SRB"])


def test_permissive_layouts_are_not_corrected() -> None:
    assert not interpret("GOBEARS").valid  # a Polish individual plate only if O were read for 0
