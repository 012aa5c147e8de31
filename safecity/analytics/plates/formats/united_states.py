"""United States: one generic layout (3-8 letters and digits, at least one of each), checked last.

Owns `UNITED_STATES`. Every state has its own serial formats and vanity plates are free text, so
this only says "looks like a plate"; it ranks after every specific layout of every country.
"""

from __future__ import annotations

from safecity.analytics.plates.formats.base import ALNUM, Group, Layout, PlateFormat

UNITED_STATES = PlateFormat(
    country="US",
    name="United States (generic)",
    layouts=(
        Layout(
            "generic",
            (Group("serial", ALNUM, 3, 8),),
            joiners=(),
            min_letters=1,
            min_digits=1,
            tier=2,
            confidence=0.7,
            separators_anywhere=True,
        ),
    ),
    description=(
        "Any US plate, generically: three to eight letters and digits with at least one of each "
        "(all-letter vanity plates are not recognised: they look like any other word)."
    ),
)
