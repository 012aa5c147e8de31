"""United States: one generic layout (3-8 letters and digits, at least one of each), checked last.

Owns `UNITED_STATES`. Every state has its own serial formats and vanity plates are free text, so
this only says "looks like a plate"; it ranks after every specific layout of every country.

All-letter readings are deliberately not plates here, not even long ones: the wrong text the reader
finds on US street scenes is exactly that (state names such as TEXAS, makes and models such as
TOYOTA or SILVERADO, dealer frames, TAXI, PRIVATE), and a layout admitting it would rank it with
real plates. Nothing is lost for a real all-letter vanity plate: `interpret` keeps a reading that
fits no layout exactly as read (valid=False), so its stored text is still character-exact. All-digit
readings are refused for the same reason (phone and house numbers).
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
