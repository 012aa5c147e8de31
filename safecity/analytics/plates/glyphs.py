"""Which recognised characters stand on real character ink: rejecting emblems, bands and small print.

Owns the check that a character the recogniser returned is backed by a stroke of character height
in the crop. Coats of arms, country bands ("SK" under a shield, a blue "D" band), stickers and
small dealer print beside the characters are read as extra letters at the ends of a line; they
are not dark, uncoloured strokes as tall as the plate's characters, which is what this looks for.
It also tells the text's polarity (dark on light, as on most plates, or light on dark).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from safecity.analytics.plates.ocr import Glyph
from safecity.types import BGRImage

NORM_HEIGHT = 48
"""Crops are scaled to this height before the ink analysis (the recogniser's input height)."""
_MIN_GLYPHS = 3
_STROKE_HEIGHT = (0.3, 0.95)
"""Components this tall (share of the crop) and narrower than tall estimate the character height."""
_CHAR_HEIGHT = (0.7, 1.35)
"""A component counts as a character when its height is within these multiples of the estimate."""
_BASELINE_TOLERANCE = 0.3
_BLOCK = 25
"""Local-threshold window (pixels at NORM_HEIGHT): wider than a stroke, about a character high."""
_OFFSET = 7
"""How much darker than its window a pixel must be to count as ink (grey levels)."""
_BAND = 0.6
"""Half the height of the character band kept for the second look, in character heights."""
_MAX_CHAR_WIDTH = 2.0
"""Touching characters may form one component up to this many character heights wide."""
_MAX_TOUCHING = 3
_SINGLE_WIDTH = 0.75
"""Widest single character, in character heights (plate fonts are condensed: most reach 0.5-0.7)."""
_BLOB_HEIGHT = 0.4
"""Colourful blobs at least this many character heights tall are emblems, stickers or bands."""
_BLOB_REACH = 0.25
"""A glyph sits on a colourful blob when its centre is within this share of the pitch of it."""
_SKIP_COST = 0.5
"""Alignment cost, in character pitches, of a glyph without ink or ink without a glyph."""


@dataclass(frozen=True, slots=True)
class InkCheck:
    """Per-glyph support and the text polarity found in one crop."""

    supported: tuple[bool, ...]
    dark_on_light: bool
    coloured: tuple[bool, ...] = ()
    """Per glyph: it sits on a colourful blob (coat of arms, sticker, band), not on plain ink."""

    @property
    def reliable(self) -> bool:
        """Most glyphs are backed, so the character height was found and the rest can be judged."""
        return bool(self.supported) and sum(self.supported) * 2 > len(self.supported)


def check_ink(crop: BGRImage, glyphs: Sequence[Glyph], *, colour_excess: float) -> InkCheck | None:
    """Which glyphs lie on dark (or, for inverted plates, light) uncoloured strokes of character height.

    None when the crop shows too few character-like strokes to judge (then nothing is trimmed).
    """
    if len(glyphs) < _MIN_GLYPHS or crop.shape[0] < 4 or crop.shape[1] < 4:
        return None
    scale = NORM_HEIGHT / crop.shape[0]
    img = cv2.resize(crop, (max(8, round(crop.shape[1] * scale)), NORM_HEIGHT), interpolation=cv2.INTER_CUBIC)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape
    # Ink darker (or lighter) than its surroundings: a local threshold, so a dark car body around
    # the plate does not swallow the characters that touch the plate's frame.
    dark = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, _BLOCK, _OFFSET
    )
    light = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, _BLOCK, -_OFFSET)
    dark_found = _strokes(dark, height)
    light_found = _strokes(light, height)
    dark_on_light = len(dark_found[3]) >= len(light_found[3])
    ink, n, labels, stats, strokes = (dark, *dark_found) if dark_on_light else (light, *light_found)
    if len(strokes) < 2:
        return None
    char_h = float(np.median(stats[strokes, 3]))
    mid_y = float(np.median(stats[strokes, 1] + stats[strokes, 3] / 2.0))
    # Cut the ink to the character band, so the plate's frame and print above or below it no
    # longer join the characters into one component; then look at the components again.
    top = max(0, int(mid_y - _BAND * char_h))
    bottom = min(height, int(np.ceil(mid_y + _BAND * char_h)) + 1)
    ink[:top] = 0
    ink[bottom:] = 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB).astype(np.float32)
    chroma = np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0)
    # The plate's own colour: the background between the characters (not the car around it).
    background = (ink == 0)[top:bottom]
    band_chroma = chroma[top:bottom]
    base_chroma = float(np.median(band_chroma[background])) if background.any() else 0.0
    spans: list[tuple[float, float]] = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if not _CHAR_HEIGHT[0] * char_h <= h <= _CHAR_HEIGHT[1] * char_h or w > _MAX_CHAR_WIDTH * char_h:
            continue
        if abs(y + h / 2.0 - mid_y) > _BASELINE_TOLERANCE * char_h or x <= 0 or x + w >= width:
            continue
        if float(np.median(chroma[labels == i])) > base_chroma + colour_excess:
            continue
        spans.append((float(x), float(x + w)))
    centres = [g.centre * scale for g in glyphs]
    if not spans:
        return InkCheck(tuple(False for _ in glyphs), dark_on_light)
    supported, shift = _align(centres, spans, char_h)
    colourful = ((chroma > base_chroma + colour_excess) * 255).astype(np.uint8)
    colourful[:top] = 0
    colourful[bottom:] = 0
    n, _, stats, _ = cv2.connectedComponentsWithStats(colourful, connectivity=8)
    blobs = [(float(x), float(x + w)) for x, _, w, h, _ in stats[1:] if h >= _BLOB_HEIGHT * char_h]
    reach = _BLOB_REACH * (float(np.median(np.diff(centres))) if len(centres) > 1 else char_h)
    coloured = tuple(any(a - reach <= c - shift <= b + reach for a, b in blobs) for c in centres)
    return InkCheck(supported, dark_on_light, coloured)


def _slots(spans: list[tuple[float, float]], char_h: float) -> list[float]:
    """Character positions in the ink: one per component, more for touching characters.

    Too many positions only make the check more lenient (a spare position costs nothing that a
    glyph would not pay), so a component gets one per `_SINGLE_WIDTH` character heights of width.
    """
    slots: list[float] = []
    for a, b in sorted(spans):
        k = max(1, min(_MAX_TOUCHING, math.ceil((b - a) / (_SINGLE_WIDTH * char_h))))
        slots.extend(a + (j + 0.5) * (b - a) / k for j in range(k))
    return slots


def _align(
    centres: list[float], spans: list[tuple[float, float]], char_h: float
) -> tuple[tuple[bool, ...], float]:
    """Which glyphs an in-order alignment of glyphs to character positions matches (edit distance).

    The recogniser's positions drift by a few pixels, so a glyph is not tested against the ink at
    its own position alone: the alignment pays the distance for a match and half a character pitch
    for a glyph without ink (or ink without a glyph), so only glyphs with no character left for
    them (a shield before the first letter, a sticker between the groups) stay unmatched.
    Returns the matches and the recogniser's offset from the ink (pixels).
    """
    slots = _slots(spans, char_h)
    pitch = float(np.median(np.diff(centres))) if len(centres) > 1 else 1.0
    skip = _SKIP_COST * max(pitch, 1.0)
    shift = 0.0
    matched: tuple[bool, ...] = ()
    for _ in range(2):  # align, then again after removing the recogniser's common offset
        n, m = len(centres), len(slots)
        cost = np.zeros((n + 1, m + 1))
        cost[1:, 0] = np.arange(1, n + 1) * skip
        cost[0, 1:] = np.arange(1, m + 1) * skip
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                cost[i, j] = min(
                    cost[i - 1, j - 1] + abs(centres[i - 1] - shift - slots[j - 1]),
                    cost[i - 1, j] + skip,
                    cost[i, j - 1] + skip,
                )
        flags = [False] * n
        offsets: list[float] = []
        i, j = n, m
        while i > 0 and j > 0:
            if np.isclose(cost[i, j], cost[i - 1, j - 1] + abs(centres[i - 1] - shift - slots[j - 1])):
                flags[i - 1] = True
                offsets.append(centres[i - 1] - slots[j - 1])
                i, j = i - 1, j - 1
            elif np.isclose(cost[i, j], cost[i - 1, j] + skip):
                i -= 1
            else:
                j -= 1
        matched = tuple(flags)
        if not offsets:
            break
        shift = float(np.median(offsets))
    return matched, shift


def _strokes(ink: np.ndarray, height: int) -> tuple[int, np.ndarray, np.ndarray, list[int]]:
    """Connected components of `ink` and those of them shaped like a character's stroke."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    strokes = [
        i
        for i in range(1, n)
        if _STROKE_HEIGHT[0] * height <= stats[i, 3] <= _STROKE_HEIGHT[1] * height
        and stats[i, 2] <= 1.5 * stats[i, 3]
    ]
    return n, labels, stats, strokes


def drop_emblem(
    glyphs: Sequence[Glyph], check: InkCheck | None, max_probability: float = 1.0
) -> tuple[tuple[Glyph, ...], bool]:
    """The glyphs without a lone unbacked one between backed neighbours (a coat of arms or sticker
    between the groups read as a character), and whether it sat on a colourful blob (stronger
    evidence); unchanged (and False) unless exactly one such glyph exists and the recogniser is
    less sure of it than `max_probability`."""
    if check is None or not check.reliable:
        return tuple(glyphs), False
    s = check.supported
    lone = [i for i in range(1, len(glyphs) - 1) if not s[i] and s[i - 1] and s[i + 1]]
    if len(lone) != 1 or glyphs[lone[0]].probability >= max_probability:
        return tuple(glyphs), False
    coloured = len(check.coloured) == len(glyphs) and check.coloured[lone[0]]
    return tuple(g for i, g in enumerate(glyphs) if i != lone[0]), coloured


def trim_unbacked(
    glyphs: Sequence[Glyph], check: InkCheck | None, max_trim: int, max_probability: float = 1.0
) -> tuple[Glyph, ...]:
    """The glyphs without up to `max_trim` unbacked ones at each end (only when the check is reliable).

    A glyph the recogniser is surer of than `max_probability` is kept however its ink looks: a
    character cut by the crop's edge or printed in a thinner font fails the ink check too.
    """
    if check is None or not check.reliable:
        return tuple(glyphs)

    def droppable(i: int) -> bool:
        return not check.supported[i] and glyphs[i].probability < max_probability

    start, end = 0, len(glyphs)
    while start < end and start < max_trim and droppable(start):
        start += 1
    while end > start and len(glyphs) - end < max_trim and droppable(end - 1):
        end -= 1
    return tuple(glyphs[start:end])


def without_colour(crop: BGRImage, *, colour_excess: float) -> tuple[BGRImage, float]:
    """The crop with colourful pixels (band, coat of arms, stickers) painted in the plate's colour,
    and the share of pixels painted. Plate characters are dark or light, rarely colourful."""
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)
    lightness = lab[..., 0]
    chroma = np.hypot(lab[..., 1].astype(np.float32) - 128.0, lab[..., 2].astype(np.float32) - 128.0)
    bright = lightness >= np.median(lightness)
    base = float(np.median(chroma[bright]))
    colourful = chroma > base + colour_excess
    share = float(colourful.mean())
    if not colourful.any():
        return crop, 0.0
    plain = bright & ~colourful
    fill = np.median(crop[plain], axis=0) if plain.any() else np.array([255.0, 255.0, 255.0])
    out = crop.copy()
    out[colourful] = fill.astype(np.uint8)
    return out, share


_CLAHE_CLIP = 2.0
_CLAHE_TILES = (4, 4)


def equalised(crop: BGRImage) -> BGRImage:
    """The crop with its lightness contrast equalised locally (CLAHE), colours kept."""
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)
    lab[..., 0] = cv2.createCLAHE(_CLAHE_CLIP, _CLAHE_TILES).apply(lab[..., 0])
    return np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR), dtype=np.uint8)
