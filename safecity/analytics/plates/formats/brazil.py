"""Brazil: the old grey plate (ABC-1234) and the Mercosul plate (ABC1D23).

Owns `BRAZIL`.
"""

from __future__ import annotations

from safecity.analytics.plates.formats.base import LATIN, Layout, PlateFormat, letters_and_digits

BRAZIL = PlateFormat(
    country="BR",
    name="Brazil",
    layouts=(
        Layout("Mercosul", letters_and_digits("LLLDLDD", LATIN), joiners=("", "", "")),
        Layout("old", letters_and_digits("LLLDDDD", LATIN), joiners=("-",)),
    ),
    description=(
        "Brazilian plate: since 2018 the Mercosul layout, three letters, a digit, a letter and two "
        "digits (printed 'ABC1D23'); before it three letters, hyphen, four digits ('ABC-1234')."
    ),
)
