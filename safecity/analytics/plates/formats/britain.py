"""United Kingdom (Great Britain): current (AB12 CDE), prefix (A123 BCD), suffix (ABC 123D), dateless.

Owns `UNITED_KINGDOM`.
"""

from __future__ import annotations

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

_LETTERS = LATIN - frozenset("IQ")
"""I and Q are not used in the regular series (Q is kept for vehicles of unknown age)."""
_YEAR_LETTERS = LATIN - frozenset("IOQUZ")
"""The age letter of prefix and suffix plates never was I, O, Q, U or Z."""
_NUMBER = DIGITS - {"0"}

UNITED_KINGDOM = PlateFormat(
    country="GB",
    name="United Kingdom",
    layouts=(
        Layout(
            "current",
            (Group("area", _LETTERS, 2, 2), Group("age", DIGITS, 2, 2), Group("random", _LETTERS, 3, 3)),
            joiners=("", " "),
        ),
        Layout(
            "prefix",
            (
                Group("year", _YEAR_LETTERS, 1, 1),
                Group("number", DIGITS, 1, 3, first=_NUMBER),
                Group("letters", _LETTERS, 3, 3),
            ),
            joiners=("", " "),
        ),
        Layout(
            "suffix",
            (
                Group("letters", _LETTERS, 3, 3),
                Group("number", DIGITS, 1, 3, first=_NUMBER),
                Group("year", _YEAR_LETTERS, 1, 1),
            ),
            joiners=(" ", ""),
        ),
        Layout(
            "dateless letters first",
            (Group("letters", LATIN, 1, 3), Group("number", DIGITS, 1, 4, first=_NUMBER)),
            joiners=(" ",),
            min_chars=3,
            tier=1,
            confidence=0.9,
        ),
        Layout(
            "dateless number first",
            (Group("number", DIGITS, 1, 4, first=_NUMBER), Group("letters", LATIN, 1, 3)),
            joiners=(" ",),
            min_chars=3,
            tier=1,
            confidence=0.9,
        ),
    ),
    letters=_LETTERS,
    description=(
        "British plate: since 2001 two area letters, two age digits and three random letters "
        "(printed 'AB12 CDE'); 1983-2001 prefix ('A123 BCD'), 1963-1983 suffix ('ABC 123D'); "
        "older dateless registrations of up to three letters and four digits in either order."
    ),
)
