"""Montenegro: the municipality table and the plate layouts since 2008 (PG AB123).

Owns `MONTENEGRO`.

Source: Wikipedia, "Vehicle registration plates of Montenegro" (en, it, sl, sr) and
"Kfz-Kennzeichen (Montenegro)" (de): two-letter municipality code, the coat of arms, two letters
(never Q, W, X, Y, I or O) and three digits; trailers put the digits first; two-wheelers print two
digits; chosen plates five characters of the owner's choice; police plates P, the municipality code
and three digits. Chosen plates are not modelled: five free characters after the municipality are
as long as a regular plate, so a misread regular plate would be taken as a chosen one as read
(see `interpret`); they are still stored as read, only not marked valid.
"""

from __future__ import annotations

from types import MappingProxyType

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

_MONTENEGRIN_CITY_CODES: dict[str, str] = {
    "AN": "Andrijevica",
    "BA": "Berane",
    "BD": "Budva",
    "BP": "Bijelo Polje",
    "BR": "Bar",
    "CT": "Cetinje",
    "DG": "Danilovgrad",
    "GS": "Gusinje",
    "HN": "Herceg Novi",
    "KL": "Kolašin",
    "KO": "Kotor",
    "MK": "Mojkovac",
    "NK": "Nikšić",
    "PG": "Podgorica",
    "PL": "Plav",
    "PT": "Petnjica",
    "PV": "Pljevlja",
    "PŽ": "Plužine",
    "RO": "Rožaje",
    "ŠN": "Šavnik",
    "TV": "Tivat",
    "TZ": "Tuzi",
    "UL": "Ulcinj",
    "ZT": "Zeta",
    "ŽB": "Žabljak",
}

MONTENEGRIN_SERIAL_LETTERS: frozenset[str] = LATIN - frozenset("QWXYIO")
"""Serial letters: Q, W, X, Y are not Montenegrin and I, O would read as 1, 0."""

_CITY = Group("city", LATIN | frozenset("ŠŽ"), 2, 2, codes=frozenset(_MONTENEGRIN_CITY_CODES))
_LETTERS = Group("letters", MONTENEGRIN_SERIAL_LETTERS, 2, 2)

MONTENEGRO = PlateFormat(
    country="ME",
    name="Montenegro",
    layouts=(
        Layout(
            "standard", (_CITY, _LETTERS, Group("digits", DIGITS, 3, 3)), joiners=(" ", ""), emblem_after=0
        ),
        Layout(
            "trailer", (_CITY, Group("digits", DIGITS, 3, 3), _LETTERS), joiners=(" ", ""), emblem_after=0
        ),
        Layout(
            "two-wheeler", (_CITY, _LETTERS, Group("digits", DIGITS, 2, 2)), joiners=(" ", ""), emblem_after=0
        ),
        Layout(
            "police",
            (Group("police", frozenset("P"), 1, 1), _CITY, Group("digits", DIGITS, 3, 3)),
            joiners=(" ", " "),
        ),
    ),
    city_codes=MappingProxyType(_MONTENEGRIN_CITY_CODES),
    letters=MONTENEGRIN_SERIAL_LETTERS,
    description=(
        "Montenegrin plate since 2008: municipality code, the coat of arms, two letters and three "
        "digits (printed 'PG AB123'); trailers 'PG 123AB', two-wheelers 'PG AB12', police 'P PG 123'; "
        "blue band with 'MNE'."
    ),
)
