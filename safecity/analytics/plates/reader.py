"""The plate reader: find plate text in a frame (or in given regions), read it, validate it.

Owns `PlateReader`, `PlateCandidate` and `PlateReaderError`. For each image area: text lines that
may be plates come from `localise` (detection on the shrunk area plus edge proposals re-detected at
plate scale); each line is cut out upright, recognised (`ocr`), characters at its ends that no
character-height ink backs are dropped (`glyphs`), and the reading is interpreted by the country
formats (`formats.interpret`). Non-plate text is rejected by character count, text proportions
and recognition confidence, and ranked below plates by the formats' confidence factor and by its
polarity; overlapping reads of one plate are reduced to the best.

Measured on ../shared/data/plates with `safecity.eval.plates`, one core (another job running on
the second core): eu 65 images exact 0.908, O=0 0.985, detect recall 1.0, median 121 ms (p95 232);
hr 10 images 0.9 / 0.9 / 0.9, median 113 ms. Per eu image: detection on the shrunk image ~47 ms,
edge proposals 2 ms, ~9 re-detections 27 ms, ~2.4 recognitions (~17 ms each) 40 ms. rapidocr's
own whole-image pipeline costs ~790 ms per image. Without the ink check (trimming, emblem drop) eu
read 57/65; without the colour-suppressed second read the sim plates fell from 118 to 112 of 120.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from safecity.analytics.plates.detector import PlateBox, PlateDetector
from safecity.analytics.plates.formats import PlateInterpretation, check_countries, interpret
from safecity.analytics.plates.glyphs import (
    InkCheck,
    check_ink,
    drop_emblem,
    equalised,
    trim_unbacked,
    without_colour,
)
from safecity.analytics.plates.localise import bbox_of, lines_in_plate, plate_text_lines
from safecity.analytics.plates.ocr import Glyph, OcrEngine, Recognition, TextBox, warp_box
from safecity.config import PlateSettings
from safecity.types import BBox, BGRImage

MIN_AREA_SIDE = 8
"""Image areas smaller than this (pixels) hold no readable plate and are skipped."""
GENERIC_LAYOUT_CONFIDENCE = 0.7
"""Confidence factor of the generic (catch-all) layouts: a fit at or below it says little."""
_SAME_PLATE_OVERLAP = 0.5
"""Two reads whose boxes overlap by this share of the smaller box are reads of one plate."""


class PlateReaderError(ValueError):
    """The image cannot be read: missing, empty, not 8-bit BGR, or larger than the configured limit."""


@dataclass(frozen=True, slots=True)
class PlateCandidate:
    """One plate reading in a frame, with its box in full-frame pixels."""

    bbox: BBox
    raw: str
    """What the recogniser read (plate characters, spaces where it saw separators or symbols)."""
    text: str
    """Printed form from the country formats ("BG 123-AB"), or the cleaned reading."""
    normalised: str
    country: str
    valid: bool
    confidence: float
    """OCR confidence times the formats' confidence factor."""
    ocr_confidence: float
    corrections: int = 0
    rank: float = 0.0
    """Ordering score, best first: the confidence, lowered for light-on-dark text (captions), for
    readings without a digit and for text cut off by the image border."""


def check_image(image: object, max_side: int) -> BGRImage:
    """The image as a BGR uint8 array, or PlateReaderError saying what is wrong with it."""
    if image is None:
        raise PlateReaderError("no image (None): the frame could not be decoded or was not passed")
    if not isinstance(image, np.ndarray):
        raise PlateReaderError(f"expected a numpy BGR image, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise PlateReaderError(f"expected an 8-bit image (uint8), got dtype {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise PlateReaderError(f"expected a BGR image of shape (height, width, 3), got shape {image.shape}")
    if image.size == 0:
        raise PlateReaderError(f"empty image of shape {image.shape}")
    if max(image.shape[:2]) > max_side:
        raise PlateReaderError(
            f"image of {image.shape[1]}x{image.shape[0]} px exceeds the limit of {max_side} px per side "
            "(plates.max_image_side)"
        )
    return image


class PlateReader:
    """Reads licence plates in BGR frames; one instance per worker (it holds two ONNX sessions)."""

    def __init__(self, settings: PlateSettings | None = None) -> None:
        self.settings = settings if settings is not None else PlateSettings()
        s = self.settings
        self._default_countries = check_countries(s.countries)
        self.engine = OcrEngine(threads=s.ocr_threads)
        self.detector = (
            PlateDetector(
                side=s.detector_side,
                threads=s.ocr_threads,
                min_score=s.detector_min_score,
            )
            if s.detector_side > 0
            else None
        )

    def read(self, image: BGRImage, *, countries: Sequence[str] | None = None) -> list[PlateCandidate]:
        """Plate readings in the whole frame, best first (empty when none).

        `countries`: the plates expected here, most frequent first (None: `settings.countries`).
        """
        frame = check_image(image, self.settings.max_image_side)
        h, w = frame.shape[:2]
        return self._read_areas(frame, [BBox(0, 0, w, h)], self._countries(countries))

    def read_regions(
        self, image: BGRImage, regions: Sequence[BBox], *, countries: Sequence[str] | None = None
    ) -> list[PlateCandidate]:
        """Plate readings inside the given regions only (motion blobs, vehicle boxes), best first.

        Boxes are in full-frame pixels; regions are clipped to the frame and empty ones ignored.
        """
        frame = check_image(image, self.settings.max_image_side)
        return self._read_areas(frame, regions, self._countries(countries))

    # -- internals ---------------------------------------------------------------------------------

    def _countries(self, countries: Sequence[str] | None) -> tuple[str, ...]:
        return self._default_countries if countries is None else check_countries(countries)

    def _read_areas(
        self, frame: BGRImage, areas: Sequence[BBox], countries: tuple[str, ...]
    ) -> list[PlateCandidate]:
        h, w = frame.shape[:2]
        found: list[PlateCandidate] = []
        for area in areas:
            x0, y0 = max(0, area.x), max(0, area.y)
            x1, y1 = min(w, area.x + area.w), min(h, area.y + area.h)
            if x1 - x0 < MIN_AREA_SIDE or y1 - y0 < MIN_AREA_SIDE:
                continue
            crop = frame[y0:y1, x0:x1]
            on_plates: list[PlateCandidate] = []
            if self.detector is not None:
                for plate in self.detector.detect(crop):
                    best = self._read_plate(frame, plate, x0, y0, countries)
                    if best is not None:
                        on_plates.append(best)
            found.extend(on_plates)
            search = self.settings.text_search
            if search == "always" or (search == "when_no_plate" and not on_plates):
                found.extend(self._read_text(frame, crop, x0, y0, countries))
        return _best_per_plate(found)

    def _read_text(
        self, frame: BGRImage, crop: BGRImage, x0: int, y0: int, countries: tuple[str, ...]
    ) -> list[PlateCandidate]:
        """Reads of text lines found by text detection in an area (no detected plate there).

        An area whose tallest text line is at least `close_up_text_share` of its height is a
        close-up of one plate (a crop from another system, a plate-sized region): like a detected
        plate, its tallest line that reads as a plate is the registration. Elsewhere every line
        is read and ranks lower than reads on detected plates (`text_only_factor`).
        """
        s = self.settings
        lines = [line.shifted(x0, y0) for line in plate_text_lines(self.engine, crop, s)]
        if lines and max(line.height for line in lines) >= s.close_up_text_share * crop.shape[0]:
            best = self._tallest_plate_line(frame, sorted(lines, key=lambda b: -b.height), countries)
            return [best] if best is not None else []
        found = []
        for line in lines:
            candidate = self._read_line(frame, line, countries)
            if candidate is not None:
                found.append(replace(candidate, rank=candidate.rank * s.text_only_factor))
        return found

    def _read_plate(
        self, frame: BGRImage, plate: PlateBox, dx: int, dy: int, countries: tuple[str, ...]
    ) -> PlateCandidate | None:
        """The registration on a detected plate: its tallest text line that reads as a plate.

        State names, slogans, dealer frames and stickers share the plate's box; the registration
        is printed in its largest characters, so lines are read tallest first and the first one
        that passes the character-count and confidence checks wins.
        """
        s = self.settings
        box = BBox(plate.bbox.x + dx, plate.bbox.y + dy, plate.bbox.w, plate.bbox.h)
        best = self._tallest_plate_line(frame, lines_in_plate(self.engine, frame, box, s), countries)
        if best is None:
            return None
        return replace(best, rank=best.rank * (s.detector_rank_base + plate.score))

    def _tallest_plate_line(
        self, frame: BGRImage, tallest_first: list[TextBox], countries: tuple[str, ...]
    ) -> PlateCandidate | None:
        """The first of the `max_plate_lines` tallest lines of one plate that reads as a plate."""
        for line in tallest_first[: self.settings.max_plate_lines]:
            candidate = self._read_line(frame, line, countries)
            if candidate is not None:
                return candidate
        return None

    def _read_line(self, frame: BGRImage, line: TextBox, countries: tuple[str, ...]) -> PlateCandidate | None:
        s = self.settings
        pad = s.crop_padding * line.height
        crop = warp_box(frame, line, pad, pad / 2.0)
        reads = [r for r in (self._read_crop(crop, crop, countries),) if r is not None]
        if not reads or _read_key(reads[0]) < (True, s.sure_read_confidence):
            # Not a sure read: try again with the band, coat of arms and stickers painted over.
            plain, share = without_colour(crop, colour_excess=s.colour_ink_excess)
            if share >= s.colour_reread_share:
                again = self._read_crop(plain, crop, countries)
                if again is not None:
                    reads.append(again)
        for look in s.second_looks:
            if reads and _read_key(max(reads, key=_read_key)) >= (True, s.sure_read_confidence):
                break
            # Still not sure: the line cut without margin (the margin may hold a frame or a
            # neighbour's print), or with its contrast equalised (dim, hazy or backlit plates).
            if look == "tight":
                alt = warp_box(frame, line, 0.0, 0.0)
                again = self._read_crop(alt, alt, countries)
            else:
                again = self._read_crop(equalised(crop), crop, countries)
            # A second look may correct characters but not lose them: reads with fewer
            # characters have a higher mean confidence only because the doubtful one is gone.
            if again is not None and (
                not reads or len(again.interp.normalised) >= len(reads[0].interp.normalised)
            ):
                reads.append(again)
        if not reads:
            return None
        raw, glyphs, interp, check = max(reads, key=_read_key)
        n_chars = len(interp.normalised)
        if not s.min_plate_chars <= n_chars <= s.max_plate_chars:
            return None
        ocr_confidence = float(np.mean([g.probability for g in glyphs]))
        if ocr_confidence < s.min_read_confidence:
            return None
        confidence = ocr_confidence * interp.confidence_factor
        weight = 1.0 if check is None or check.dark_on_light else s.light_on_dark_factor
        if not any(ch.isdigit() for ch in interp.normalised):
            weight *= s.no_digit_factor
        x0, y0, x1, y1 = line.bounds()
        if x0 < 1 or y0 < 1 or x1 > frame.shape[1] - 1 or y1 > frame.shape[0] - 1:
            weight *= s.cut_off_factor
        box = bbox_of([line])
        box = BBox(box.x - round(pad), box.y - round(pad / 2.0), box.w + 2 * round(pad), box.h + round(pad))
        return PlateCandidate(
            bbox=_clip(box, frame.shape[1], frame.shape[0]),
            raw=raw,
            text=interp.text,
            normalised=interp.normalised,
            country=interp.country,
            valid=interp.valid,
            confidence=confidence,
            ocr_confidence=ocr_confidence,
            corrections=interp.corrections,
            rank=confidence * weight,
        )

    def _read_crop(self, image: BGRImage, crop: BGRImage, countries: tuple[str, ...]) -> _Read | None:
        """Recognise `image` (the crop or a cleaned copy) and choose its best variant; None if empty."""
        rec = self.engine.recognise(image)
        if not rec.glyphs:
            return None
        check = check_ink(crop, rec.glyphs, colour_excess=self.settings.colour_ink_excess)
        return _Read(*self._choose(rec, check, countries), check)

    def _choose(
        self, rec: Recognition, check: InkCheck | None, countries: tuple[str, ...]
    ) -> tuple[str, tuple[Glyph, ...], PlateInterpretation]:
        """The reading as recognised, or without characters that no character ink backs.

        Variants: as read; without unbacked characters at the ends (bands, shields, small print);
        and, from that, without one unbacked character between the groups (emblem, sticker). The
        best fitting one wins: valid before not, then the formats' confidence factor; on a tie the
        one the ink supports best wins (an emblem dropped where a colourful blob is, then ends
        trimmed, then as read, then a dropped character without colour evidence).
        """
        factor = self.settings.unknown_format_factor
        sure = self.settings.drop_max_probability
        ends = trim_unbacked(rec.glyphs, check, self.settings.max_trim_chars, sure)
        middle, coloured = drop_emblem(ends, check, sure)
        options: list[tuple[float, str, tuple[Glyph, ...], PlateInterpretation]] = []
        for preference, glyphs in ((0.0, rec.glyphs), (1.0, ends), (2.0 if coloured else -1.0, middle)):
            if not glyphs or any(glyphs == o[2] for o in options):
                continue
            raw = rec.raw if glyphs == rec.glyphs else _sub_raw(rec, glyphs)
            interp = interpret(
                raw,
                unknown_factor=factor,
                countries=countries,
                min_correction_factor=self.settings.min_correction_factor,
            )
            if glyphs != rec.glyphs and not _regular(interp):
                # Ink alone never shortens a reading: only a country's layout that the shorter
                # reading fits (a band or emblem read as a character) does.
                preference = -2.0
            options.append((preference, raw, glyphs, interp))
        best = max(options, key=lambda o: (o[3].valid, round(o[3].confidence_factor, 6), o[0]))
        return best[1], best[2], best[3]


def _regular(interp: PlateInterpretation) -> bool:
    """Whether a reading fits a country's own layout, not only a generic catch-all."""
    return interp.valid and interp.confidence_factor > GENERIC_LAYOUT_CONFIDENCE


class _Read(NamedTuple):
    raw: str
    glyphs: tuple[Glyph, ...]
    interp: PlateInterpretation
    check: InkCheck | None


def _read_key(read: _Read) -> tuple[bool, float]:
    """Which of two reads of one line is better: fitting a format, then OCR confidence x factor."""
    return read.interp.valid, float(
        np.mean([g.probability for g in read.glyphs])
    ) * read.interp.confidence_factor


def _sub_raw(rec: Recognition, kept: tuple[Glyph, ...]) -> str:
    """The raw text of the kept glyphs, with the separators that stood between kept ones."""
    keep = {id(g) for g in kept}
    out: list[str] = []
    glyph_iter = iter(rec.glyphs)
    for ch in rec.raw:
        if ch.isspace():
            if out and out[-1] != ch:
                out.append(ch)
            continue
        if id(next(glyph_iter)) in keep:
            out.append(ch)
    return "".join(out).strip()


def _clip(box: BBox, width: int, height: int) -> BBox:
    x0, y0 = max(0, box.x), max(0, box.y)
    x1, y1 = min(width, box.x + box.w), min(height, box.y + box.h)
    return BBox(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def _overlap_of_smaller(a: BBox, b: BBox) -> float:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    smaller = min(a.area, b.area)
    return ix * iy / smaller if smaller > 0 else 0.0


def _best_per_plate(found: list[PlateCandidate]) -> list[PlateCandidate]:
    """Best rank first (reads fitting no format carry the lower unknown-format factor), one per plate."""
    kept: list[PlateCandidate] = []
    for c in sorted(found, key=lambda c: -c.rank):
        if all(_overlap_of_smaller(c.bbox, k.bbox) < _SAME_PLATE_OVERLAP for k in kept):
            kept.append(c)
    return kept
