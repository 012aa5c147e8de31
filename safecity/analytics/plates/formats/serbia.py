"""Serbia: the registration-area table and every plate series in use since 2011, checked first.

Owns `SERBIA`, `SERBIAN_LETTERS` and `SERBIAN_ASCII_LETTERS` (the letters the synthetic city prints).

Sources: Wikipedia, "Vehicle registration plates of Serbia" (en; standard, motorcycle and moped,
trailer, taxi and diplomatic series) and "Kfz-Kennzeichen (Serbien)" (de; police: Cyrillic П and
six digits in two groups of three; armed forces: a letter, a hyphen and a number; temporary plates
begin with RP or RPE, also autokennzeichen.de/serbien); chosen registrations (three to five
characters after the shield counting the hyphen between digits and letters, at least two letters
when digits are used) per autoosiguranje.info, "Registarske tablice po izboru"; taxis print TX as
the two letters (nadlanu.com, Beta 2010).

Described but not modelled: agricultural plates (green, two rows, letters and digits in an order
the sources disagree on; a layout one look-alike away from the standard one would make standard
readings ambiguous) and oversize-vehicle plates (red, the standard layout). A "VS"/"ВС" army series
is not confirmed by these sources (and VS is the Vrbas area code).
"""

from __future__ import annotations

from types import MappingProxyType

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

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

_CITY = Group("city", SERBIAN_LETTERS, 2, 2, codes=frozenset(_SERBIAN_CITY_CODES))

SERBIA = PlateFormat(
    country="RS",
    name="Serbia",
    layouts=(
        # Cars, and taxis (letters TX; up to five digits): area, shield, digits, hyphen, two letters.
        Layout(
            "standard",
            (_CITY, Group("digits", DIGITS, 3, 5), Group("letters", SERBIAN_LETTERS, 2, 2)),
            joiners=(" ", "-"),
            emblem_after=0,
        ),
        # Trailers: the car layout reversed, the area code at the right edge.
        Layout(
            "trailer",
            (Group("letters", SERBIAN_LETTERS, 2, 2), Group("digits", DIGITS, 3, 5), _CITY),
            joiners=(" ", " "),
            emblem_after=0,
        ),
        # Motorcycles and mopeds: area and shield on the upper row, two and three digits on the lower
        # one; the cleaned reading joins the rows.
        Layout(
            "motorcycle",
            (_CITY, Group("digits", DIGITS, 2, 2), Group("number", DIGITS, 3, 3)),
            joiners=(" ", "-"),
            emblem_after=0,
        ),
        # Police: white on blue, Cyrillic П (read and stored as P), six digits in two groups of three.
        Layout(
            "police",
            (
                Group("police", frozenset("P"), 1, 1),
                Group("digits", DIGITS, 3, 3),
                Group("number", DIGITS, 3, 3),
            ),
            joiners=(" ", "-"),
        ),
        # Diplomatic and foreign-office plates: country or organisation number, status letter
        # (A diplomat, M mission staff, P press or culture, E economy), three-digit serial.
        Layout(
            "diplomatic",
            (
                Group("country", DIGITS, 2, 3),
                Group("status", frozenset("AMPE"), 1, 1),
                Group("serial", DIGITS, 3, 3),
            ),
            joiners=("-", "-"),
        ),
        # Armed forces: a letter, a hyphen and a number (the letters and the number's length are not
        # documented, so the layout is permissive and never corrected into).
        Layout(
            "army",
            (Group("letter", LATIN, 1, 1), Group("number", DIGITS, 3, 5)),
            joiners=("-",),
            tier=1,
            confidence=0.9,
        ),
        # Temporary plates: RP or RPE and a number (its length is not documented).
        Layout(
            "temporary",
            (Group("temporary", LATIN, 2, 3, codes=frozenset({"RP", "RPE"})), Group("number", DIGITS, 3, 6)),
            joiners=(" ",),
            tier=1,
            confidence=0.9,
        ),
        # Chosen registrations: the area code and three to five characters of the owner's choice,
        # the hyphen between digits and letters counting as one, so letters and digits mixed are
        # three or four visible characters (at least two letters). Letters alone are not modelled:
        # an area code and a word cannot be told apart ("TO YOTA"); such a plate is still stored as
        # read, only not marked valid. Three or four characters also keep this permissive layout
        # shorter than every regular series, so it never takes a misread regular plate as read.
        Layout(
            "chosen",
            (_CITY, Group("chosen", SERBIAN_LETTERS | DIGITS, 3, 4)),
            joiners=(" ",),
            min_letters=4,  # the area code's two and at least two chosen
            min_digits=1,
            tier=1,
            confidence=0.9,
            emblem_after=0,
        ),
    ),
    city_codes=MappingProxyType(_SERBIAN_CITY_CODES),
    letters=SERBIAN_LETTERS,
    description=(
        "Serbian plate since 2011: registration-area code, the cross shield with the code in Cyrillic "
        "below it, three to five digits (three or four on issued series, five on taxis), hyphen, two "
        "letters (printed 'BG 123-AB'; taxis end in TX); black on white, blue band with 'SRB' on the "
        "left, 520 x 110 mm. Trailers put the area code last ('AB 123 BG'), motorcycles and mopeds "
        "print two and three digits under the area code ('BG 12-345'), police 'P 123-456', "
        "diplomatic '12-A-345', armed forces 'A-1234', temporary 'RP 1234', chosen 'BG 12-AB'."
    ),
)
