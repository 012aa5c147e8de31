"""The registry of country formats, in default priority order: Serbia and its neighbours first, then
the rest of Europe, Brazil, and the generic US and European layouts last.

Owns `FORMATS`; a new country adds its module and one line here. A deployment that names its
expected countries (`PlateSettings.countries`) sets its own priority; this order applies when it
names none.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from safecity.analytics.plates.formats.austria import AUSTRIA
from safecity.analytics.plates.formats.base import PlateFormat
from safecity.analytics.plates.formats.bosnia import BOSNIA
from safecity.analytics.plates.formats.brazil import BRAZIL
from safecity.analytics.plates.formats.britain import UNITED_KINGDOM
from safecity.analytics.plates.formats.bulgaria import BULGARIA
from safecity.analytics.plates.formats.croatia import CROATIA
from safecity.analytics.plates.formats.czechia import CZECHIA
from safecity.analytics.plates.formats.europe import EUROPE_GENERIC
from safecity.analytics.plates.formats.germany import GERMANY
from safecity.analytics.plates.formats.hungary import HUNGARY
from safecity.analytics.plates.formats.italy import ITALY
from safecity.analytics.plates.formats.macedonia import NORTH_MACEDONIA
from safecity.analytics.plates.formats.montenegro import MONTENEGRO
from safecity.analytics.plates.formats.poland import POLAND
from safecity.analytics.plates.formats.romania import ROMANIA
from safecity.analytics.plates.formats.serbia import SERBIA
from safecity.analytics.plates.formats.slovakia import SLOVAKIA
from safecity.analytics.plates.formats.united_states import UNITED_STATES

_IN_PRIORITY_ORDER: tuple[PlateFormat, ...] = (
    SERBIA,
    CROATIA,
    BOSNIA,
    MONTENEGRO,
    NORTH_MACEDONIA,
    HUNGARY,
    ROMANIA,
    BULGARIA,
    SLOVAKIA,
    CZECHIA,
    POLAND,
    AUSTRIA,
    GERMANY,
    ITALY,
    UNITED_KINGDOM,
    BRAZIL,
    UNITED_STATES,
    EUROPE_GENERIC,
)

FORMATS: Mapping[str, PlateFormat] = MappingProxyType({f.country: f for f in _IN_PRIORITY_ORDER})
"""Every known plate format by country code, in default priority order (iteration order)."""
