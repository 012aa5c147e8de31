"""Licence-plate reading: the `[plates]` section (`PlateSettings`) with its validators, and the constants it
checks against (`DETECTOR_SIDE_STEP`, the `SecondLook` kinds and `DEFAULT_SECOND_LOOKS`).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from safecity.config.base import SectionModel

DETECTOR_SIDE_STEP = 128
"""The plate detector's input sides are multiples of this (safecity.analytics.plates.detector.SHAPE_STEP)."""
SecondLook = Literal["tight", "contrast"]
DEFAULT_SECOND_LOOKS: tuple[SecondLook, ...] = ("tight", "contrast")


class PlateSettings(SectionModel):
    """Licence-plate reading: localisation, recognition, validation and per-track voting."""

    countries: list[str] = Field(
        default_factory=list,
        description="Countries whose plates this deployment expects, most frequent first (ISO 3166-1 "
        "alpha-2, e.g. RS, HR, BA, ME, MK, HU, RO, BG for Belgrade); a camera may set its own. Readings "
        "are corrected by position only when exactly one expected format fits; empty expects no "
        "country in particular (every known format, corrections only when one format alone fits).",
    )
    min_correction_factor: float = Field(
        0.8,
        ge=0,
        le=1,
        description="Least confidence factor a corrected reading needs before the correction is applied "
        "(0.9 per look-alike changed or band text stripped, 0.8 per emblem character dropped or separator "
        "inside a group): 0.8 allows at most two look-alike changes; 1.0 never corrects, readings that fit "
        "no expected format as read are then stored as read.",
    )
    min_read_confidence: float = Field(
        0.5, ge=0, le=1, description="Recognition confidence below which a single read is discarded."
    )
    unknown_format_factor: float = Field(
        0.6, gt=0, le=1, description="Confidence multiplier for reads that match no known country format."
    )
    min_votes: int = Field(2, ge=1, description="Reads of one passage needed before a plate is stored.")
    min_passage_confidence: float = Field(
        0.3, ge=0, le=1, description="A voted passage less sure than this is noise and is not stored."
    )
    snapshot_context: float = Field(
        1.0, ge=0, description="Context kept around a plate in its snapshot, as a share of the plate size."
    )
    group_gap_s: float = Field(
        3.0, gt=0, description="A passage's reads outside any motion track end after this long without one."
    )
    # Reader (safecity.analytics.plates.reader): localisation, recognition, rejection of other text.
    ocr_threads: int = Field(
        1, ge=1, le=64, description="onnxruntime intra-op threads per OCR model (inter-op is always 1)."
    )
    max_image_side: int = Field(
        8192, ge=64, description="Images with a longer side than this are refused (PlateReaderError)."
    )
    detector_side: int = Field(
        640,
        ge=0,
        description="Longest side the learned plate detector runs at (frames and regions are shrunk to it, "
        "never enlarged; a multiple of 128). 0 turns the detector off (text detection alone localises).",
    )
    detector_min_score: float = Field(
        0.1, gt=0, lt=1, description="Detector confidence a plate box needs to be read."
    )
    detector_rank_base: float = Field(
        0.5,
        ge=0,
        description="A read on a detected plate ranks by its confidence times (this + the detector's "
        "confidence), so a surer plate box wins between two plates of an image.",
    )
    plate_text_height_px: int = Field(
        96,
        ge=16,
        le=160,
        description="Height a detected plate is scaled to (at most 4x) before text detection inside it.",
    )
    max_plate_lines: int = Field(
        3,
        ge=1,
        description="Text lines on one detected plate read, tallest first, until one reads as a plate.",
    )
    text_search: Literal["when_no_plate", "always", "never"] = Field(
        "when_no_plate",
        description="When to search text lines outside detected plates (finds plates the detector "
        "misses; costs ~70 ms on a 720p frame): only in areas where no detected plate was read, always, "
        "or never.",
    )
    text_only_factor: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Ranking weight of a read found by text search outside any detected plate "
        "(state names, makes, dealer frames and shop signs are text too).",
    )
    extra_det_scales: list[float] = Field(
        default_factory=lambda: [0.5],
        description="Text detection on a detected plate, and on images or regions no longer than "
        "global_det_max_side, runs again at these multiples of its scale (large characters are found "
        "at a smaller scale); empty looks once.",
    )
    close_up_text_share: float = Field(
        0.2,
        gt=0,
        le=1,
        description="An image or region whose tallest text line is at least this share of its height is a "
        "close-up of one plate: its tallest line that reads as a plate is taken (state names and "
        "slogans are printed smaller than the registration).",
    )
    global_det_max_side: int = Field(
        384,
        ge=0,
        description="Text detection on the whole image (or region) shrunk to this longest side; finds "
        "large plates. 0 turns it off (then only edge proposals are searched).",
    )
    proposal_work_width: int = Field(
        1280, ge=160, description="Edge proposals are searched on the image shrunk to at most this width."
    )
    proposal_min_height_px: int = Field(
        8, ge=4, description="Smallest text-line height (frame pixels) an edge proposal may have."
    )
    max_proposals: int = Field(
        16, ge=0, description="Edge proposals re-detected at plate scale per image or region, largest first."
    )
    roi_text_height_px: int = Field(
        20, ge=8, le=64, description="Height a proposal's text is scaled to before text detection inside it."
    )
    det_threshold: float = Field(0.3, gt=0, lt=1, description="Text-detection probability for a text pixel.")
    det_box_threshold: float = Field(
        0.5, gt=0, lt=1, description="Mean text probability a detected box needs to be kept."
    )
    det_unclip_ratio: float = Field(
        1.6, gt=0, description="How far a detected text kernel is grown back to the text's outline."
    )
    min_text_height_px: int = Field(
        7, ge=3, description="Text lines lower than this (frame pixels) are not read: too small for OCR."
    )
    min_text_aspect: float = Field(
        1.2, gt=0, description="Narrowest text line (width / height) that may be a plate's characters."
    )
    max_text_aspect: float = Field(
        14.0, gt=0, description="Widest text line (width / height) that may be a plate's characters."
    )
    max_recognitions: int = Field(
        8, ge=1, description="Text lines recognised per image or region, most plate-like first (bounds time)."
    )
    crop_padding: float = Field(
        0.15, ge=0, le=1, description="Margin around a text line for recognition, as a share of its height."
    )
    min_plate_chars: int = Field(4, ge=1, description="Readings with fewer characters are not plates.")
    max_plate_chars: int = Field(10, ge=1, description="Readings with more characters are not plates.")
    max_trim_chars: int = Field(
        2,
        ge=0,
        description="Characters at either end that may be dropped when no character-height ink backs them "
        "(coats of arms, country bands, stickers read as characters).",
    )
    drop_max_probability: float = Field(
        0.99,
        gt=0,
        le=1,
        description="A character read with at least this recognition probability is never dropped for "
        "lack of ink, at the ends or between the groups (1 drops on ink evidence alone). Bands and "
        "emblems read as characters are read with some doubt; a plate's own characters, whatever their "
        "ink looks like in the crop (thin fonts, a frame touching them), with near certainty. Measured: "
        "0.8-0.99 are equal on eu, hr and us_crops; 0.99 also trims a neighbouring plate's edges on us.",
    )
    colour_ink_excess: float = Field(
        30.0,
        ge=0,
        description="Ink whose colourfulness (Lab chroma) exceeds the plate background's by this is not "
        "a character (coats of arms, stickers).",
    )
    sure_read_confidence: float = Field(
        0.9,
        ge=0,
        le=1,
        description="A line read as a valid plate with OCR confidence x format factor of at least this is "
        "not read a second time.",
    )
    colour_reread_share: float = Field(
        0.03,
        ge=0,
        le=1,
        description="A text line is read a second time with its colourful pixels (band, coat of arms, "
        "stickers) painted over when they cover at least this share of it; the better read is kept. "
        "1 turns the second read off.",
    )
    second_looks: list[SecondLook] = Field(
        default_factory=lambda: list(DEFAULT_SECOND_LOOKS),
        description="Further reads of a line not yet read surely, in order, until one is sure: "
        "'tight' cuts the line without margin, 'contrast' equalises its lightness (each ~15 ms).",
    )
    light_on_dark_factor: float = Field(
        0.85,
        gt=0,
        le=1,
        description="Ranking weight for light text on a dark background (captions, watermarks; most "
        "plates print dark characters on a light plate).",
    )
    no_digit_factor: float = Field(
        0.85,
        gt=0,
        le=1,
        description="Ranking weight for readings without a digit (badges, dealer names; vanity plates are "
        "rare).",
    )
    cut_off_factor: float = Field(
        0.8, gt=0, le=1, description="Ranking weight for text cut off by the image border (part of a plate)."
    )

    @field_validator("detector_side")
    @classmethod
    def _detector_side_in_steps(cls, value: int) -> int:
        if value % DETECTOR_SIDE_STEP:
            raise ValueError(f"detector_side {value} must be 0 (off) or a multiple of {DETECTOR_SIDE_STEP}")
        return value

    @field_validator("countries")
    @classmethod
    def _countries_are_codes(cls, value: list[str]) -> list[str]:
        codes = [code.strip().upper() for code in value]
        bad = [code for code in codes if not re.fullmatch(r"[A-Z]{2}", code)]
        if bad:
            raise ValueError(f"countries must be ISO 3166-1 alpha-2 codes like RS or HR, got {bad}")
        if len(set(codes)) != len(codes):
            raise ValueError(f"countries lists a country twice: {codes}")
        return codes
