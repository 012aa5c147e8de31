"""Open-set decisions for face watchlists: is the nearest enrolled person really this face?

Owns the decision rule a watchlist match goes through, chosen by the error a city accepts rather
than by a distance: `faces.target_fpir`, the share of people on no list who may raise an alert.
A stranger compared with N enrolled people alerts if any one comparison passes, so the rule turns
the target into a per-comparison false-accept rate for the gallery size in force
(`comparison_rate`) and reads the threshold for that rate off a table of impostor scores
(`FarTable`) measured on labelled photos of people who are not on the list.

Two scores, each with its own table (`FaceCalibration.method`):
* `distance`: the Euclidean distance to the person's template (the mean of their photos).
* `cohort`: the distance adjusted by the probe's margin to a cohort of other people's faces,
  `d - w * (c_k - d)` with `c_k` the mean distance to the probe's k nearest cohort faces. A face
  that lies close to many people (a common look, a blurred or small face) has a small margin and
  is held back; a face clearly nearer to one person than to anyone else is let through. The
  cohort is the calibration's photos plus the enrolled photos of everyone but the candidate.

`safecity faces calibrate DIR` measures the cohort table on a city's own labelled photos
(`face_calibration.calibrate`). Until then the shipped distance table decides (`SHIPPED`).
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from safecity.types import FACE_EMBEDDING_DIM

Method = Literal["distance", "cohort"]
METHODS: tuple[Method, ...] = ("distance", "cohort")
FAR_DECADES = (1, 7)
"""The table covers per-comparison rates from 10^-1 down to 10^-7 ..."""
FAR_STEPS_PER_DECADE = 4
"""... in steps of a quarter decade; rates between are interpolated on a log scale."""
CALIBRATION_FORMAT = 1

FloatMatrix = npt.NDArray[np.float32]


class FaceCalibrationError(ValueError):
    """A calibration file that cannot be used; the message says which file and what is wrong."""


def far_grid() -> tuple[float, ...]:
    """Per-comparison false-accept rates the tables hold, largest first."""
    lo, hi = FAR_DECADES
    steps = (hi - lo) * FAR_STEPS_PER_DECADE
    return tuple(10.0 ** -(lo + i / FAR_STEPS_PER_DECADE) for i in range(steps + 1))


def comparison_rate(target_fpir: float, gallery_size: int) -> float:
    """The per-comparison false-accept rate at which a stranger compared with `gallery_size`
    templates alerts with probability `target_fpir` (comparisons taken as independent)."""
    if not 0 < target_fpir < 1:
        raise ValueError(f"target FPIR must be between 0 and 1, got {target_fpir}")
    return float(1.0 - (1.0 - target_fpir) ** (1.0 / max(1, gallery_size)))


@dataclass(frozen=True, slots=True)
class FarTable:
    """Thresholds on a score (smaller = more alike) at which given shares of impostor comparisons pass."""

    rates: tuple[float, ...]
    """Per-comparison false-accept rates, largest first."""
    thresholds: tuple[float, ...]
    """The score at or below which that share of impostor comparisons falls."""
    comparisons: int
    """How many impostor comparisons the table was measured on (rates below 1/comparisons are
    the smallest score seen: less certain)."""

    def __post_init__(self) -> None:
        if len(self.rates) != len(self.thresholds) or len(self.rates) < 2:
            raise ValueError("a FAR table needs at least two rates, one threshold per rate")
        if any(b >= a for a, b in zip(self.rates, self.rates[1:], strict=False)):
            raise ValueError("FAR table rates must be strictly decreasing")
        if any(b > a for a, b in zip(self.thresholds, self.thresholds[1:], strict=False)):
            raise ValueError("FAR table thresholds must not increase as the rate falls")

    @classmethod
    def from_impostor_scores(cls, scores: npt.ArrayLike) -> FarTable:
        """The table of empirical lower quantiles of impostor comparison scores."""
        values = np.sort(np.asarray(scores, dtype=np.float64).ravel())
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ValueError("no impostor comparisons to measure a FAR table on")
        rates = far_grid()
        # The largest score such that at most rate * n comparisons score at or below it.
        thresholds = [float(values[max(0, math.floor(r * values.size) - 1)]) for r in rates]
        return cls(rates, tuple(np.minimum.accumulate(thresholds).tolist()), int(values.size))

    def threshold(self, rate: float) -> float:
        """The threshold for a per-comparison rate, interpolated on a log scale, clamped to the table."""
        if rate >= self.rates[0]:
            return self.thresholds[0]
        if rate <= self.rates[-1]:
            return self.thresholds[-1]
        logs = -np.log10(np.asarray(self.rates))
        return float(np.interp(-math.log10(rate), logs, np.asarray(self.thresholds)))


@dataclass(frozen=True, slots=True, eq=False)
class FaceCalibration:
    """A score, its impostor table and, for `cohort`, the cohort faces: what the rule needs."""

    method: Method
    table: FarTable
    cohort: FloatMatrix = field(default_factory=lambda: np.zeros((0, FACE_EMBEDDING_DIM), np.float32))
    """Embeddings of the calibration photos (no names, no images), for the `cohort` score."""
    cohort_k: int = 3
    cohort_weight: float = 1.0
    persons: int = 0
    images: int = 0
    source: str = ""
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown score {self.method!r}; expected one of {', '.join(METHODS)}")
        if self.cohort.ndim != 2 or self.cohort.shape[1] != FACE_EMBEDDING_DIM:
            raise ValueError(f"cohort must be n x {FACE_EMBEDDING_DIM}, got {self.cohort.shape}")
        if self.cohort_k < 1 or self.cohort_weight < 0:
            raise ValueError("cohort_k must be >= 1 and cohort_weight >= 0")

    def save(self, path: Path) -> None:
        """Write the calibration as one .npz archive (atomically: a reader sees the old or the new)."""
        meta = {
            "format": CALIBRATION_FORMAT,
            "method": self.method,
            "rates": list(self.table.rates),
            "thresholds": list(self.table.thresholds),
            "comparisons": self.table.comparisons,
            "cohort_k": self.cohort_k,
            "cohort_weight": self.cohort_weight,
            "persons": self.persons,
            "images": self.images,
            "source": self.source,
            "created": self.created.isoformat(),
        }
        buffer = io.BytesIO()
        np.savez(buffer, cohort=self.cohort.astype(np.float32), meta=np.array(json.dumps(meta)))
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temporary name of its own per writer: two calibrations written at once must not share one.
        fd, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(buffer.getvalue())
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> FaceCalibration:
        """Read a calibration written by `save`; FaceCalibrationError naming the file if it is not one."""
        try:
            with np.load(path, allow_pickle=False) as archive:
                meta = json.loads(str(archive["meta"]))
                cohort = np.asarray(archive["cohort"], dtype=np.float32)
            if meta.get("format") != CALIBRATION_FORMAT:
                raise ValueError(f"format {meta.get('format')!r}, expected {CALIBRATION_FORMAT}")
            table = FarTable(
                tuple(float(r) for r in meta["rates"]),
                tuple(float(t) for t in meta["thresholds"]),
                int(meta["comparisons"]),
            )
            return cls(
                method=meta["method"],
                table=table,
                cohort=cohort.reshape(-1, FACE_EMBEDDING_DIM),
                cohort_k=int(meta["cohort_k"]),
                cohort_weight=float(meta["cohort_weight"]),
                persons=int(meta["persons"]),
                images=int(meta["images"]),
                source=str(meta["source"]),
                created=datetime.fromisoformat(meta["created"]),
            )
        except FileNotFoundError:
            raise FaceCalibrationError(f"{path}: no face calibration there") from None
        except (OSError, EOFError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
            raise FaceCalibrationError(f"{path}: not a face calibration ({exc})") from None


# Measured with `face_calibration.calibrate(..., method="distance")` on ../shared/data/faces
# (LFW fold 1, 435 people, 896 photos, templates from up to 3 photos): impostor distances
# at per-comparison rates 10^-1 ... 10^-7. A city replaces it by calibrating on its own photos.
_SHIPPED_THRESHOLDS = (
    0.6792, 0.6517, 0.6276, 0.6059, 0.5851, 0.5662, 0.5501, 0.5317, 0.5141, 0.4992, 0.4846, 0.4656,
    0.4491, 0.4329, 0.4227, 0.4101, 0.3867, 0.3686, 0.3686, 0.3686, 0.3686, 0.3686, 0.3686, 0.3686,
    0.3686,
)  # fmt: skip
_SHIPPED_COMPARISONS = 388_864

SHIPPED = FaceCalibration(
    method="distance",
    table=FarTable(far_grid(), _SHIPPED_THRESHOLDS, _SHIPPED_COMPARISONS),
    persons=435,
    images=896,
    source="shipped: LFW fold 1 (../shared/data/faces), distance, templates of up to 3 photos",
    created=datetime(2026, 12, 7, tzinfo=UTC),
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The nearest template for one probe and whether it is a match under the rule."""

    index: int
    """Index of the nearest template among those compared."""
    distance: float
    score: float
    """The score the threshold judges (the distance itself for the `distance` method)."""
    threshold: float
    matched: bool


class OpenSetRule:
    """Decides whether a probe's nearest template is a match, at the target FPIR for the gallery size."""

    def __init__(self, calibration: FaceCalibration, target_fpir: float) -> None:
        comparison_rate(target_fpir, 1)  # validates the target
        self.calibration = calibration
        self.target_fpir = target_fpir

    @classmethod
    def fixed_distance(cls, threshold: float) -> OpenSetRule:
        """A rule that accepts the nearest template within `threshold` whatever the gallery size
        (tests, and a city that must apply a distance set by someone else)."""
        if threshold <= 0:
            raise ValueError(f"match threshold must be positive, got {threshold}")
        grid = far_grid()
        table = FarTable(grid, tuple(threshold for _ in grid), 0)
        return cls(FaceCalibration("distance", table, source=f"fixed distance {threshold:g}"), 0.01)

    @property
    def method(self) -> Method:
        return self.calibration.method

    def threshold(self, gallery_size: int) -> float:
        """The score threshold for `gallery_size` people in force."""
        return self.calibration.table.threshold(comparison_rate(self.target_fpir, gallery_size))

    def decide(
        self,
        probe: npt.ArrayLike,
        templates: FloatMatrix,
        photos: Sequence[FloatMatrix],
        gallery_size: int | None = None,
    ) -> Decision:
        """The nearest of `templates` (one row per person) and the rule's verdict on it.

        `photos[i]` are person i's enrolled photo embeddings: with the `cohort` score, everyone's
        but the candidate's join the calibration cohort. `gallery_size` defaults to the number of
        templates compared.
        """
        if templates.shape[0] == 0:
            raise ValueError("no templates to compare with")
        vector = np.asarray(probe, dtype=np.float32).reshape(FACE_EMBEDDING_DIM)
        distances = np.linalg.norm(templates - vector, axis=1)
        best = int(np.argmin(distances))
        distance = float(distances[best])
        score = distance
        if self.method == "cohort":
            cal = self.calibration
            others = [p for i, p in enumerate(photos) if i != best and len(p)]
            cohort_distances = np.concatenate(
                [np.linalg.norm(c - vector, axis=1) for c in (cal.cohort, *others)]
            )
            score = cohort_score(distance, cohort_distances, cal.cohort_k, cal.cohort_weight)
        threshold = self.threshold(templates.shape[0] if gallery_size is None else gallery_size)
        return Decision(best, distance, score, threshold, score <= threshold)


def cohort_score(distance: float, cohort_distances: npt.NDArray[np.floating], k: int, weight: float) -> float:
    """`d - w * (c_k - d)`: the distance less the weighted margin to the k nearest cohort faces.

    With fewer than k cohort faces the margin is taken over those there are; with none, the score
    is the distance."""
    if cohort_distances.size == 0:
        return distance
    k = min(k, cohort_distances.size)
    nearest = np.partition(cohort_distances, k - 1)[:k]
    return distance - weight * (float(nearest.mean()) - distance)
