"""The registry of country formats, in priority order: Serbia first, the generic US layout last.

Owns `FORMATS`; a new country adds its module and one line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from safecity.analytics.plates.formats.base import PlateFormat
from safecity.analytics.plates.formats.brazil import BRAZIL
from safecity.analytics.plates.formats.britain import UNITED_KINGDOM
from safecity.analytics.plates.formats.croatia import CROATIA
from safecity.analytics.plates.formats.czechia import CZECHIA
from safecity.analytics.plates.formats.germany import GERMANY
from safecity.analytics.plates.formats.poland import POLAND
from safecity.analytics.plates.formats.serbia import SERBIA
from safecity.analytics.plates.formats.slovakia import SLOVAKIA
from safecity.analytics.plates.formats.united_states import UNITED_STATES

FORMATS: Mapping[str, PlateFormat] = MappingProxyType(
    {
        f.country: f
        for f in (SERBIA, CROATIA, SLOVAKIA, CZECHIA, POLAND, GERMANY, UNITED_KINGDOM, BRAZIL, UNITED_STATES)
    }
)
"""Every known plate format by country code, in priority order (iteration order is the priority)."""
