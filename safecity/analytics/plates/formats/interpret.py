"""Choosing what an OCR reading is, under a policy that never makes a reading worse.

Owns `PlateInterpretation`, `interpret`, `candidates` and `clean_reading`: cleaning a raw reading
(case, stray separators and punctuation, Cyrillic look-alikes), then deciding, for the countries a
deployment expects, whether the reading is a plate as read, a plate after a correction, or neither.

The policy (`interpret`), in order:
1. **As read.** If the cleaned reading fits a layout of an expected format with no correction at all
   (character-identical: no look-alike changed, no diacritic added or removed, no emblem dropped, no
   band text stripped), it is kept exactly: valid, the country of the first expected format in
   priority order that fits it (regular and permissive layouts before the generic catch-alls).
2. **Corrected, only when unambiguous.** Otherwise corrections (look-alikes by position, a dropped
   emblem character, country-band text stripped from the front or back) are tried in the regular
   (tier 0) layouts of the expected formats, each change (and each side stripped) counting as one
   correction. Of the corrected readings with a confidence factor of at least
   `min_correction_factor`, those with the highest factor are compared: the correction is applied
   only when they all give one search key. Two expected formats (or two layouts of one) giving
   different keys with equal factors are ambiguous: nothing is corrected. (A reading that fits after
   one look-alike change always also "fits" after two, a valid character swapped for a look-alike
   elsewhere, and an emblem read as a character (0.8) is less likely than a look-alike (0.9); only
   the best-supported readings are evidence.) A reading made only of letters (a word: TOYOTA, TAXI)
   or only of digits is never corrected: every digit (or letter) of the result would be made up.
3. **Unknown.** Otherwise the cleaned reading is kept as read: valid=False, country "", no
   corrections, confidence factor `unknown_factor`.

The confidence factor of a match: each look-alike (or diacritic) change and each stripped side of
band text costs 0.9, an emblem read as a character and each separator inside a group 0.8 (see
`PlateMatch.factor`); permissive layouts (vanity, chosen) start at 0.9, the generic US layout at 0.7
and the generic European one at 0.65. With the default threshold 0.8 at most two changes are made.

Without expected countries (the default) every known format is expected, in the order of `FORMATS`,
generic layouts included: then nearly every reading of three to eight letters and digits fits some
layout as read, and only readings that fit nothing as read (band text glued on, an emblem read as
a ninth character) are corrected. A deployment that names its countries gets the corrections of
those countries' regular series.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from safecity.analytics.plates.formats.base import PlateMatch, fold
from safecity.analytics.plates.formats.registry import FORMATS

STRIP_FACTOR = 0.9
"""Confidence factor per side (front, back) of the reading that band text was stripped from."""
DEFAULT_MAX_CORRECTIONS = 2
"""Corrections allowed by default: more than two changes on one plate is more likely other text."""
DEFAULT_MIN_CORRECTION_FACTOR = 0.8
"""Least confidence factor a corrected reading needs before the correction is applied (two
look-alike changes give 0.81; `PlateSettings.min_correction_factor` is where a deployment sets it)."""
DEFAULT_UNKNOWN_FACTOR = 0.6
"""Confidence factor of a reading that fits no expected format."""
_GENERIC_TIER = 2

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
with one ("EU" + "SRB"); stripping it is a correction like any other (see the module docstring)."""

# Cyrillic capitals that look like Latin ones (the Serbian plate prints the area code in Cyrillic
# too, and OCR models trained on several scripts may answer in either), and П, the Cyrillic letter
# of Serbian police plates, transliterated.
_HOMOGLYPHS = str.maketrans(
    {"А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C"}
    | {"Т": "T", "Х": "X", "У": "Y", "Ј": "J", "Ѕ": "S", "І": "I", "Ð": "Đ", "П": "P"}
)


@dataclass(frozen=True, slots=True)
class PlateInterpretation:
    """What a plate reading most likely is, after format validation and (unambiguous) correction."""

    text: str
    """Printed form with the national letters kept ("BG 123-AB", "ŠA 123-AB", "ZG 1234-AB"); the
    cleaned reading when no expected format accepts it."""
    normalised: str
    """The search key: upper case, no separators, diacritics folded to ASCII ("ŠA 123-AB" -> "SA123AB")."""
    country: str
    """ISO 3166-1 alpha-2 code of the matching format ("RS", "HR", ...; "EU" for the generic European
    layout), "" when none matched."""
    valid: bool
    """Whether the reading (as read, or after an unambiguous correction) fits an expected format."""
    corrections: int
    """Edits made to the cleaned reading: characters changed (look-alikes, diacritics), an emblem
    character dropped, sides that band text was stripped from. 0 means the characters are as read."""
    confidence_factor: float
    """Multiply the OCR confidence by this: 1.0 for a regular layout read exactly, lower per
    correction and for permissive and generic layouts; `unknown_factor` when no format matched."""


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
    """The expected countries in the caller's order (their priority), duplicates dropped; every
    known format, in `FORMATS` order, when none are given."""
    return check_countries(countries) or tuple(FORMATS)


def check_countries(countries: Sequence[str] | None) -> tuple[str, ...]:
    """Country codes upper-cased in the caller's order, duplicates dropped (empty stays empty);
    ValueError for a plain string, a code that is not text, or a country with no known format."""
    if isinstance(countries, str):
        raise ValueError(f"countries must be a sequence of country codes, not the string {countries!r}")
    codes: list[str] = []
    for code in countries or ():
        if not isinstance(code, str):
            raise ValueError(f"a country code must be a string, got {code!r}")
        upper = code.strip().upper()
        if upper not in codes:
            codes.append(upper)
    unknown = [code for code in codes if code not in FORMATS]
    if unknown:
        raise ValueError(f"unknown country code(s) {unknown}; known: {', '.join(FORMATS)}")
    return tuple(codes)


def _check_numbers(max_corrections: int, min_correction_factor: float, unknown_factor: float) -> None:
    if max_corrections < 0:
        raise ValueError(f"max_corrections must be >= 0, got {max_corrections}")
    if not 0.0 <= min_correction_factor <= 1.0:
        raise ValueError(f"min_correction_factor must be in [0, 1], got {min_correction_factor}")
    if not 0.0 <= unknown_factor <= 1.0:
        raise ValueError(f"unknown_factor must be in [0, 1], got {unknown_factor}")


def _band_lengths(cleaned: str, *, at_end: bool) -> set[int]:
    """Lengths of band text at the start or end of `cleaned`: one token, or "EU" and one token."""

    def has(text: str, token: str) -> bool:
        return text.endswith(token) if at_end else text.startswith(token)

    found: set[int] = set()
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


def _variants(cleaned: str, separators: frozenset[int]) -> list[tuple[str, frozenset[int], int]]:
    """The reading itself and the reading with band text stripped from the front, back or both:
    (text, separators in it, sides stripped)."""
    out: list[tuple[str, frozenset[int], int]] = []
    for head in sorted({0} | _band_lengths(cleaned, at_end=False)):
        for tail in sorted({0} | _band_lengths(cleaned, at_end=True)):
            end = len(cleaned) - tail
            if end - head < 2:
                continue
            seps = frozenset(p - head for p in separators if head < p < end)
            out.append((cleaned[head:end], seps, (head > 0) + (tail > 0)))
    return out


def _interpretation(m: PlateMatch, strips: int) -> PlateInterpretation:
    return PlateInterpretation(
        text=m.printed,
        normalised=m.normalised,
        country=m.format.country,
        valid=True,
        corrections=m.corrections + strips,
        confidence_factor=float(m.factor * STRIP_FACTOR**strips),
    )


def _exact(cleaned: str, separators: frozenset[int], codes: tuple[str, ...]) -> list[PlateInterpretation]:
    """Every format that accepts the reading as read, best first: regular and permissive layouts
    before generic ones, then the expected countries' order, then the format's own ranking."""
    ranked: list[tuple[tuple[bool, int, int], PlateInterpretation]] = []
    for priority, code in enumerate(codes):
        for rank, m in enumerate(FORMATS[code].read(cleaned, separators=separators)):
            if m.corrections == 0:
                ranked.append(((m.layout.tier >= _GENERIC_TIER, priority, rank), _interpretation(m, 0)))
    ranked.sort(key=lambda item: item[0])
    return _unique([interp for _, interp in ranked])


def _corrected(
    cleaned: str, separators: frozenset[int], codes: tuple[str, ...], max_corrections: int
) -> list[PlateInterpretation]:
    """Every corrected reading in a regular layout of an expected format within `max_corrections`
    (stripped sides included), best first: higher confidence factor, fewer corrections, the
    expected countries' order."""
    ranked: list[tuple[tuple[float, int, int, int], PlateInterpretation]] = []
    for text, seps, strips in _variants(cleaned, separators):
        if strips > max_corrections or not _has_letters_and_digits(text):
            continue
        for priority, code in enumerate(codes):
            found = FORMATS[code].read(text, max_corrections=max_corrections - strips, separators=seps)
            for rank, m in enumerate(found):
                if m.layout.tier != 0 or m.corrections + strips == 0:
                    continue
                interp = _interpretation(m, strips)
                ranked.append(
                    ((-round(interp.confidence_factor, 9), interp.corrections, priority, rank), interp)
                )
    ranked.sort(key=lambda item: item[0])
    return _unique([interp for _, interp in ranked])


def _has_letters_and_digits(text: str) -> bool:
    return any(ch.isdigit() for ch in text) and any(ch.isalpha() for ch in text)


def _unique(found: list[PlateInterpretation]) -> list[PlateInterpretation]:
    """`found` with one interpretation per country and search key (the first, i.e. the best)."""
    seen: set[tuple[str, str]] = set()
    out: list[PlateInterpretation] = []
    for interp in found:
        if (interp.country, interp.normalised) not in seen:
            seen.add((interp.country, interp.normalised))
            out.append(interp)
    return out


@functools.lru_cache(maxsize=4096)
def _candidates(
    cleaned: str, separators: frozenset[int], codes: tuple[str, ...], max_corrections: int
) -> tuple[PlateInterpretation, ...]:
    exact = _exact(cleaned, separators, codes)
    return tuple(exact + _corrected(cleaned, separators, codes, max_corrections))


@functools.lru_cache(maxsize=4096)
def _interpret(
    cleaned: str,
    separators: frozenset[int],
    codes: tuple[str, ...],
    max_corrections: int,
    min_correction_factor: float,
    unknown_factor: float,
) -> PlateInterpretation:
    exact = _exact(cleaned, separators, codes)
    if exact:
        return exact[0]
    sure = [
        interp
        for interp in _corrected(cleaned, separators, codes, max_corrections)
        if round(interp.confidence_factor, 9) >= min_correction_factor
    ]
    if sure:
        top = round(sure[0].confidence_factor, 9)
        best = [interp for interp in sure if round(interp.confidence_factor, 9) == top]
        if len({interp.normalised for interp in best}) == 1:
            return best[0]
    return PlateInterpretation(
        text=cleaned,
        normalised=fold(cleaned),
        country="",
        valid=False,
        corrections=0,
        confidence_factor=unknown_factor,
    )


def candidates(
    raw: str,
    *,
    countries: Sequence[str] | None = (),
    max_corrections: int = DEFAULT_MAX_CORRECTIONS,
) -> list[PlateInterpretation]:
    """Every reading of `raw` an expected format accepts (one per country and search key); [] when
    none does.

    First the formats that accept it as read (regular and permissive layouts before generic ones,
    then country priority), then corrected readings in regular layouts within `max_corrections`
    (the higher confidence factor first, then fewer corrections). `countries` are the
    expected ISO codes in priority order; empty (or None) expects every known format in `FORMATS`
    order. Unlike `interpret`, this lists ambiguous and weak corrections too.
    """
    codes = _check_countries(countries)
    _check_numbers(max_corrections, DEFAULT_MIN_CORRECTION_FACTOR, DEFAULT_UNKNOWN_FACTOR)
    cleaned, separators = clean_reading(raw)
    return list(_candidates(cleaned, separators, codes, max_corrections))


def interpret(
    raw: str,
    *,
    countries: Sequence[str] | None = (),
    unknown_factor: float = DEFAULT_UNKNOWN_FACTOR,
    max_corrections: int = DEFAULT_MAX_CORRECTIONS,
    min_correction_factor: float = DEFAULT_MIN_CORRECTION_FACTOR,
) -> PlateInterpretation:
    """What an OCR reading is, under the policy of the module docstring: as read when an expected
    format accepts it unchanged; corrected when the best-supported corrections (confidence factor
    at least `min_correction_factor`) agree on one search key; else the cleaned reading
    (valid=False, country "", confidence factor `unknown_factor`).

    `countries` are the deployment's expected ISO codes in priority order; empty (or None) expects
    every known format in `FORMATS` order. Repeated calls with the same arguments return the same
    object (cached).
    """
    codes = _check_countries(countries)
    _check_numbers(max_corrections, min_correction_factor, unknown_factor)
    cleaned, separators = clean_reading(raw)
    return _interpret(
        cleaned, separators, codes, max_corrections, float(min_correction_factor), float(unknown_factor)
    )
