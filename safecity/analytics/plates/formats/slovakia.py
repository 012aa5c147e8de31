"""Slovakia: the district table and the plate layouts (BA 123AB, and district + five chosen characters).

Owns `SLOVAKIA`.
"""

from __future__ import annotations

from types import MappingProxyType

from safecity.analytics.plates.formats.base import ALNUM, DIGITS, LATIN, Group, Layout, PlateFormat

# District codes (okresy) of the plates issued 1997-2022, with the extra codes of the large cities.
_SLOVAK_DISTRICT_CODES: dict[str, str] = {
    "BA": "Bratislava",
    "BL": "Bratislava",
    "BT": "Bratislava",
    "BB": "Banská Bystrica",
    "BJ": "Bardejov",
    "BN": "Bánovce nad Bebravou",
    "BR": "Brezno",
    "BS": "Banská Štiavnica",
    "BY": "Bytča",
    "CA": "Čadca",
    "DK": "Dolný Kubín",
    "DS": "Dunajská Streda",
    "DT": "Detva",
    "GA": "Galanta",
    "GL": "Gelnica",
    "HC": "Hlohovec",
    "HE": "Humenné",
    "IL": "Ilava",
    "KA": "Krupina",
    "KE": "Košice",
    "KC": "Košice",
    "KI": "Košice",
    "KK": "Kežmarok",
    "KM": "Kysucké Nové Mesto",
    "KN": "Komárno",
    "KS": "Košice-okolie",
    "LC": "Lučenec",
    "LE": "Levoča",
    "LM": "Liptovský Mikuláš",
    "LV": "Levice",
    "MA": "Malacky",
    "MI": "Michalovce",
    "ML": "Medzilaborce",
    "MT": "Martin",
    "NM": "Nové Mesto nad Váhom",
    "NO": "Námestovo",
    "NR": "Nitra",
    "NZ": "Nové Zámky",
    "PB": "Považská Bystrica",
    "PD": "Prievidza",
    "PE": "Partizánske",
    "PK": "Pezinok",
    "PN": "Piešťany",
    "PO": "Prešov",
    "PP": "Poprad",
    "PT": "Poltár",
    "PU": "Púchov",
    "RA": "Revúca",
    "RK": "Ružomberok",
    "RS": "Rimavská Sobota",
    "RV": "Rožňava",
    "SA": "Šaľa",
    "SB": "Sabinov",
    "SC": "Senec",
    "SE": "Senica",
    "SI": "Skalica",
    "SK": "Svidník",
    "SL": "Stará Ľubovňa",
    "SN": "Spišská Nová Ves",
    "SO": "Sobrance",
    "SP": "Stropkov",
    "SV": "Snina",
    "TN": "Trenčín",
    "TO": "Topoľčany",
    "TR": "Turčianske Teplice",
    "TS": "Tvrdošín",
    "TT": "Trnava",
    "TV": "Trebišov",
    "VK": "Veľký Krtíš",
    "VT": "Vranov nad Topľou",
    "ZA": "Žilina",
    "ZC": "Žarnovica",
    "ZH": "Žiar nad Hronom",
    "ZM": "Zlaté Moravce",
    "ZV": "Zvolen",
}

SLOVAKIA = PlateFormat(
    country="SK",
    name="Slovakia",
    layouts=(
        # The regular series. The two leading letters are not checked against the district table:
        # plates issued since 2022 are no longer bound to the district, and an unknown pair of
        # letters in this exact layout is still far more likely a plate than anything else.
        Layout(
            "standard",
            (Group("district", LATIN, 2, 2), Group("digits", DIGITS, 3, 3), Group("letters", LATIN, 2, 2)),
            joiners=(" ", ""),
            emblem_after=0,
        ),
        # Chosen registrations ("KM BORAK"): a real district code and five characters of the owner's choice.
        Layout(
            "chosen",
            (
                Group("district", LATIN, 2, 2, codes=frozenset(_SLOVAK_DISTRICT_CODES)),
                Group("chosen", ALNUM, 5, 5),
            ),
            joiners=(" ",),
            min_letters=3,
            tier=1,
            confidence=0.9,
        ),
    ),
    city_codes=MappingProxyType(_SLOVAK_DISTRICT_CODES),
    description=(
        "Slovak plate: two-letter district code, coat of arms, three digits and two letters "
        "(printed 'BA 123AB'; some print a hyphen: 'BA-123AB'); chosen registrations keep the "
        "district and put five characters of the owner's choice after it ('KM BORAK')."
    ),
)
