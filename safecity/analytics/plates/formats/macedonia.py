"""North Macedonia: the region table and the plate layouts (SK 1234 AB since 2012, SK 123-AB before).

Owns `NORTH_MACEDONIA`.

Source: Wikipedia, "Vehicle registration plates of North Macedonia" (en; codes as of 2015) and
licenseplatemania.com (Macedonia): two-letter region code, a red insignia repeating it in Cyrillic,
four digits and two letters; the series of 1993-2012, still seen, printed three digits, a hyphen and
two letters. Blue band with 'MK', since 2019 'NMK'.
"""

from __future__ import annotations

from types import MappingProxyType

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

_MACEDONIAN_REGION_CODES: dict[str, str] = {
    "BE": "Berovo",
    "BT": "Bitola",
    "DB": "Debar",
    "DE": "Delčevo",
    "GE": "Gevgelija",
    "GV": "Gostivar",
    "KA": "Kavadarci",
    "KI": "Kičevo",
    "KO": "Kočani",
    "KP": "Kriva Palanka",
    "KU": "Kumanovo",
    "NE": "Negotino",
    "OH": "Ohrid",
    "PP": "Prilep",
    "RA": "Radoviš",
    "RE": "Resen",
    "SK": "Skopje",
    "SN": "Sveti Nikole",
    "SR": "Strumica",
    "ST": "Štip",
    "SU": "Struga",
    "TE": "Tetovo",
    "VE": "Veles",
    "VI": "Vinica",
    "VV": "Valandovo",
}

_REGION = Group("region", LATIN, 2, 2, codes=frozenset(_MACEDONIAN_REGION_CODES))
_LETTERS = Group("letters", LATIN, 2, 2)

NORTH_MACEDONIA = PlateFormat(
    country="MK",
    name="North Macedonia",
    layouts=(
        Layout(
            "standard", (_REGION, Group("digits", DIGITS, 4, 4), _LETTERS), joiners=(" ", " "), emblem_after=0
        ),
        Layout(
            "1993-2012",
            (_REGION, Group("digits", DIGITS, 3, 3), _LETTERS),
            joiners=(" ", "-"),
            emblem_after=0,
        ),
    ),
    city_codes=MappingProxyType(_MACEDONIAN_REGION_CODES),
    description=(
        "North Macedonian plate since 2012: region code, red insignia with the code in Cyrillic, four "
        "digits and two letters (printed 'SK 1234 AB'); 1993-2012 three digits, hyphen, two letters "
        "('SK 123-AB'); blue band with 'NMK' (before 2019 'MK')."
    ),
)
