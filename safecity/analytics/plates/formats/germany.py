"""Germany: the plate layout (B AB 1234, optional E or H), validated by its total structure.

Owns `GERMANY`. The district table (some 700 codes) is not kept: the layout is checked by
structure and the split of a normalised reading into district and letters is a best guess.
"""

from __future__ import annotations

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

ONE_LETTER_DISTRICTS = frozenset("ABCDEFGHKLMNPRSVWZ")
"""Districts with a one-letter code (Augsburg, Berlin, Chemnitz, Düsseldorf, ...)."""

_DISTRICT = Group("district", LATIN | frozenset("ÄÖÜ"), 1, 3)
_LETTERS = Group("letters", LATIN, 1, 2)
_NUMBER = Group("number", DIGITS, 1, 4, first=DIGITS - {"0"})


def _prefer(parts: tuple[str, ...]) -> int:
    """Without separators "BAB1234" splits as B|AB or BA|B: prefer a one-letter district only when
    such a district exists, then two recognition letters (the common case)."""
    district, letters = parts[0], parts[1]
    return (len(district) == 1 and district not in ONE_LETTER_DISTRICTS) * 2 + (len(letters) != 2)


GERMANY = PlateFormat(
    country="DE",
    name="Germany",
    layouts=(
        Layout(
            "standard",
            (_DISTRICT, _LETTERS, _NUMBER),
            joiners=(" ", " "),
            max_chars=8,
            prefer=_prefer,
        ),
        Layout(
            "electric or historic",
            (_DISTRICT, _LETTERS, _NUMBER, Group("suffix", frozenset("EH"), 1, 1)),
            joiners=(" ", " ", ""),
            max_chars=9,
            prefer=_prefer,
        ),
    ),
    description=(
        "German plate since 1956: district code of one to three letters, the registration seals, "
        "one or two letters and one to four digits without a leading zero, at most eight "
        "characters (printed 'B AB 1234'); E for electric and H for historic vehicles follow the digits."
    ),
)
