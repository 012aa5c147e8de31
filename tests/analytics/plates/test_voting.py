"""Track voting: one plate per passage from many reads, grouping by track and by similar text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest
from factories import T0

from safecity.analytics.plates.voting import PlateVoter
from safecity.config import PlateSettings
from safecity.types import BBox

CAR = BBox(100, 100, 400, 300)
PLATE = BBox(250, 330, 120, 30)


@dataclass(frozen=True)
class Read:
    normalised: str
    confidence: float = 0.9
    bbox: BBox = PLATE
    country: str = "RS"
    valid: bool = True

    @property
    def text(self) -> str:
        return f"{self.normalised[:2]} {self.normalised[2:-2]}-{self.normalised[-2:]}"


def at(step: int) -> object:
    return T0 + timedelta(seconds=0.2 * step)


def feed(voter: PlateVoter, reads: list[Read], tracks: dict[int, BBox] | None = None) -> None:
    for i, read in enumerate(reads):
        voter.add(at(i), [read], {1: CAR} if tracks is None else tracks)  # type: ignore[arg-type]


def test_majority_wins_over_a_one_off_misread() -> None:
    voter = PlateVoter("cam-1", PlateSettings())
    feed(voter, [Read("BG123AB"), Read("BG128AB"), Read("BG123AB"), Read("BG123AB")])
    (voted,) = voter.close_tracks([1], at(5))  # type: ignore[arg-type]
    assert voted.read.normalised == "BG123AB" and voted.votes == 4


def test_all_candidates_are_kept_with_their_share() -> None:
    voter = PlateVoter("cam-1", PlateSettings())
    feed(voter, [Read("BG123AB", 0.9), Read("BG128AB", 0.6), Read("BG123AB", 0.9)])
    (voted,) = voter.close_tracks([1], at(5))  # type: ignore[arg-type]
    assert [c[0] for c in voted.read.candidates] == ["BG123AB", "BG128AB"]
    assert sum(c[1] for c in voted.read.candidates) == pytest.approx(1.0, abs=1e-3)


def test_confidence_weighs_more_than_count() -> None:
    voter = PlateVoter("cam-1", PlateSettings())
    feed(voter, [Read("BG128AB", 0.55), Read("BG128AB", 0.55), Read("BG123AB", 0.99), Read("BG123AB", 0.98)])
    (voted,) = voter.close_tracks([1], at(5))  # type: ignore[arg-type]
    assert voted.read.normalised == "BG123AB"


def test_two_tracks_give_two_passages() -> None:
    voter = PlateVoter("cam-1", PlateSettings())
    other_car, other_plate = BBox(700, 100, 300, 250), BBox(800, 300, 100, 25)
    tracks = {1: CAR, 2: other_car}
    for i in range(3):
        voter.add(at(i), [Read("BG123AB"), Read("NS4567CD", bbox=other_plate)], tracks)  # type: ignore[arg-type]
    voted = voter.close_tracks([1, 2], at(4))  # type: ignore[arg-type]
    assert sorted(v.read.normalised for v in voted) == ["BG123AB", "NS4567CD"]
    assert sorted(v.read.track_id for v in voted) == [1, 2]  # type: ignore[type-var]


def test_reads_outside_tracks_group_by_similar_text() -> None:
    voter = PlateVoter("cam-1", PlateSettings())
    feed(voter, [Read("BG123AB"), Read("BG12JAB"), Read("BGI23AB")], tracks={})
    voted = voter.close_tracks([], at(3 + 20))  # type: ignore[arg-type]
    assert [v.read.normalised for v in voted] == ["BG123AB"]


def test_loose_group_stays_open_while_recent() -> None:
    voter = PlateVoter("cam-1", PlateSettings(group_gap_s=3.0))
    feed(voter, [Read("BG123AB"), Read("BG123AB")], tracks={})
    assert voter.close_tracks([], at(2)) == []  # type: ignore[arg-type]


def test_single_read_below_min_votes_is_not_stored() -> None:
    voter = PlateVoter("cam-1", PlateSettings(min_votes=2))
    feed(voter, [Read("BG123AB")])
    assert voter.finish() == []


def test_low_confidence_reads_are_ignored() -> None:
    voter = PlateVoter("cam-1", PlateSettings(min_read_confidence=0.5, min_votes=1))
    feed(voter, [Read("XX000XX", 0.2)])
    assert voter.finish() == []


def test_winning_read_keeps_its_frame_for_the_snapshot() -> None:
    voter = PlateVoter("cam-1", PlateSettings())
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(3)]
    for i, (read, frame) in enumerate(
        zip([Read("BG123AB", 0.7), Read("BG123AB", 0.95), Read("BG128AB", 0.99)], frames, strict=True)
    ):
        voter.add(at(i), [read], {1: CAR}, frame)  # type: ignore[arg-type]
    (voted,) = voter.finish()
    assert voted.image is frames[1] and voted.read.timestamp == at(1)


def test_a_valid_plate_beats_more_numerous_partial_reads() -> None:
    voter = PlateVoter("cam-1", PlateSettings())
    partial = [Read("123AB", 0.8, valid=False) for _ in range(3)]
    feed(voter, [*partial, Read("BG123AB", 0.9), Read("BG123AB", 0.9)])
    (voted,) = voter.finish()
    assert voted.read.normalised == "BG123AB" and voted.read.candidates[0][0] == "123AB"


def test_an_unsure_passage_is_not_stored() -> None:
    voter = PlateVoter("cam-1", PlateSettings(min_passage_confidence=0.5))
    feed(
        voter,
        [Read("CAM03", 0.55, valid=False), Read("073016", 0.55, valid=False), Read("3019", 0.5, valid=False)],
    )
    assert voter.finish() == []


def test_an_unknown_format_read_consistently_is_kept() -> None:
    voter = PlateVoter("cam-1", PlateSettings())
    feed(voter, [Read("GOBEARS", 0.55, valid=False) for _ in range(4)])
    (voted,) = voter.finish()
    assert voted.read.normalised == "GOBEARS"
