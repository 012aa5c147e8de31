"""The one typed settings tree: defaults here, overridden by `safecity.toml`, then `SAFECITY_*` env vars.

Nested fields are reached from the environment with a double underscore, for example
`SAFECITY_MOTION__VAR_THRESHOLD=24`. The TOML file is `./safecity.toml`, or the path in
`SAFECITY_CONFIG`, or the one passed with `safecity --config`.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("safecity.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CameraDefaults(_Section):
    """Values a newly registered camera gets unless the registration says otherwise."""

    analysis_fps: float = Field(5.0, gt=0, description="Frames per second handed to analysers.")
    retention_days: int = Field(30, ge=1, le=3650, description="How long observations are kept.")
    operator: str = Field("", description="Organisation that runs the camera (public register).")
    legal_basis: str = Field("", description="Law or decision the camera operates under.")


class MotionSettings(_Section):
    """Background subtraction (OpenCV MOG2) that gates frames before the expensive analysers."""

    downscale_width: int = Field(640, ge=64, description="Width frames are shrunk to before subtraction.")
    history: int = Field(120, ge=2, description="Frames the background model remembers.")
    var_threshold: float = Field(32.0, gt=0, description="MOG2 variance threshold; higher = less sensitive.")
    detect_shadows: bool = Field(
        False,
        description="Mark shadows (then ignored) instead of foreground. Off by default: on real footage "
        "MOG2 takes dark vehicles on grey asphalt for shadows and loses them.",
    )
    min_blob_area_fraction: float = Field(
        0.0015, gt=0, lt=1, description="Smallest moving blob kept, as a fraction of the frame area."
    )
    warmup_frames: int = Field(5, ge=0, description="Frames used only to learn the background.")
    close_kernel_px: int = Field(
        7, ge=1, description="Closing kernel (at the downscaled width) that joins one object's fragments."
    )
    merge_overlap: float = Field(
        0.5, gt=0, le=1, description="Blobs overlapping this share of the smaller one are merged."
    )


class TrackingSettings(_Section):
    """Greedy IoU tracker that turns per-frame blobs into motion tracks."""

    iou_threshold: float = Field(0.2, gt=0, lt=1, description="Minimum overlap to continue a track.")
    max_missed_frames: int = Field(3, ge=0, description="Analysed frames a track may go unseen.")
    min_track_frames: int = Field(3, ge=1, description="Tracks seen on fewer frames are discarded as noise.")


DETECTOR_SIDE_STEP = 128
"""The plate detector's input sides are multiples of this (safecity.analytics.plates.detector.SHAPE_STEP)."""
SecondLook = Literal["tight", "contrast"]
DEFAULT_SECOND_LOOKS: tuple[SecondLook, ...] = ("tight", "contrast")


class PlateSettings(_Section):
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


class StoreSettings(_Section):
    """Database writing."""

    batch_size: int = Field(500, ge=1, description="Observations per write transaction.")
    flush_interval_s: float = Field(1.0, gt=0, description="Longest an observation waits for its batch.")
    sqlite_busy_timeout_ms: int = Field(10_000, ge=0, description="How long SQLite waits for a lock.")
    snapshot_jpeg_quality: int = Field(85, ge=10, le=100, description="JPEG quality of stored snapshots.")
    snapshot_margin: float = Field(
        0.15, ge=0, le=2, description="Context around an object's box in its snapshot, as a share of the box."
    )
    pg_pool_size: int = Field(5, ge=1, description="PostgreSQL connections kept open per process.")
    pg_max_overflow: int = Field(5, ge=0, description="Extra PostgreSQL connections allowed under load.")
    partition_months_ahead: int = Field(
        3,
        ge=0,
        le=120,
        description="PostgreSQL: months after the current one whose observation partitions are created in "
        "advance (by `safecity db upgrade` and `safecity db partitions --ensure`); rows of months without "
        "one are kept in the default partition.",
    )
    write_retry_initial_s: float = Field(
        0.5, gt=0, description="First wait before a batch is written again after the database went away."
    )
    write_retry_cap_s: float = Field(10.0, gt=0, description="Longest wait between two tries of one batch.")
    write_retry_give_up_s: float = Field(
        600.0,
        ge=0,
        description="How long the writer keeps retrying a batch while the database is unreachable before it "
        "stops and reports the error (0: never retry).",
    )


class HotlistSettings(_Section):
    """Plate hotlists: how loosely a read may match an entry, how alerts are scored, how long entries last."""

    one_edit: bool = Field(
        True, description="Also match reads within one OCR-confusion edit of a plate entry (not patterns)."
    )
    one_edit_min_length: int = Field(
        5, ge=2, description="Plate entries shorter than this match only exactly or by confusable characters."
    )
    confusable_factor: float = Field(
        0.9, gt=0, le=1, description="Alert score = read confidence times this, for a confusable match."
    )
    one_edit_factor: float = Field(
        0.7, gt=0, le=1, description="Alert score = read confidence times this, for a one-edit match."
    )
    min_score: float = Field(0.0, ge=0, le=1, description="Matches scoring below this raise no alert.")
    default_expiry_days: int = Field(
        30, ge=0, description="Days an entry stays in force unless added with its own expiry; 0: no expiry."
    )
    min_pattern_literals: int = Field(
        3, ge=1, description="Letters or digits a pattern must fix, so that `*` cannot hotlist every car."
    )
    reload_interval_s: float = Field(
        30.0, gt=0, description="How often a running matcher re-reads the hotlist from the store."
    )


class SearchSettings(_Section):
    """Retrospective plate search."""

    default_limit: int = Field(100, ge=1, description="Results returned when a search names no limit.")
    max_limit: int = Field(10_000, ge=1, description="Most results one search may return.")


class FaceSettings(_Section):
    """Face detection, quality gate, embedding, per-passage aggregation, watchlist matching, face search."""

    detector: Literal["hog", "cnn"] = Field(
        "hog",
        description="dlib detector: HOG (fast, frontal) or the CNN (MMOD; seconds per frame, batch use).",
    )
    upsample: int = Field(
        0,
        ge=0,
        le=2,
        description="Times the image is doubled before detection (1 finds ~35 px faces, 4x cost).",
    )
    photo_upsample: int = Field(
        1,
        ge=0,
        le=2,
        description="Upsampling for still photos (enrolment, face search, evaluation).",
    )
    photo_relative_score: float = Field(
        0.25,
        ge=0,
        le=1,
        description="In a reference photo, detections scoring below this share of the best one are ignored.",
    )
    min_detection_score: float = Field(
        0.15,
        description="Detector score below which a detection is dropped (HOG: a mission patch 0.04-0.12, "
        "the weakest real face of the detection set 0.22).",
    )
    region_padding: float = Field(
        0.25, ge=0, description="Moving regions are grown by this share of their size before face detection."
    )
    small_face_upsample: bool = Field(
        True,
        description="With `upsample` 0, narrow moving regions are enlarged before face detection, so "
        "faces of ~36-60 px are found there (HOG at 1x finds them from ~60-70 px); never costs more "
        "than upsampling the whole frame (bench/bench_face_sizes.py).",
    )
    small_region_max_width: int = Field(
        240,
        ge=0,
        description="Moving regions at most this wide (px, before padding) count as narrow: a person's blob "
        "is ~3 face widths wide (2.6-4.1 on the shared broadcast clip), so faces under ~60-80 px.",
    )
    small_region_scale: float = Field(
        2.0,
        gt=1,
        le=4,
        description="Enlargement of a narrow region; cost grows with its square (1.5: ~60% of the cost of 2, "
        "finds faces from ~50 px instead of ~36 px).",
    )
    min_eye_distance_px: float = Field(
        14.0,
        gt=0,
        description="Faces whose eye centres are closer than this (pixels) are too small to match.",
    )
    min_sharpness: float = Field(
        12.0,
        ge=0,
        description="Variance of the Laplacian of the aligned 150 px chip below which a face is blurred.",
    )
    max_yaw: float = Field(
        0.45,
        gt=0,
        description="Largest sideways offset of the nose from the eyes' midpoint, in eye distances.",
    )
    embed_backend: Literal["onnx", "dlib"] = Field(
        "onnx",
        description="Embedding runtime: onnxruntime from dlib's weights (fast) or dlib itself (reference).",
    )
    embed_threads: int = Field(1, ge=1, description="Threads one embedder uses.")
    flip_average: bool = Field(
        True,
        description="Embed each chip and its mirror image and average the two (steadier; twice the cost).",
    )
    cnn_fallback: bool = Field(
        True, description="Reference photos (enrolment, face search) with no HOG face are tried with the CNN."
    )
    model_cache_dir: Path | None = Field(
        None, description="Where the ONNX form of dlib's network is cached; default <data_dir>/models."
    )
    max_embeddings_per_track: int = Field(
        6, ge=1, description="Best-quality faces of one passage that are embedded and averaged."
    )
    passage_weighting: Literal["mean", "quality"] = Field(
        "mean",
        description="How a passage's embedded faces make one probe: a plain mean, or weighted by quality "
        "score (size, sharpness, pose). Measured equal within noise (bench/bench_face_passages.py): the "
        "gate and the best-faces choice already leave out the poor ones.",
    )
    track_iou: float = Field(
        0.1, gt=0, lt=1, description="Overlap that continues a face track between frames."
    )
    track_gap_s: float = Field(1.5, gt=0, description="A face track unseen this long is closed and decided.")
    min_track_faces: int = Field(
        1, ge=1, description="Faces a passage needs (passing the gate) to be stored."
    )
    match_threshold: float = Field(
        0.40,
        gt=0,
        description="One-to-one: Euclidean distance at or below which a retrospective face search hit is "
        "marked as the same person. Watchlist alerts are decided by `target_fpir` instead.",
    )
    target_fpir: float = Field(
        0.01,
        gt=0,
        lt=1,
        description="Watchlist alerts: the share of passers-by who are on no list that may raise an alert "
        "(false-positive identification rate). The decision threshold follows from it, the calibration "
        "and the number of people in the watchlists in force.",
    )
    calibration_path: Path | None = Field(
        None,
        description="Calibration written by `safecity faces calibrate` (cohort and score table); default "
        "<data_dir>/face_calibration.npz. Without one, the shipped distance table decides.",
    )
    cohort_k: int = Field(
        3, ge=1, description="Nearest cohort faces whose mean distance normalises a probe's score."
    )
    cohort_weight: float = Field(
        1.0,
        ge=0,
        description="How much a probe's margin to the cohort counts against its distance to the candidate.",
    )
    calibration_enrol: int = Field(
        3, ge=1, description="Photos per person that a calibration enrols (as enrolment takes several)."
    )
    enrol_consistency: float = Field(
        0.6, gt=0, description="Photos of one person further than this from the others' mean are refused."
    )
    enrol_max_photo_side: int = Field(
        2000, ge=100, description="Enrolment photos are shrunk to this longest side before detection."
    )
    blur_unmatched: bool = Field(True, description="Store crops of faces that match nothing blurred.")
    blur_kernel_fraction: float = Field(
        0.25, gt=0, le=1, description="Blur kernel size as a share of the face crop's width."
    )
    index_path: Path | None = Field(
        None, description="Face search index (FAISS in a .npz archive); default <data_dir>/face_index.npz."
    )
    ivf_min_vectors: int = Field(
        100_000, ge=1, description="Below this many vectors the index is exact (flat); above, IVF."
    )
    nprobe: int = Field(32, ge=1, description="IVF lists visited per face search.")
    search_oversample: int = Field(
        8, ge=1, description="Extra candidates fetched per hit when search filters."
    )
    search_default_k: int = Field(
        10, ge=1, description="Results a face search returns unless told otherwise."
    )


class StreamSettings(_Section):
    """Live sources and the `safecity serve` runtime: reconnects, queues, workers, health, metrics."""

    transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport (TCP survives lossy links).")
    queue_size: int = Field(8, ge=1, description="Decoded frames a camera may queue; the oldest is dropped.")
    open_timeout_s: float = Field(10.0, gt=0, description="How long connecting to a stream may take.")
    stall_timeout_s: float = Field(
        10.0, gt=0, description="No frame for this long: the stream is reconnected."
    )
    backoff_initial_s: float = Field(0.5, gt=0, description="First reconnect delay.")
    backoff_factor: float = Field(
        2.0, ge=1, description="Each failed reconnect multiplies the delay by this."
    )
    backoff_cap_s: float = Field(30.0, gt=0, description="Longest reconnect delay.")
    backoff_jitter: float = Field(0.2, ge=0, lt=1, description="Random spread of each delay (fraction).")
    offline_alert_s: float = Field(
        60.0, gt=0, description="A camera not live for this long raises a camera-health alert."
    )
    workers: int = Field(0, ge=0, description="Analysis worker processes; 0 = one per CPU core.")
    status_interval_s: float = Field(1.0, gt=0, description="How often workers report camera health.")
    reload_interval_s: float = Field(
        5.0, gt=0, description="How often the runtime re-reads the camera register and watchlists."
    )
    http_host: str = Field("127.0.0.1", description="Address of the /metrics and /status endpoint.")
    http_port: int = Field(
        9464, ge=0, le=65535, description="Port of /metrics and /status; 0 = any free port."
    )


class GovernanceSettings(_Section):
    """Accountability rules a city may tune within the law."""

    urgent_deadline_realtime_h: float = Field(
        24.0, gt=0, description="Urgent real-time use must be approved within this many hours, or data goes."
    )
    urgent_deadline_retrospective_h: float = Field(
        48.0, gt=0, description="Urgent retrospective use must be approved within this many hours."
    )
    min_reason_len: int = Field(
        10, ge=1, le=200, description="Shortest justification a search or an export accepts (characters)."
    )
    confirmations_required: int = Field(
        2, ge=2, le=5, description="Different users who must confirm a face match before it is acted on."
    )
    anchor_interval_s: float = Field(
        300.0,
        gt=0,
        description="Longest time between two audit anchors (head appended to the anchor file and the log).",
    )
    anchor_every_entries: int = Field(
        100, ge=1, description="Audit entries after which the head is anchored again, whatever the time."
    )
    anchor_check_s: float = Field(
        5.0, gt=0, description="How often `serve` and the API look whether an anchor is due."
    )
    anchor_path: Path | None = Field(
        None, description="JSON-lines file of audit anchors; default <data_dir>/audit-anchors.jsonl."
    )
    login_free_failures: int = Field(
        5, ge=1, description="Wrong passwords for one account from one address before delays start."
    )
    login_free_failures_per_address: int = Field(
        30, ge=1, description="Wrong passwords from one address (any accounts) before delays start."
    )
    login_free_failures_per_user: int = Field(
        30, ge=1, description="Wrong passwords for one account (any addresses) before delays start."
    )
    login_delay_initial_s: float = Field(
        1.0, gt=0, description="First delay once the free failures are used; it doubles with each failure."
    )
    login_delay_cap_s: float = Field(
        900.0, gt=0, description="Longest delay for one account from one address, or for one address."
    )
    login_delay_cap_per_user_s: float = Field(
        60.0,
        gt=0,
        description="Longest delay for an account across all addresses: short, so nobody elsewhere can "
        "lock its owner out.",
    )
    login_window_s: float = Field(
        3600.0, gt=0, description="How long a failed login counts towards the delays."
    )


MIN_AUDIT_RETENTION_DAYS = 183
"""Audit entries are kept at least six months; configuration may lengthen this, never shorten it."""


class RetentionSettings(_Section):
    """How long each kind of data is kept; a camera's own `retention_days` shortens every class."""

    plate_reads_days: int = Field(30, ge=1, le=3650, description="Days plate reads are kept.")
    face_sightings_days: int = Field(
        30, ge=1, le=3650, description="Days face sightings (and their kept vectors) are kept."
    )
    motion_tracks_days: int = Field(30, ge=1, le=3650, description="Days motion tracks are kept.")
    line_crossings_days: int = Field(30, ge=1, le=3650, description="Days line crossings are kept.")
    snapshots_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Days snapshot files are kept; older ones are deleted even where their row stays.",
    )
    alerts_days: int = Field(
        90, ge=1, le=3650, description="Days alerts (and their evidence files) are kept."
    )
    audit_days: int = Field(
        365,
        le=36500,
        description=f"Days audit entries are kept: {MIN_AUDIT_RETENTION_DAYS} (6 months) or more, not less.",
    )
    sweep_interval_s: float = Field(
        3600.0, gt=0, description="How often `safecity serve` runs the retention sweep."
    )
    batch_size: int = Field(
        5000, ge=1, le=10_000, description="Rows deleted per transaction by the retention sweep."
    )
    orphan_grace_s: float = Field(
        3600.0,
        ge=60,
        le=30 * 86400,
        description=(
            "Snapshot files that no row refers to (a process killed between writing a snapshot and "
            "committing its row) are deleted by the retention sweep once this many seconds old; "
            "younger ones may belong to a row about to be committed (keep it above "
            "`store.write_retry_give_up_s`, how long a batch may wait for its commit)."
        ),
    )

    @field_validator("audit_days")
    @classmethod
    def _audit_at_least_six_months(cls, value: int) -> int:
        if value < MIN_AUDIT_RETENTION_DAYS:
            raise ValueError(
                f"audit_days {value} is too short: audit entries are kept at least 6 months "
                f"({MIN_AUDIT_RETENTION_DAYS} days); longer is allowed, never shorter"
            )
        return value


class ApiSettings(_Section):
    """The HTTP API and web UI served by `safecity serve` (and by `make demo`)."""

    host: str = Field("127.0.0.1", description="Address the API and web UI listen on.")
    port: int = Field(8000, ge=0, le=65535, description="Port of the API and web UI; 0 = any free port.")
    session_ttl_h: float = Field(
        12.0, gt=0, le=24 * 31, description="How long a browser login lasts (a revocable token)."
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest accepted upload (face photo, register file)."
    )
    max_image_pixels: int = Field(
        40_000_000,
        ge=1,
        description="Most pixels (width x height, read from the file header before decoding) of a photo "
        "given to face search or enrolment, by API, web or CLI: a small file can declare a huge image.",
    )
    max_image_side: int = Field(
        16_384, ge=1, description="Longest side, in pixels, of such a photo (checked with max_image_pixels)."
    )
    page_max: int = Field(500, ge=1, description="Most items one page of a listing may hold.")
    page_default: int = Field(50, ge=1, description="Items on a page when the request names no limit.")
    max_list_items: int = Field(
        1000,
        ge=1,
        description="Most items a list in a request body may hold (camera ids of a search, an "
        "authorisation or a user's limits); a longer list is a 422 before any work is done for it.",
    )
    live_poll_s: float = Field(0.5, gt=0, le=10, description="How often the live feed looks for new alerts.")
    live_cameras_s: float = Field(2.0, gt=0, description="How often the live feed sends camera states.")
    secure_cookies: bool = Field(
        False, description="Mark the session cookie Secure (set when served behind HTTPS)."
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) besides the request's own scheme and Host from which "
        "a browser session may post, e.g. the public https address when a reverse proxy rewrites Host.",
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins_only(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not re.fullmatch(r"https?://[^/?#@\s]+", origin):
                raise ValueError(f"{origin!r} is not an origin: write scheme://host[:port], no path")
        return value


class SimSettings(_Section):
    """The synthetic city used by the demo and by tests."""

    width: int = Field(1280, ge=320, description="Rendered frame width.")
    height: int = Field(720, ge=240, description="Rendered frame height.")
    fps: float = Field(10.0, gt=0, description="Rendered frames per second.")
    cameras: int = Field(6, ge=1, description="Cameras in the demo scenario.")
    seconds: float = Field(30.0, gt=0, description="Length of each rendered clip.")
    seed: int = Field(
        18,
        description="Seed: the same seed renders the same city. The default's first 30 s hold vehicles "
        "speeding past two plate cameras, so the demo shows section-speed alerts.",
    )


class SectionConfig(_Section):
    """One section-speed pair as a city configures it: a read at `camera_a`, then at `camera_b`.

    `distance_m` is the length driven between the two cameras' timing lines. When it is left
    out, it is the great-circle (haversine) distance between the two cameras' coordinates: a
    straight line, which underestimates a curved road (and so the speed); give the distance
    along the road wherever the road bends. Left-out tolerances and clock offset come from
    `[traffic]`.
    """

    id: str = Field(min_length=1, description="Section id, unique among the sections.")
    camera_a: str = Field(min_length=1, description="Camera at the entry of the section.")
    camera_b: str = Field(min_length=1, description="Camera at the exit of the section.")
    speed_limit_kmh: float = Field(gt=0, description="Speed limit on the section.")
    distance_m: float | None = Field(
        None, gt=0, description="Road distance between the cameras; default: straight line between them."
    )
    tolerance_kmh: float | None = Field(None, ge=0, description="Override of traffic.tolerance_kmh.")
    tolerance_percent: float | None = Field(
        None, ge=0, le=100, description="Override of traffic.tolerance_percent."
    )
    clock_offset_s: float | None = Field(
        None, description="How far camera B's clock runs ahead of camera A's; default traffic.clock_offset_s."
    )


class TrafficSettings(_Section):
    """Traffic: section speed control between camera pairs (average speed from plate re-identification)."""

    tolerance_kmh: float = Field(
        3.0, ge=0, description="Speeds up to limit + this (plus tolerance_percent) raise no violation."
    )
    tolerance_percent: float = Field(
        0.0, ge=0, le=100, description="Extra tolerance in percent of the limit (added to tolerance_kmh)."
    )
    min_plausible_speed_kmh: float = Field(
        5.0, gt=0, description="Slower passages are not paired: the read at B is another trip."
    )
    max_plausible_speed_kmh: float = Field(
        250.0, gt=0, description="Faster passages are not paired: the reads belong to different vehicles."
    )
    clock_offset_s: float = Field(
        0.0, description="Default offset of camera B's clock relative to camera A's (B minus A), seconds."
    )
    one_edit_min_length: int = Field(
        7, ge=2, description="Plates shorter than this pair only exactly or by OCR-confusable characters."
    )
    allowed_lateness_s: float = Field(
        5.0, ge=0, description="How late (out of time order) a read may arrive and still pair."
    )
    sections: list[SectionConfig] = Field(
        default_factory=list, description="The camera pairs measured ([[traffic.sections]] in TOML)."
    )


class CountingLineConfig(_Section):
    """A counting line in one camera's image: two points (pixels) and the names of its two directions."""

    name: str = Field(min_length=1, max_length=100, description="Unique per camera; stored with crossings.")
    points: tuple[tuple[float, float], tuple[float, float]] = Field(
        description="Start and end (x, y) in full-frame pixels, y down."
    )
    in_direction: str = Field(
        "in",
        min_length=1,
        max_length=20,
        description="Name of crossing from the left to the right of the line, seen facing from start to end.",
    )
    out_direction: str = Field(
        "out", min_length=1, max_length=20, description="The opposite crossing's name."
    )

    @model_validator(mode="after")
    def _a_real_line(self) -> CountingLineConfig:
        (ax, ay), (bx, by) = self.points
        if not all(math.isfinite(v) for v in (ax, ay, bx, by)):
            raise ValueError(f"line {self.name!r}: points must be finite numbers")
        if math.hypot(bx - ax, by - ay) < 1.0:
            raise ValueError(f"line {self.name!r}: its two points are less than 1 pixel apart")
        if self.in_direction == self.out_direction:
            raise ValueError(f"line {self.name!r}: in_direction and out_direction must differ")
        return self


MAX_COUNTING_ITEMS = 100
"""Most lines or zones per camera, and corners per zone: stored with the camera and sent to every
worker, so a request body cannot make them megabytes (a street needs a handful)."""


class CountingZoneConfig(_Section):
    """A polygon zone in one camera's image whose occupancy (tracks inside) is counted."""

    name: str = Field(min_length=1, max_length=100, description="Unique per camera.")
    polygon: tuple[tuple[float, float], ...] = Field(
        max_length=MAX_COUNTING_ITEMS, description="Corners (x, y) in full-frame pixels."
    )

    @model_validator(mode="after")
    def _a_real_polygon(self) -> CountingZoneConfig:
        pts = self.polygon
        if len(pts) < 3:
            raise ValueError(f"zone {self.name!r}: needs at least 3 corners, got {len(pts)}")
        if not all(math.isfinite(v) for p in pts for v in p):
            raise ValueError(f"zone {self.name!r}: corners must be finite numbers")
        area = 0.5 * abs(sum(pts[i - 1][0] * p[1] - p[0] * pts[i - 1][1] for i, p in enumerate(pts)))
        if area < 1.0:
            raise ValueError(f"zone {self.name!r}: its polygon has no area (corners repeated or on one line)")
        return self


class CountingGeometry(_Section):
    """A camera's counting lines and zones (its image pixels), how the lines count and which point of a
    track is tested: what the registry stores with the camera (`safecity:counting`)."""

    lines: tuple[CountingLineConfig, ...] = Field((), max_length=MAX_COUNTING_ITEMS)
    zones: tuple[CountingZoneConfig, ...] = Field((), max_length=MAX_COUNTING_ITEMS)
    anchor: Literal["bottom", "centre"] = Field(
        "bottom",
        description="Point of a track's box tested against lines and zones: bottom-centre (where a vehicle "
        "touches the road the line is drawn on) or the box centre.",
    )
    method: Literal["tracks", "loop"] = Field(
        "tracks",
        description="How lines count: 'tracks' (a track's path crosses the line; any analysis rate) or "
        "'loop' (a virtual loop: the foreground under the line, frame by frame; vehicles side by side "
        "or close behind each other stay apart; needs about 15 analysed frames per second or more).",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> CountingGeometry:
        for kind, names in (("line", [x.name for x in self.lines]), ("zone", [z.name for z in self.zones])):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{kind} names must be unique per camera, repeated: {', '.join(repeated)}")
        return self


class CameraCountingConfig(CountingGeometry):
    """The counting lines and zones of one camera, named by its id ([[counting.cameras]] in TOML)."""

    camera_id: str = Field(min_length=1, description="Registered camera these lines belong to.")


class CountingSettings(_Section):
    """Counting lines and zones per camera ([[counting.cameras]] in TOML; a camera's lines registered
    with it, `safecity:counting` in the register, take precedence) and how crossings are classed."""

    cameras: tuple[CameraCountingConfig, ...] = ()
    hysteresis_px: float = Field(
        2.0, ge=0, description="A track must get this far past a line to change side (ignores jitter)."
    )
    min_object_area_px: float = Field(
        150.0, ge=0, description="Tracks whose median box is smaller are class 'unknown'."
    )
    min_object_aspect: float = Field(
        0.25,
        ge=0,
        description="Tracks whose median box is flatter (height / width) are class 'unknown': a sliver of "
        "shadow or a fragment of another object's blob, not an object.",
    )
    person_min_aspect: float = Field(
        1.3, gt=0, description="Median box height / width from which a slow track is a 'person'."
    )
    person_max_speed_px_s: float = Field(
        60.0, gt=0, description="Tall tracks faster than this (pixels per second) are not people."
    )
    interval_s: float = Field(900.0, gt=0, description="Default counting interval (seconds).")
    fragment_window_s: float = Field(
        1.0,
        ge=0,
        description="A crossing this close in time to one counted already, by a track that was a fragment "
        "of the counted object at some instant, is not counted again (0 turns merging off).",
    )
    fragment_overlap: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Fragments share at least this part of the narrower box's extent along the line.",
    )
    fragment_gap_px: float = Field(
        0.0,
        ge=0,
        description="Fragments are at most this far apart across the line (pixels; 0: their boxes touch).",
    )
    queue_speed_px_s: float = Field(
        10.0,
        ge=0,
        description="A track inside a zone moving slower than this (box centre, pixels per second) stands.",
    )
    queue_min_s: float = Field(
        3.0, ge=0, description="A track standing this long in a row inside a zone queued there."
    )
    loop_offset_px: float = Field(
        3.0,
        gt=0,
        description="Virtual loops sample two lines this far either side of the counting line (full-frame "
        "pixels); which one a vehicle reaches first gives its direction. Keep it above half the distance a "
        "vehicle moves at the line between two analysed frames, or both are reached on the same frame.",
    )
    loop_min_area: int = Field(
        20, ge=1, description="Smallest streak (line pixels x frames) a virtual loop counts: less is noise."
    )
    loop_min_width_px: float = Field(
        6.0,
        ge=0,
        description="Streaks narrower than this along the line (full-frame pixels) are class unknown.",
    )
    loop_gap_frames: int = Field(
        3, ge=1, description="A streak is complete after this many frames without foreground next to it."
    )
    reversal_window_s: float = Field(
        1.0,
        ge=0,
        description="A track crossing a line and back within this time counts neither (jitter, hesitation).",
    )

    def for_camera(self, camera_id: str) -> CameraCountingConfig | None:
        """The camera's lines and zones; None when it has none."""
        for entry in self.cameras:
            if entry.camera_id == camera_id:
                return entry
        return None


class ActorResources(_Section):
    """What Ray reserves for one actor of an analyser kind, and how many cameras that actor runs."""

    cameras_per_actor: int = Field(4, ge=1, description="Cameras one actor decodes and analyses.")
    num_cpus: float = Field(1.0, gt=0, description="CPU cores Ray reserves for each actor of this kind.")
    num_gpus: float = Field(0.0, ge=0, description="GPUs Ray reserves for each actor of this kind.")


class ClusterSettings(_Section):
    """Scale-out: cameras analysed by Ray actors on several machines (`serve --cluster`).

    Cameras go to actors by their heaviest analyser: a camera with faces to a `faces` actor, else
    one with plates to a `plates` actor, else to a `motion` actor (motion and traffic), so each
    kind gets the resources it needs (a GPU for faces, say) and actors of one kind cost alike.
    Defaults follow the sizing table in docs/DEPLOYMENT.md (busy streets, 720p25).
    """

    address: str = Field(
        "",
        description="Ray cluster to run the analysers on: ray://HOST:10001, HOST:6379, auto (the cluster "
        "this machine joined with `ray start`) or local (a one-machine Ray started here); empty: worker "
        "processes on this machine, no Ray.",
    )
    motion: ActorResources = Field(
        ActorResources(cameras_per_actor=7, num_cpus=1.2),
        description="Actors of cameras with motion or traffic analysis only.",
    )
    plates: ActorResources = Field(
        ActorResources(cameras_per_actor=3, num_cpus=1.2), description="Actors of plate cameras."
    )
    faces: ActorResources = Field(
        ActorResources(cameras_per_actor=2, num_cpus=0.9),
        description="Actors of face cameras (with or without plates).",
    )
    max_restarts: int = Field(
        -1, ge=-1, description="Times Ray restarts a failed actor (-1: always); after that it is replaced."
    )
    report_wait_s: float = Field(
        1.0, gt=0, description="Longest an actor holds a report back while it has nothing to send."
    )
    call_timeout_s: float = Field(
        30.0, gt=0, description="An actor that does not answer for this long is treated as failed."
    )
    recording_retries: int = Field(
        3, ge=0, description="Times a recording is analysed again after the actor analysing it failed."
    )
    object_store_mb: int = Field(
        256, ge=80, description='Object store (MB) of the Ray instance `address = "local"` starts here.'
    )

    def head(self) -> tuple[str, int] | None:
        """Host and port of the Ray head `address` names; None for none, `auto` and `local`.

        ValueError if it is neither ray://HOST:PORT nor HOST:PORT.
        """
        address = self.address.strip()
        if address in ("", "auto", "local"):
            return None
        host, sep, port = address.removeprefix("ray://").rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"cluster address {address!r} is not ray://HOST:PORT, HOST:PORT, auto or local")
        return host.strip("[]"), int(port)


class Settings(BaseSettings):
    """All of Open Safe City's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="SAFECITY_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Field(Path("var"), description="Where the database, media and demo output live.")
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means SQLite at <data_dir>/safecity.db (WAL mode)."
    )
    media_dir: Path | None = Field(None, description="Snapshots and clips; default <data_dir>/media.")
    camera_defaults: CameraDefaults = CameraDefaults()
    motion: MotionSettings = MotionSettings()
    tracking: TrackingSettings = TrackingSettings()
    plates: PlateSettings = PlateSettings()
    store: StoreSettings = StoreSettings()
    hotlists: HotlistSettings = HotlistSettings()
    search: SearchSettings = SearchSettings()
    faces: FaceSettings = FaceSettings()
    streams: StreamSettings = StreamSettings()
    governance: GovernanceSettings = GovernanceSettings()
    retention: RetentionSettings = RetentionSettings()
    api: ApiSettings = ApiSettings()
    sim: SimSettings = SimSettings()
    traffic: TrafficSettings = TrafficSettings()
    counting: CountingSettings = CountingSettings()
    cluster: ClusterSettings = ClusterSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = _config_file_in_use
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'safecity.db').as_posix()}"

    @property
    def effective_media_dir(self) -> Path:
        return self.media_dir if self.media_dir is not None else self.data_dir / "media"

    @property
    def effective_model_cache_dir(self) -> Path:
        cache = self.faces.model_cache_dir
        return cache if cache is not None else self.data_dir / "models"

    @property
    def effective_face_calibration_path(self) -> Path:
        path = self.faces.calibration_path
        return path if path is not None else self.data_dir / "face_calibration.npz"

    @property
    def effective_anchor_path(self) -> Path:
        path = self.governance.anchor_path
        return path if path is not None else self.data_dir / "audit-anchors.jsonl"

    @property
    def effective_face_index_path(self) -> Path:
        path = self.faces.index_path
        return path if path is not None else self.data_dir / "face_index.npz"


_config_file_in_use: Path | None = None


def resolve_config_file(explicit: Path | None = None) -> Path | None:
    """The TOML file to read: the explicit one, else $SAFECITY_CONFIG, else ./safecity.toml if present."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get("SAFECITY_CONFIG")
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings tree; raises ValueError naming the file when it is missing or invalid."""
    global _config_file_in_use
    path = resolve_config_file(config_file)
    if path is not None and not path.is_file():
        raise ValueError(f"config file {path} does not exist")
    _config_file_in_use = path
    try:
        return Settings(**overrides)
    finally:
        _config_file_in_use = None


def redact_url(url: str) -> str:
    """Hide the password of a database or stream URL so it can be printed or logged."""
    scheme_sep = url.find("://")
    at = url.rfind("@")
    if scheme_sep < 0 or at < scheme_sep:
        return url
    credentials = url[scheme_sep + 3 : at]
    if ":" not in credentials:
        # A lone user part is often a token (rtsp://TOKEN@host), so it is hidden as well.
        return f"{url[: scheme_sep + 3]}***{url[at:]}"
    user = credentials.split(":", 1)[0]
    return f"{url[: scheme_sep + 3]}{user}:***{url[at:]}"
