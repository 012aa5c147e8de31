"""Licence-plate formats per country: one table per country, validation and the printed form.

A format knows the registration-area codes, the letters a country prints and the layout of the
serial; the plate reader uses it to accept or reject a reading. Only Serbia is here so far;
other countries add one `PlateFormat` instance each and register it in `FORMATS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Characters a reading may be separated by on the plate or in user input: spaces, hyphens, dots
# and the middle dot some countries print between groups.
_SEPARATORS = re.compile(r"[\s\-\.·•]+")

# Look-alikes that keyboards or OCR produce for Serbian letters (Icelandic eth for Đ).
_LOOKALIKES = str.maketrans({"Ð": "Đ"})


def normalise_plate(text: str) -> str:
    """Upper-case a plate reading and drop spaces, hyphens and dots: "bg 123-ab" -> "BG123AB"."""
    return _SEPARATORS.sub("", text.strip().upper().translate(_LOOKALIKES))


@dataclass(frozen=True, slots=True)
class PlateFormat:
    """The standard plate of one country: area codes, letters used and the serial layout."""

    country: str
    """ISO 3166-1 alpha-2 code of the issuing country, e.g. "RS"."""
    name: str
    regex: re.Pattern[str]
    """Pattern of the normalised form, with named groups `city`, `digits`, `letters`."""
    city_codes: Mapping[str, str] = field(hash=False)
    """Registration-area code -> the area it stands for."""
    letters: frozenset[str]
    """Letters that may appear in the serial (after the digits)."""
    description: str

    def match(self, text: str) -> re.Match[str] | None:
        """The regex match of a valid plate (any printed or normalised form), else None."""
        m = self.regex.fullmatch(normalise_plate(text))
        if m is None or m.group("city") not in self.city_codes:
            return None
        if not all(ch in self.letters for ch in m.group("letters")):
            return None
        return m

    def validate(self, text: str) -> bool:
        """Whether `text` ("BG 123-AB" or "BG123AB") is a plate of this format."""
        return self.match(text) is not None

    def printed(self, text: str) -> str:
        """The plate as printed ("BG 123-AB"); raises ValueError when `text` is not valid."""
        m = self.match(text)
        if m is None:
            raise ValueError(f"{text!r} is not a valid {self.name} plate")
        return f"{m.group('city')} {m.group('digits')}-{m.group('letters')}"


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
    regex=re.compile(r"(?P<city>[A-ZČĆĐŠŽ]{2})(?P<digits>[0-9]{3,5})(?P<letters>[A-ZČĆĐŠŽ]{2})"),
    city_codes=MappingProxyType(_SERBIAN_CITY_CODES),
    letters=SERBIAN_LETTERS,
    description=(
        "Serbian standard plate since 2011: registration-area code, the cross shield with the code "
        "in Cyrillic below it, three to five digits (three or four on issued series), hyphen, "
        "two letters (printed 'BG 123-AB'); "
        "black on white, blue band with 'SRB' on the left, 520 x 110 mm."
    ),
)

FORMATS: Mapping[str, PlateFormat] = MappingProxyType({SERBIA.country: SERBIA})
"""Every known plate format by country code."""
