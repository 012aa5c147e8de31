"""Romania: the county table and the plate layouts (B 123 ABC in Bucharest, CJ 12 ABC elsewhere).

Owns `ROMANIA`.

Source: Wikipedia, "Vehicle registration plates of Romania" (en, via wikimili.com and
liquisearch.com): one- or two-letter county code (B for Bucharest), a group of two or three digits
(three in Bucharest since 2010) and three letters; Q is never used and the three letters never
begin with I or O (they read as 1 and 0).
"""

from __future__ import annotations

from types import MappingProxyType

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

_ROMANIAN_COUNTY_CODES: dict[str, str] = {
    "AB": "Alba", "AG": "Argeș", "AR": "Arad", "B": "București", "BC": "Bacău", "BH": "Bihor",
    "BN": "Bistrița-Năsăud", "BR": "Brăila", "BT": "Botoșani", "BV": "Brașov", "BZ": "Buzău",
    "CJ": "Cluj", "CL": "Călărași", "CS": "Caraș-Severin", "CT": "Constanța", "CV": "Covasna",
    "DB": "Dâmbovița", "DJ": "Dolj", "GJ": "Gorj", "GL": "Galați", "GR": "Giurgiu", "HD": "Hunedoara",
    "HR": "Harghita", "IF": "Ilfov", "IL": "Ialomița", "IS": "Iași", "MH": "Mehedinți",
    "MM": "Maramureș", "MS": "Mureș", "NT": "Neamț", "OT": "Olt", "PH": "Prahova", "SB": "Sibiu",
    "SJ": "Sălaj", "SM": "Satu Mare", "SV": "Suceava", "TL": "Tulcea", "TM": "Timiș",
    "TR": "Teleorman", "VL": "Vâlcea", "VN": "Vrancea", "VS": "Vaslui",
}  # fmt: skip

ROMANIAN_SERIAL_LETTERS: frozenset[str] = LATIN - {"Q"}

_LETTERS = Group("letters", ROMANIAN_SERIAL_LETTERS, 3, 3, first=ROMANIAN_SERIAL_LETTERS - {"I", "O"})

ROMANIA = PlateFormat(
    country="RO",
    name="Romania",
    layouts=(
        Layout(
            "standard",
            (
                Group("county", LATIN, 1, 2, codes=frozenset(_ROMANIAN_COUNTY_CODES)),
                Group("digits", DIGITS, 2, 3),
                _LETTERS,
            ),
            joiners=(" ", " "),
        ),
    ),
    city_codes=MappingProxyType(_ROMANIAN_COUNTY_CODES),
    letters=ROMANIAN_SERIAL_LETTERS,
    description=(
        "Romanian plate: county code, two or three digits and three letters, never Q and never I or O "
        "first (printed 'CJ 12 ABC', in Bucharest 'B 123 ABC'); blue band with 'RO'."
    ),
)
