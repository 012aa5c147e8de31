"""Serbia: the registration-area table and the plate layout (BG 123-AB), the format checked first.

Owns `SERBIA`, `SERBIAN_LETTERS` and `SERBIAN_ASCII_LETTERS` (the letters the synthetic city prints).
"""

from __future__ import annotations

from types import MappingProxyType

from safecity.analytics.plates.formats.base import DIGITS, Group, Layout, PlateFormat

# Registration-area codes of Serbia (plates issued since 2011), with the area each stands for.
# Codes of areas in Kosovo are still part of the Serbian table and are listed for completeness.
_SERBIAN_CITY_CODES: dict[str, str] = {
    "AC": "Aleksandrovac",
    "AL": "Aleksinac",
    "AR": "Aranđelovac",
    "BB": "Bajina Bašta",
    "BČ": "Bečej",
    "BĆ": "Bogatić",
    "BG": "Beograd",
    "BO": "Bor",
    "BP": "Bačka Palanka",
    "BT": "Bačka Topola",
    "BU": "Bujanovac",
    "ČA": "Čačak",
    "ĆU": "Ćuprija",
    "DE": "Despotovac",
    "ĐA": "Đakovica (Kosovo)",
    "GL": "Gnjilane (Kosovo)",
    "GM": "Gornji Milanovac",
    "IC": "Ivanjica",
    "IN": "Inđija",
    "JA": "Jagodina",
    "KA": "Kanjiža",
    "KG": "Kragujevac",
    "KI": "Kikinda",
    "KL": "Kladovo",
    "KM": "Kosovska Mitrovica (Kosovo)",
    "KO": "Kovin",
    "KŠ": "Kruševac",
    "KV": "Kraljevo",
    "KŽ": "Knjaževac",
    "LB": "Lebane",
    "LE": "Leskovac",
    "LO": "Loznica",
    "LU": "Lučani",
    "NG": "Negotin",
    "NI": "Niš",
    "NP": "Novi Pazar",
    "NS": "Novi Sad",
    "NV": "Nova Varoš",
    "PA": "Pančevo",
    "PB": "Priboj",
    "PE": "Peć (Kosovo)",
    "PI": "Pirot",
    "PK": "Prokuplje",
    "PN": "Paraćin",
    "PO": "Požarevac",
    "PP": "Prijepolje",
    "PR": "Priština (Kosovo)",
    "PT": "Petrovac na Mlavi",
    "PZ": "Prizren (Kosovo)",
    "PŽ": "Požega",
    "RA": "Raška",
    "RU": "Ruma",
    "SD": "Smederevo",
    "SM": "Sremska Mitrovica",
    "SO": "Sombor",
    "SP": "Smederevska Palanka",
    "ST": "Stara Pazova",
    "SU": "Subotica",
    "SV": "Svilajnac",
    "ŠA": "Šabac",
    "ŠI": "Šid",
    "TO": "Topola",
    "TS": "Trstenik",
    "UB": "Ub",
    "UE": "Užice",
    "UR": "Uroševac (Kosovo)",
    "VA": "Valjevo",
    "VB": "Vrnjačka Banja",
    "VL": "Vlasotince",
    "VP": "Velika Plana",
    "VR": "Vranje",
    "VS": "Vrbas",
    "VŠ": "Vršac",
    "ZA": "Zaječar",
    "ZR": "Zrenjanin",
}

# Serial letters: the single-character letters of the Serbian Latin alphabet (the digraphs DŽ, LJ,
# NJ are never printed) plus X, Y and W. Plates with Č, Ć, Đ, Š, Ž, Y and W have not been issued
# since 2017 but remain valid. Q never appears.
SERBIAN_LETTERS: frozenset[str] = frozenset("ABCČĆDĐEFGHIJKLMNOPRSŠTUVZŽXYW")

# The ASCII subset the synthetic city prints (no diacritics, and none of X, Y, W).
SERBIAN_ASCII_LETTERS: str = "ABCDEFGHIJKLMNOPRSTUVZ"

SERBIA = PlateFormat(
    country="RS",
    name="Serbia",
    layouts=(
        Layout(
            "standard",
            (
                Group("city", SERBIAN_LETTERS, 2, 2, codes=frozenset(_SERBIAN_CITY_CODES)),
                Group("digits", DIGITS, 3, 5),
                Group("letters", SERBIAN_LETTERS, 2, 2),
            ),
            joiners=(" ", "-"),
            emblem_after=0,
        ),
    ),
    city_codes=MappingProxyType(_SERBIAN_CITY_CODES),
    letters=SERBIAN_LETTERS,
    description=(
        "Serbian standard plate since 2011: registration-area code, the cross shield with the code "
        "in Cyrillic below it, three to five digits (three or four on issued series), hyphen, "
        "two letters (printed 'BG 123-AB'); "
        "black on white, blue band with 'SRB' on the left, 520 x 110 mm."
    ),
)
