"""A generic European layout: four to eight letters and digits, for plates of countries without a table.

Owns `EUROPE_GENERIC` (country code "EU", which ISO 3166-1 reserves for the European Union).

It only says "looks like a plate" (at least one letter and one digit, so words such as TAXI are not
plates), ranks after every specific layout and is never corrected into; its low confidence factor
tells the reader so.
"""

from __future__ import annotations

from safecity.analytics.plates.formats.base import ALNUM, Group, Layout, PlateFormat

EUROPE_GENERIC = PlateFormat(
    country="EU",
    name="Europe (generic)",
    layouts=(
        Layout(
            "generic",
            (Group("serial", ALNUM, 4, 8),),
            joiners=(),
            min_letters=1,
            min_digits=1,
            tier=2,
            confidence=0.65,
            separators_anywhere=True,
        ),
    ),
    description=(
        "Any European plate, generically: four to eight letters and digits with at least one of each, "
        "as read."
    ),
)
