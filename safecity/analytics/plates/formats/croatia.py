"""Croatia: the registration-area table and the plate layout (ZG 1234-AB).

Owns `CROATIA` and `CROATIAN_LETTERS`.
"""

from __future__ import annotations

from types import MappingProxyType

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

# Registration areas (registracijska područja) of the plates issued since 1992 (current design 2016).
_CROATIAN_CITY_CODES: dict[str, str] = {
    "BJ": "Bjelovar",
    "BM": "Beli Manastir",
    "ČK": "Čakovec",
    "DA": "Daruvar",
    "DE": "Delnice",
    "DJ": "Đakovo",
    "DU": "Dubrovnik",
    "GS": "Gospić",
    "IM": "Imotski",
    "KA": "Karlovac",
    "KC": "Koprivnica",
    "KR": "Krapina",
    "KT": "Kutina",
    "KŽ": "Križevci",
    "MA": "Makarska",
    "NA": "Našice",
    "NG": "Nova Gradiška",
    "OG": "Ogulin",
    "OS": "Osijek",
    "PU": "Pula",
    "PŽ": "Požega",
    "RI": "Rijeka",
    "SB": "Slavonski Brod",
    "SK": "Sisak",
    "SL": "Slatina",
    "ST": "Split",
    "ŠI": "Šibenik",
    "VK": "Vinkovci",
    "VT": "Virovitica",
    "VU": "Vukovar",
    "VŽ": "Varaždin",
    "ZD": "Zadar",
    "ZG": "Zagreb",
    "ŽU": "Županja",
}

CROATIAN_LETTERS: frozenset[str] = LATIN | frozenset("ČĆĐŠŽ")
"""Letters of the serial: the Latin alphabet and the Croatian letters (kept permissive: which of
Q, W, X, Y are issued is not something this table should guess)."""

CROATIA = PlateFormat(
    country="HR",
    name="Croatia",
    layouts=(
        Layout(
            "standard",
            (
                Group("city", CROATIAN_LETTERS, 2, 2, codes=frozenset(_CROATIAN_CITY_CODES)),
                Group("digits", DIGITS, 3, 4),
                Group("letters", CROATIAN_LETTERS, 1, 2),
            ),
            joiners=(" ", "-"),
            emblem_after=0,
        ),
    ),
    city_codes=MappingProxyType(_CROATIAN_CITY_CODES),
    letters=CROATIAN_LETTERS,
    description=(
        "Croatian plate: registration-area code, the chequy coat of arms, three or four digits, "
        "hyphen, one or two letters (printed 'ZG 1234-AB'); blue EU band with 'HR'."
    ),
)
