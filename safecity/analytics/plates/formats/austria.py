"""Austria: the district table and the plate layouts (W 12345 A; chosen plates letters first).

Owns `AUSTRIA`.

Sources: Wikipedia, "Vehicle registration plates of Austria" (en): district code of one or two
letters, the provincial arms, then a sequence of three to six characters, digits then letters
(W 12345 A, XX 123 AB, FK 1 ABC), or for chosen plates letters then digits (I TOMMY 1); Q is never
used. District codes after zurich-connect.at, "Kennzeichen Österreich: Liste aller Abkürzungen"
(2023) and kennzeichen-guide.de (Österreich).
"""

from __future__ import annotations

from types import MappingProxyType

from safecity.analytics.plates.formats.base import DIGITS, LATIN, Group, Layout, PlateFormat

_AUSTRIAN_DISTRICT_CODES: dict[str, str] = {
    # State capitals and statutory cities.
    "W": "Wien", "L": "Linz", "G": "Graz", "S": "Salzburg", "I": "Innsbruck", "K": "Klagenfurt",
    "E": "Eisenstadt", "P": "Sankt Pölten", "B": "Bregenz", "KS": "Krems an der Donau",
    "WN": "Wiener Neustadt", "WY": "Waidhofen an der Ybbs", "SR": "Steyr", "WE": "Wels",
    "VI": "Villach", "RU": "Rust",
    # Burgenland.
    "EU": "Eisenstadt-Umgebung", "GS": "Güssing", "JE": "Jennersdorf", "MA": "Mattersburg",
    "ND": "Neusiedl am See", "OP": "Oberpullendorf", "OW": "Oberwart",
    # Carinthia.
    "FE": "Feldkirchen", "HE": "Hermagor", "KL": "Klagenfurt-Land", "SP": "Spittal an der Drau",
    "SV": "Sankt Veit an der Glan", "VK": "Völkermarkt", "VL": "Villach-Land", "WO": "Wolfsberg",
    # Lower Austria.
    "AM": "Amstetten", "BL": "Bruck an der Leitha", "BN": "Baden", "GD": "Gmünd", "GF": "Gänserndorf",
    "HL": "Hollabrunn", "HO": "Horn", "KG": "Klosterneuburg", "KO": "Korneuburg", "KR": "Krems-Land",
    "LF": "Lilienfeld", "MD": "Mödling", "ME": "Melk", "MI": "Mistelbach", "NK": "Neunkirchen",
    "PL": "Sankt Pölten-Land", "SB": "Scheibbs", "SW": "Schwechat", "TU": "Tulln",
    "WB": "Wiener Neustadt-Land", "WT": "Waidhofen an der Thaya", "ZT": "Zwettl",
    # Upper Austria.
    "BR": "Braunau am Inn", "EF": "Eferding", "FR": "Freistadt", "GM": "Gmunden", "GR": "Grieskirchen",
    "KI": "Kirchdorf an der Krems", "LL": "Linz-Land", "PE": "Perg", "RI": "Ried im Innkreis",
    "RO": "Rohrbach", "SD": "Schärding", "SE": "Steyr-Land", "UU": "Urfahr-Umgebung",
    "VB": "Vöcklabruck", "WL": "Wels-Land",
    # Salzburg.
    "HA": "Hallein", "JO": "Sankt Johann im Pongau", "SL": "Salzburg-Umgebung", "TA": "Tamsweg",
    "ZE": "Zell am See",
    # Styria.
    "BM": "Bruck-Mürzzuschlag", "DL": "Deutschlandsberg", "GB": "Gröbming", "GU": "Graz-Umgebung",
    "HF": "Hartberg-Fürstenfeld", "LB": "Leibnitz", "LE": "Leoben", "LI": "Liezen", "LN": "Leoben-Land",
    "MT": "Murtal", "MU": "Murau", "SO": "Südoststeiermark", "VO": "Voitsberg", "WZ": "Weiz",
    # Tyrol.
    "IL": "Innsbruck-Land", "IM": "Imst", "KB": "Kitzbühel", "KU": "Kufstein", "LA": "Landeck",
    "LZ": "Lienz", "RE": "Reutte", "SZ": "Schwaz",
    # Vorarlberg.
    "BZ": "Bludenz", "DO": "Dornbirn", "FK": "Feldkirch",
}  # fmt: skip

AUSTRIAN_LETTERS: frozenset[str] = LATIN - {"Q"}
"""Letters of the sequence after the arms: Q is never used."""

_DISTRICT = Group("district", LATIN, 1, 2, codes=frozenset(_AUSTRIAN_DISTRICT_CODES))

AUSTRIA = PlateFormat(
    country="AT",
    name="Austria",
    layouts=(
        Layout(
            "standard",
            (
                _DISTRICT,
                Group("digits", DIGITS, 1, 5, first=DIGITS - {"0"}),
                Group("letters", AUSTRIAN_LETTERS, 1, 3),
            ),
            joiners=(" ", " "),
            max_chars=8,
            emblem_after=0,
        ),
        Layout(
            "chosen",
            (_DISTRICT, Group("letters", AUSTRIAN_LETTERS, 1, 5), Group("digits", DIGITS, 1, 3)),
            joiners=(" ", " "),
            max_chars=8,
            tier=1,
            confidence=0.9,
            emblem_after=0,
        ),
    ),
    city_codes=MappingProxyType(_AUSTRIAN_DISTRICT_CODES),
    letters=AUSTRIAN_LETTERS,
    description=(
        "Austrian plate: district code of one or two letters, the provincial arms, then digits and "
        "letters (printed 'W 12345 A', 'GU 123 AB'); chosen plates put letters first ('I TOMMY 1'); "
        "blue band with 'A', red-white-red edges."
    ),
)
