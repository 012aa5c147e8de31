"""Scoring stored plate reads against the synthetic city's ground truth."""

from __future__ import annotations

from functools import cache

from factories import plate_read

from safecity.analytics.plates.formats import normalise_plate
from safecity.eval.sim_plates import score_sim_plates
from safecity.sim.scenario import build_scenario
from safecity.sim.truth import GroundTruth, build_truth
from safecity.types import PlateRead


@cache
def truth() -> GroundTruth:
    return build_truth(build_scenario(2, 8.0, 3))


def readable_plates(camera: str) -> list[str]:
    widths: dict[str, int] = {}
    for a in truth().plates:
        if a.camera == camera and a.box.w >= 60:
            widths[normalise_plate(a.plate)] = widths.get(normalise_plate(a.plate), 0) + 1
    return sorted(p for p, n in widths.items() if n >= 3)


def read(camera: str, plate: str) -> PlateRead:
    from dataclasses import replace

    return replace(plate_read(camera), normalised=plate)


def test_every_readable_plate_read_scores_full_recall() -> None:
    plates = readable_plates("cam-01")
    assert plates, "the scenario must show at least one readable plate"
    score = score_sim_plates(truth(), [read("cam-01", p) for p in plates])["cam-01"]
    assert (score.readable, score.read_exactly, score.false_reads) == (len(plates), len(plates), 0)


def test_a_plate_nobody_drove_is_a_false_read() -> None:
    score = score_sim_plates(truth(), [read("cam-01", "ZZ999ZZ")])["cam-01"]
    assert score.false_reads == 1 and score.read_exactly == 0
