"""Hungary: the plate layouts (ABC-123 since 1990, AA AA-123 since 2022).

Owns `HUNGARY`.

Source: Wikipedia, "Vehicle registration plates of Hungary" (en) and helpers.hu ("New license plate
number structure in Hungary from July 2022"): 1990-2022 three letters, hyphen, three digits; since
July 2022 four letters of the English alphabet, the coat of arms after the first two, and three
digits. Letters are not tied to a place.
"""

from __future__ import annotations

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

HUNGARY = PlateFormat(
    country="HU",
    name="Hungary",
    layouts=(
        Layout(
            "2022",
            (Group("pair", LATIN, 2, 2), Group("letters", LATIN, 2, 2), Group("digits", DIGITS, 3, 3)),
            joiners=(" ", "-"),
            emblem_after=0,
        ),
        Layout("1990", (Group("letters", LATIN, 3, 3), Group("digits", DIGITS, 3, 3)), joiners=("-",)),
    ),
    description=(
        "Hungarian plate: since 2022 two pairs of letters and three digits (printed 'AA AA-123'); "
        "1990-2022 three letters, hyphen, three digits ('ABC-123'); blue band with 'H'."
    ),
)
