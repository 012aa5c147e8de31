"""Licence-plate formats per country: one table per country, validation, correction and the printed form.

`interpret(raw)` turns an OCR reading into a `PlateInterpretation` (printed form, search key,
country, validity, corrections, confidence factor); `candidates(raw)` lists every format that
accepts it. Each country module owns one `PlateFormat`; `base` owns the machinery they share.
"""

from __future__ import annotations

from safecity.analytics.plates.formats.base import (
    ALNUM,
    DIGITS,
    LATIN,
    POSITIONAL_PAIRS,
    Group,
    Layout,
    PlateFormat,
    PlateMatch,
    normalise_plate,
)
from safecity.analytics.plates.formats.interpret import (
    BAND_TEXT,
    PlateInterpretation,
    candidates,
    clean_reading,
    interpret,
)
from safecity.analytics.plates.formats.registry import FORMATS
from safecity.analytics.plates.formats.serbia import SERBIA, SERBIAN_ASCII_LETTERS, SERBIAN_LETTERS

__all__ = [
    "ALNUM",
    "BAND_TEXT",
    "DIGITS",
    "FORMATS",
    "LATIN",
    "POSITIONAL_PAIRS",
    "SERBIA",
    "SERBIAN_ASCII_LETTERS",
    "SERBIAN_LETTERS",
    "Group",
    "Layout",
    "PlateFormat",
    "PlateInterpretation",
    "PlateMatch",
    "candidates",
    "clean_reading",
    "interpret",
    "normalise_plate",
]
