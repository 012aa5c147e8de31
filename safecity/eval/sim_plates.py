"""Plate reads stored for the synthetic city, scored against the sim's ground truth.

A vehicle counts as readable at a camera when its plate was drawn at least `min_width_px` wide
on at least `min_frames` frames there (smaller plates are not legible to any reader). A
readable vehicle is read exactly when one of that camera's stored reads has its plate string;
a stored read whose string belongs to no vehicle seen by that camera is a false read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from safecity.analytics.plates.formats import normalise_plate
from safecity.sim.truth import GroundTruth
from safecity.types import PlateRead

DEFAULT_MIN_WIDTH_PX = 60
DEFAULT_MIN_FRAMES = 3


@dataclass(frozen=True, slots=True)
class CameraPlateScore:
    camera_id: str
    readable: int
    read_exactly: int
    false_reads: int

    @property
    def recall(self) -> float:
        return self.read_exactly / self.readable if self.readable else 0.0


def score_sim_plates(
    truth: GroundTruth,
    reads: Iterable[PlateRead],
    *,
    min_width_px: int = DEFAULT_MIN_WIDTH_PX,
    min_frames: int = DEFAULT_MIN_FRAMES,
) -> dict[str, CameraPlateScore]:
    wide_frames: dict[tuple[str, str], int] = defaultdict(int)
    seen: dict[str, set[str]] = defaultdict(set)
    for a in truth.plates:
        plate = normalise_plate(a.plate)
        seen[a.camera].add(plate)
        if a.box.w >= min_width_px:
            wide_frames[(a.camera, plate)] += 1
    readable: dict[str, set[str]] = defaultdict(set)
    for (camera, plate), n in wide_frames.items():
        if n >= min_frames:
            readable[camera].add(plate)
    stored: dict[str, set[str]] = defaultdict(set)
    false_reads: dict[str, int] = defaultdict(int)
    for read in reads:
        stored[read.camera_id].add(read.normalised)
        if read.normalised not in seen[read.camera_id]:
            false_reads[read.camera_id] += 1
    cameras = sorted(set(readable) | set(stored))
    return {
        c: CameraPlateScore(c, len(readable[c]), len(readable[c] & stored[c]), false_reads[c])
        for c in cameras
    }
