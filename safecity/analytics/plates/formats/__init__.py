"""Licence-plate formats per country: one table per country, validation, correction and the printed form.

`interpret(raw, countries=...)` turns an OCR reading into a `PlateInterpretation` (printed form with
national letters, folded search key, country, validity, corrections, confidence factor) under a
policy that never makes a reading worse: as read when an expected format accepts it, corrected only
when exactly one correction fits, else kept as read. `candidates(raw)` lists every reading the
expected formats accept. Each country module owns one `PlateFormat`; `base` owns the machinery
they share.
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
    fold,
    normalise_plate,
)
from safecity.analytics.plates.formats.interpret import (
    BAND_TEXT,
    PlateInterpretation,
    candidates,
    check_countries,
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
    "check_countries",
    "clean_reading",
    "fold",
    "interpret",
    "normalise_plate",
]
