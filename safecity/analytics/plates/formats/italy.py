"""Italy: the plate layout since 1994 (AB 123CD).

Owns `ITALY`.

Source: Wikipedia, "Vehicle registration plates of Italy" (en): since 1994 two letters, three
digits, two letters, issued nationwide in sequence and not tied to a province. The letters I, O, Q
and U are left out of the series (it.wikipedia, "Targhe d'immatricolazione italiane"; not re-checked
for this table).
"""

from __future__ import annotations

from safecity.analytics.plates.formats.base import LATIN, Layout, PlateFormat, letters_and_digits

ITALIAN_LETTERS: frozenset[str] = LATIN - frozenset("IOQU")

ITALY = PlateFormat(
    country="IT",
    name="Italy",
    layouts=(Layout("standard", letters_and_digits("LLDDDLL", ITALIAN_LETTERS), joiners=(" ", "")),),
    letters=ITALIAN_LETTERS,
    description=(
        "Italian plate since 1994: two letters, three digits, two letters, never I, O, Q or U "
        "(printed 'AB 123CD'); blue bands with 'I' on the left and the province on the right."
    ),
)
