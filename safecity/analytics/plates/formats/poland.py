"""Poland: the plate layouts since 2000 (WA 12345, KR 1AB23, BLM A123, ...), and individual plates.

Owns `POLAND` and `POLISH_SERIAL_LETTERS`.
"""

from __future__ import annotations

from safecity.analytics.plates.formats.base import (
    DIGITS,
    LATIN,
    Group,
    Layout,
    PlateFormat,
    letters_and_digits,
)

POLISH_SERIAL_LETTERS: frozenset[str] = LATIN - frozenset("BDIOZ")
"""Letters of the vehicle part: B, D, I, O and Z are never used there (they read as 8, 0, 1, 0, 2),
so a position-aware reading turns them into digits."""

_VOIVODESHIP_LETTERS = frozenset("BCDEFGKLNOPRSTWZ")
"""First letter of an individual plate: the voivodeship."""

# Vehicle parts after a two-letter area code (five characters) and after a three-letter one
# (four characters; the five-character patterns are used there too once those run out).
_AFTER_TWO = ("DDDDD", "DDDDL", "DDDLL", "DLDDD", "DLLDD")
_AFTER_THREE = ("LDDD", "DDLL", "DLDD", "DDLD", "DLLD", *_AFTER_TWO)

# The area code: its first letter is the voivodeship, the rest the county. Not checked against a
# table: the list changes (new codes such as PY, KK, DX in 2022-2023, with new first letters).
_AREA = LATIN


def _layout(area_len: int, pattern: str) -> Layout:
    serial = letters_and_digits(pattern, POLISH_SERIAL_LETTERS)
    return Layout(
        f"{area_len}+{pattern}",
        (Group("area", _AREA, area_len, area_len), *serial),
        joiners=(" ", *("" for _ in serial[1:])),
    )


_INDIVIDUAL = Layout(
    "individual",
    (
        Group("voivodeship", _VOIVODESHIP_LETTERS, 1, 1),
        Group("digit", DIGITS, 1, 1),
        Group("chosen", LATIN, 1, 5),
        Group("chosen_digits", DIGITS, 1, 2),
    ),
    joiners=("", " ", ""),
    min_chars=5,
    max_chars=7,
    tier=1,
    confidence=0.9,
)
_INDIVIDUAL_LETTERS = Layout(
    "individual letters",
    (
        Group("voivodeship", _VOIVODESHIP_LETTERS, 1, 1),
        Group("digit", DIGITS, 1, 1),
        Group("chosen", LATIN, 3, 5),
    ),
    joiners=("", " "),
    tier=1,
    confidence=0.9,
)

POLAND = PlateFormat(
    country="PL",
    name="Poland",
    layouts=(
        *(_layout(2, p) for p in _AFTER_TWO),
        *(_layout(3, p) for p in _AFTER_THREE),
        _INDIVIDUAL_LETTERS,
        _INDIVIDUAL,
    ),
    letters=POLISH_SERIAL_LETTERS,
    description=(
        "Polish plate since 2000: two or three letters (voivodeship and county), a space and the "
        "vehicle part of four or five characters, at most two of them letters, never B, D, I, O "
        "or Z (printed 'WA 12345', 'KR 1AC23', 'BLM A123'); individual plates: voivodeship letter, "
        "a digit, then three to five chosen letters of which the last two may be digits ('F0 MAREK')."
    ),
)
