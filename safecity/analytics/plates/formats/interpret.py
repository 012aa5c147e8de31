"""Choosing what an OCR reading is: every country format that accepts it, and the best of them.

Owns `PlateInterpretation`, `interpret` and `candidates`: cleaning a raw reading (case, stray
separators and punctuation, Cyrillic look-alikes), stripping country-band text glued onto it when
that is what makes it fit, position-aware correction (through the formats) and the ranking.
A reading that fits nothing is kept, cleaned, with a lower confidence factor; never dropped.

The ranking is the confidence factor: each look-alike correction and each stripped band text costs
a factor 0.9, an emblem read as a character and each separator inside a group 0.8 (see
`PlateMatch.factor`); permissive layouts (vanity, dateless) start at 0.9 and the generic US layout at
0.7, so a regular plate needing two corrections still beats the generic layout and a vanity layout
read exactly ties with a regular one needing one correction. Ties go to fewer strips (then the
longer band text), the regular layout, fewer corrections, then country priority (the order of
`FORMATS`: RS first, US last).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from safecity.analytics.plates.formats.base import PlateMatch
from safecity.analytics.plates.formats.registry import FORMATS

STRIP_FACTOR = 0.9
"""Confidence factor per side (front, back) of the reading that band text was stripped from."""
DEFAULT_MAX_CORRECTIONS = 2
"""Corrections allowed by default: more than two look-alikes on one plate is more likely other text."""

BAND_TEXT: frozenset[str] = frozenset(
    {
        # International vehicle registration codes printed in the blue EU band (or on an oval
        # sticker) of the countries around the formats here, plus the band text OCR also returns.
        *("SRB", "HR", "SK", "CZ", "PL", "D", "GB", "UK", "I", "EU", "A", "F", "B", "E", "H", "L"),
        *("NL", "SLO", "BIH", "MNE", "MK", "NMK", "RKS", "RO", "BG", "GR", "AL", "CH", "FL", "P"),
        *("DK", "S", "N", "FIN", "EST", "LV", "LT", "IRL", "M", "CY", "UA", "BY", "MD", "TR", "RUS"),
        *("USA", "BR"),
    }
)
"""Country-band text that may be glued to the front or back of a reading, one token per side or "EU"
with one ("EU" + "SRB"); stripped only when the rest then fits a format better than the reading itself."""

# Cyrillic capitals that look like Latin ones (the Serbian plate prints the area code in Cyrillic
# too, and OCR models trained on several scripts may answer in either).
_HOMOGLYPHS = str.maketrans(
    {"А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C"}
    | {"Т": "T", "Х": "X", "У": "Y", "Ј": "J", "Ѕ": "S", "І": "I", "Ð": "Đ"}
)


@dataclass(frozen=True, slots=True)
class PlateInterpretation:
    """What a plate reading most likely is, after format validation and positional correction."""

    text: str
    """Printed form ("BG 123-AB", "ZG 1234-AB", "B AB 1234"); the cleaned reading when no format matched."""
    normalised: str
    """Upper case A-Z, 0-9 and the national letters the country uses, no separators: the search key."""
    country: str
    """ISO 3166-1 alpha-2 code of the matching format ("RS", "HR", ...), "" when none matched."""
    valid: bool
    """Whether the reading matched a known format (after positional correction)."""
    corrections: int
    """Characters changed (or an emblem character dropped) by positional correction."""
    confidence_factor: float
    """Multiply the OCR confidence by this: 1.0 for a valid reading without corrections, lower per
    correction, per stripped band text and for permissive layouts; `unknown_factor` when no format matched."""


def clean_reading(raw: str) -> tuple[str, frozenset[int]]:
    """The reading in upper case without separators or punctuation, and the positions (in the
    cleaned text) where separators stood: " bg 123-ab." -> ("BG123AB", {2, 5})."""
    text = unicodedata.normalize("NFC", raw).upper().translate(_HOMOGLYPHS)
    out: list[str] = []
    separators: set[int] = set()
    for ch in text:
        if (ch.isascii() and ch.isalnum()) or (not ch.isascii() and ch.isalpha()):
            out.append(ch)
        elif out:
            separators.add(len(out))
    return "".join(out), frozenset(p for p in separators if p < len(out))


def _check_countries(countries: Sequence[str] | None) -> tuple[str, ...]:
    if countries is None:
        return tuple(FORMATS)
    if isinstance(countries, str):
        raise ValueError(f"countries must be a sequence of country codes, not the string {countries!r}")
    codes = tuple(code.upper() for code in countries)
    if not codes:
        raise ValueError("countries must name at least one country (or be None for all)")
    unknown = [code for code in codes if code not in FORMATS]
    if unknown:
        raise ValueError(f"unknown country code(s) {unknown}; known: {', '.join(FORMATS)}")
    return tuple(code for code in FORMATS if code in codes)  # priority order, not the caller's


def _check_max_corrections(max_corrections: int) -> None:
    if max_corrections < 0:
        raise ValueError(f"max_corrections must be >= 0, got {max_corrections}")


def _band_lengths(cleaned: str, *, at_end: bool) -> set[int]:
    """Lengths of band text at the start or end of `cleaned`: one token, or "EU" and one token."""

    def has(text: str, token: str) -> bool:
        return text.endswith(token) if at_end else text.startswith(token)

    found = {0}
    for first in BAND_TEXT:
        if has(cleaned, first):
            found.add(len(first))
            rest = cleaned[: -len(first)] if at_end else cleaned[len(first) :]
            found.update(
                len(first) + len(second)
                for second in BAND_TEXT
                if "EU" in (first, second) and first != second and has(rest, second)
            )
    return found


def _variants(cleaned: str, separators: frozenset[int]) -> list[tuple[str, frozenset[int], int, int]]:
    """The reading itself and the reading with band text stripped from the front, back or both:
    (text, separators in it, sides stripped, characters stripped)."""
    out: list[tuple[str, frozenset[int], int, int]] = []
    for head in sorted(_band_lengths(cleaned, at_end=False)):
        for tail in sorted(_band_lengths(cleaned, at_end=True)):
            end = len(cleaned) - tail
            if end - head < 2:
                continue
            seps = frozenset(p - head for p in separators if head < p < end)
            out.append((cleaned[head:end], seps, (head > 0) + (tail > 0), head + tail))
    return out


def _factor(m: PlateMatch, strips: int) -> float:
    return float(m.factor * STRIP_FACTOR**strips)


@functools.lru_cache(maxsize=4096)
def _ranked(
    cleaned: str, separators: frozenset[int], countries: tuple[str, ...], max_corrections: int
) -> tuple[PlateInterpretation, ...]:
    priority = {code: i for i, code in enumerate(FORMATS)}
    scored: list[tuple[tuple[float, int, int, int, int, int, int], PlateInterpretation]] = []
    for text, seps, strips, stripped in _variants(cleaned, separators):
        for code in countries:
            for rank, m in enumerate(
                FORMATS[code].read(text, max_corrections=max_corrections, separators=seps)
            ):
                interp = PlateInterpretation(
                    text=m.printed,
                    normalised=m.normalised,
                    country=code,
                    valid=True,
                    corrections=m.corrections,
                    confidence_factor=_factor(m, strips),
                )
                factor = -round(interp.confidence_factor, 9)
                key = (factor, strips, -stripped, m.layout.tier, m.corrections, priority[code], rank)
                scored.append((key, interp))
    scored.sort(key=lambda item: item[0])
    seen: set[tuple[str, str]] = set()
    out: list[PlateInterpretation] = []
    for _, interp in scored:
        if (interp.country, interp.normalised) not in seen:
            seen.add((interp.country, interp.normalised))
            out.append(interp)
    return tuple(out)


def candidates(
    raw: str, *, countries: Sequence[str] | None = None, max_corrections: int = DEFAULT_MAX_CORRECTIONS
) -> list[PlateInterpretation]:
    """Every format reading of `raw` (one per country and corrected text), best first; [] when none fits.

    Best first means the highest confidence factor (see the module docstring), then fewer strips,
    regular layouts, fewer corrections, country priority (the order of `FORMATS`: RS first, US last).
    `countries` limits the formats tried (ISO codes); None tries all.
    """
    codes = _check_countries(countries)
    _check_max_corrections(max_corrections)
    cleaned, separators = clean_reading(raw)
    return list(_ranked(cleaned, separators, codes, max_corrections))


def interpret(
    raw: str,
    *,
    unknown_factor: float = 0.6,
    countries: Sequence[str] | None = None,
    max_corrections: int = DEFAULT_MAX_CORRECTIONS,
) -> PlateInterpretation:
    """The best interpretation of an OCR reading; the cleaned reading (valid=False, country "",
    confidence factor `unknown_factor`) when no format accepts it. See `candidates` for the order."""
    if not 0.0 <= unknown_factor <= 1.0:
        raise ValueError(f"unknown_factor must be in [0, 1], got {unknown_factor}")
    found = candidates(raw, countries=countries, max_corrections=max_corrections)
    if found:
        return found[0]
    cleaned, _ = clean_reading(raw)
    return PlateInterpretation(
        text=cleaned,
        normalised=cleaned,
        country="",
        valid=False,
        corrections=0,
        confidence_factor=unknown_factor,
    )
