"""Face recognition: the `[faces]` section (`FaceSettings`), detection, quality gate, embedding,
per-passage aggregation, watchlist matching, calibration and the face search index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from safecity.config.base import SectionModel


class FaceSettings(SectionModel):
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
    alert_repeat_s: float = Field(
        300.0,
        ge=0,
        description="A watchlist match of a person on a camera within this many seconds of that person's "
        "last alert on that camera raises no new alert (0: every match alerts).",
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
