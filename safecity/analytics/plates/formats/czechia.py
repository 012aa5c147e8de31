"""Czechia: the plate layout (1A2 3456: serial digit, region letter, letter or digit, four digits).

Owns `CZECHIA`.
"""

from __future__ import annotations

from types import MappingProxyType

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

# Region letters (kraje), the second character of the plate.
_CZECH_REGION_CODES: dict[str, str] = {
    "A": "Praha",
    "B": "Jihomoravský kraj",
    "C": "Jihočeský kraj",
    "E": "Pardubický kraj",
    "H": "Královéhradecký kraj",
    "J": "Kraj Vysočina",
    "K": "Karlovarský kraj",
    "L": "Liberecký kraj",
    "M": "Olomoucký kraj",
    "P": "Plzeňský kraj",
    "S": "Středočeský kraj",
    "T": "Moravskoslezský kraj",
    "U": "Ústecký kraj",
    "Z": "Zlínský kraj",
}

_CZECH_SERIES_LETTERS = LATIN - frozenset("OQ")
"""Letters in the third position: O and Q are not issued (they would read as 0)."""

CZECHIA = PlateFormat(
    country="CZ",
    name="Czechia",
    layouts=(
        Layout(
            "standard",
            (
                Group("order", DIGITS - {"0"}, 1, 1),
                Group("region", frozenset(_CZECH_REGION_CODES), 1, 1),
                Group("series", _CZECH_SERIES_LETTERS | DIGITS, 1, 1),
                Group("number", DIGITS, 4, 4),
            ),
            joiners=("", "", " "),
        ),
    ),
    city_codes=MappingProxyType(_CZECH_REGION_CODES),
    letters=_CZECH_SERIES_LETTERS,
    description=(
        "Czech plate since 2001: a digit, the region letter, a letter or digit, a space and four "
        "digits (printed '1A2 3456'); blue EU band with 'CZ'."
    ),
)
