"""What the per-camera pipeline writes to, known only by small protocols: observations, face
matches, snapshots. The embedded writer, the city runtime's queue and a Ray actor each implement
them; `PlateCollectingSink` keeps a run's plate reads for the hotlist check after it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from safecity.types import BBox, BGRImage, Observation, PlateRead

if TYPE_CHECKING:
    from safecity.watch.faces import FaceMatchEvent


class ObservationSink(Protocol):
    def submit_many(self, observations: Sequence[Observation]) -> None: ...


class MatchSink(Protocol):
    def submit_matches(self, events: Sequence[FaceMatchEvent]) -> None: ...


class PlateCollectingSink:
    """Passes observations on to `sink` (the writer); keeps the plate reads for hotlist checks after a run."""

    def __init__(self, sink: ObservationSink) -> None:
        self.sink = sink
        self.plate_reads: list[PlateRead] = []

    def submit_many(self, observations: Sequence[Observation]) -> None:
        self.sink.submit_many(observations)
        self.plate_reads.extend(o for o in observations if isinstance(o, PlateRead))


class SnapshotStore(Protocol):
    def save_snapshot(
        self, camera_id: str, timestamp: datetime, obs_id: str, image: BGRImage, crop: BBox | None = None
    ) -> str: ...
