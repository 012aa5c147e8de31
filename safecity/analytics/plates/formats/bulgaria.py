"""Bulgaria: the province table and the plate layout (CA 1234 AB), in letters Latin and Cyrillic share.

Owns `BULGARIA` and `BULGARIAN_LETTERS`.

Source: Wikipedia, "Vehicle registration plates of Bulgaria" (en): one- or two-letter province code,
four digits and a series of two letters (one on mopeds, motorcycles and some old plates); since 1992
only the twelve glyphs common to Cyrillic and Latin (А В Е К М Н О Р С Т У Х, read as the Latin
A B E K M H O P C T Y X); army plates BA and six digits, civil protection CP and six digits.
"""

from __future__ import annotations

from types import MappingProxyType

from safecity.analytics.plates.formats.base import DIGITS, Group, Layout, PlateFormat

BULGARIAN_LETTERS: frozenset[str] = frozenset("ABEKMHOPCTYX")
"""The Latin letters whose Cyrillic twins Bulgarian plates print."""

_BULGARIAN_PROVINCE_CODES: dict[str, str] = {
    "A": "Burgas", "B": "Varna", "BH": "Vidin", "BP": "Vratsa", "BT": "Veliko Tarnovo",
    "C": "Sofia (city)", "CA": "Sofia (city)", "CB": "Sofia (city)", "CC": "Silistra",
    "CH": "Sliven", "CM": "Smolyan", "CO": "Sofia Province", "CT": "Stara Zagora",
    "E": "Blagoevgrad", "EB": "Gabrovo", "EH": "Pleven", "H": "Shumen", "K": "Kardzhali",
    "KH": "Kyustendil", "M": "Montana", "OB": "Lovech", "P": "Ruse", "PA": "Pazardzhik",
    "PB": "Plovdiv", "PK": "Pernik", "PP": "Razgrad", "T": "Targovishte", "TX": "Dobrich",
    "X": "Haskovo", "Y": "Yambol",
}  # fmt: skip

BULGARIA = PlateFormat(
    country="BG",
    name="Bulgaria",
    layouts=(
        Layout(
            "standard",
            (
                Group("province", BULGARIAN_LETTERS, 1, 2, codes=frozenset(_BULGARIAN_PROVINCE_CODES)),
                Group("digits", DIGITS, 4, 4),
                Group("series", BULGARIAN_LETTERS, 1, 2),
            ),
            joiners=(" ", " "),
        ),
        Layout(
            "army or civil protection",
            (
                Group("service", BULGARIAN_LETTERS, 2, 2, codes=frozenset({"BA", "CP"})),
                Group("number", DIGITS, 6, 6),
            ),
            joiners=(" ",),
        ),
    ),
    city_codes=MappingProxyType(_BULGARIAN_PROVINCE_CODES),
    letters=BULGARIAN_LETTERS,
    description=(
        "Bulgarian plate: province code of one or two letters, four digits and a two-letter series "
        "(printed 'CA 1234 AB'), only letters Latin and Cyrillic share (A B E K M H O P C T Y X); "
        "army 'BA 123456'; blue band with 'BG'."
    ),
)
