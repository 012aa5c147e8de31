"""Bosnia and Herzegovina: the uniform plate (A12-E-345) and its special series.

Owns `BOSNIA` and `BOSNIAN_LETTERS`.

Source: Wikipedia, "Vehicle registration plates of Bosnia and Herzegovina" (en) and
"Kfz-Kennzeichen (Bosnien und Herzegowina)" (de): since 1998 the plates do not name a place; seven
characters X00-X-000 using only the letters Latin and Cyrillic share (A, E, J, K, M, O, T); the first
uniform series (1998) printed 000-X-000; taxis TA-000000, temporary (test) plates TT-000000,
military 00000-X, diplomatic 00-A-000 with A, C, M or E.
"""

from __future__ import annotations

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

BOSNIAN_LETTERS: frozenset[str] = frozenset("AEJKMOT")
"""The letters Latin and Cyrillic share; no other letter is printed on a regular plate."""

_LETTER = Group("letter", BOSNIAN_LETTERS, 1, 1)

BOSNIA = PlateFormat(
    country="BA",
    name="Bosnia and Herzegovina",
    layouts=(
        Layout(
            "standard",
            (
                Group("first", BOSNIAN_LETTERS, 1, 1),
                Group("digits", DIGITS, 2, 2),
                _LETTER,
                Group("serial", DIGITS, 3, 3),
            ),
            joiners=("", "-", "-"),
        ),
        Layout(
            "1998",
            (Group("digits", DIGITS, 3, 3), _LETTER, Group("serial", DIGITS, 3, 3)),
            joiners=("-", "-"),
        ),
        Layout(
            "taxi or temporary",
            (Group("kind", LATIN, 2, 2, codes=frozenset({"TA", "TT"})), Group("number", DIGITS, 6, 6)),
            joiners=("-",),
        ),
        Layout("military", (Group("number", DIGITS, 5, 5), _LETTER), joiners=("-",)),
        Layout(
            "diplomatic",
            (
                Group("country", DIGITS, 2, 2),
                Group("status", frozenset("ACME"), 1, 1),
                Group("serial", DIGITS, 3, 3),
            ),
            joiners=("-", "-"),
        ),
    ),
    letters=BOSNIAN_LETTERS,
    description=(
        "Bosnian plate since 1998, uniform across the country: a letter, two digits, a letter, three "
        "digits (printed 'A12-E-345'), letters only from A E J K M O T; blue band with 'BIH' since 2009. "
        "Taxis 'TA-123456', temporary 'TT-123456', military '12345-A', diplomatic '12-A-345'."
    ),
)
