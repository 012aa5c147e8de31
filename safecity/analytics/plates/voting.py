"""Track voting: one plate result per vehicle passage, decided from all the reads of that passage.

A single frame's read is often wrong by one character (motion blur, a bolt read as a dot, O for
0); the same plate seen on five frames is rarely wrong the same way five times. Reads are
grouped by the motion track they fall in; a read outside every track joins an open group whose
text is within one OCR-confusion edit of it and that was seen recently, else starts its own.
When a group closes (its track ended, or it went quiet for `group_gap_s`), the string with the
highest summed confidence wins, among the strings that match a country format when any does (a
distant plate is often read without its city code, and those partial reads can outnumber the
full ones); every candidate string is kept with its share of the votes. A passage whose result
is less sure than `min_passage_confidence` is noise (a caption, a sign) and is not stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from safecity.analytics.plates.confusion import confusion_key, within_one_edit
from safecity.config import PlateSettings
from safecity.types import BBox, BGRImage, PlateRead, observation_id


class PlateCandidateLike(Protocol):
    """What voting needs from one read (the reader's `PlateCandidate` has these and more)."""

    @property
    def bbox(self) -> BBox: ...
    @property
    def text(self) -> str: ...
    @property
    def normalised(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def valid(self) -> bool: ...


@dataclass
class _Group:
    track_id: int | None
    first_seen: datetime
    last_seen: datetime
    reads: list[tuple[datetime, PlateCandidateLike]] = field(default_factory=list)
    # Per distinct string, the frame of its most confident read: at most a few frames per passage.
    best_frames: dict[str, tuple[float, BGRImage | None]] = field(default_factory=dict)

    def similar(self, key: str) -> bool:
        return any(within_one_edit(confusion_key(c.normalised), key) for _, c in self.reads)


@dataclass(frozen=True, slots=True)
class VotedPlate:
    """A decided passage: the plate read to store, and the frame its best read came from."""

    read: PlateRead
    image: BGRImage | None = field(repr=False)
    votes: int


class PlateVoter:
    """Collects reads for one camera and decides one plate per passage."""

    def __init__(self, camera_id: str, settings: PlateSettings) -> None:
        if not camera_id:
            raise ValueError("camera_id must be a non-empty string")
        self.camera_id = camera_id
        self.settings = settings
        self._by_track: dict[int, _Group] = {}
        self._loose: list[_Group] = []

    def add(
        self,
        timestamp: datetime,
        candidates: Iterable[PlateCandidateLike],
        track_boxes: dict[int, BBox],
        image: BGRImage | None = None,
    ) -> None:
        """Add one frame's reads; `track_boxes` are the motion tracks seen in the same frame."""
        for cand in candidates:
            if cand.confidence < self.settings.min_read_confidence or not cand.normalised:
                continue
            track_id = _containing_track(cand.bbox, track_boxes)
            group = self._group_for(track_id, confusion_key(cand.normalised), timestamp)
            group.reads.append((timestamp, cand))
            group.last_seen = timestamp
            best = group.best_frames.get(cand.normalised)
            if best is None or cand.confidence > best[0]:
                group.best_frames[cand.normalised] = (cand.confidence, image)

    def close_tracks(self, track_ids: Iterable[int], now: datetime) -> list[VotedPlate]:
        """Decide the passages whose motion tracks ended, and loose groups quiet for too long."""
        closed = [self._by_track.pop(t) for t in track_ids if t in self._by_track]
        quiet = [g for g in self._loose if (now - g.last_seen).total_seconds() > self.settings.group_gap_s]
        self._loose = [g for g in self._loose if g not in quiet]
        return self._decide([*closed, *quiet])

    def finish(self) -> list[VotedPlate]:
        """End of stream: decide every open passage."""
        groups = [*self._by_track.values(), *self._loose]
        self._by_track, self._loose = {}, []
        return self._decide(groups)

    def _group_for(self, track_id: int | None, key: str, timestamp: datetime) -> _Group:
        if track_id is not None:
            group = self._by_track.get(track_id)
            if group is None:
                group = self._by_track[track_id] = _Group(track_id, timestamp, timestamp)
            return group
        for group in reversed(self._loose):
            recent = (timestamp - group.last_seen).total_seconds() <= self.settings.group_gap_s
            if recent and group.similar(key):
                return group
        group = _Group(None, timestamp, timestamp)
        self._loose.append(group)
        return group

    def _decide(self, groups: Sequence[_Group]) -> list[VotedPlate]:
        return [voted for g in groups if (voted := self._vote(g)) is not None]

    def _vote(self, group: _Group) -> VotedPlate | None:
        if len(group.reads) < self.settings.min_votes:
            return None
        totals: dict[str, float] = {}
        for _, cand in group.reads:
            totals[cand.normalised] = totals.get(cand.normalised, 0.0) + cand.confidence
        grand_total = sum(totals.values())
        ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        valid = {c.normalised for _, c in group.reads if c.valid}
        winner, winner_total = next(((t, v) for t, v in ranked if t in valid), ranked[0])
        when, best = max(
            ((t, c) for t, c in group.reads if c.normalised == winner), key=lambda tc: tc[1].confidence
        )
        agreeing = sum(1 for _, c in group.reads if c.normalised == winner)
        # Mean confidence of the winning reads, scaled by the share of votes they carry.
        confidence = round(winner_total / agreeing * (winner_total / grand_total), 4)
        if confidence < self.settings.min_passage_confidence:
            return None
        read = PlateRead(
            id=observation_id(self.camera_id, "plate", when, group.track_id, winner),
            camera_id=self.camera_id,
            timestamp=when,
            bbox=best.bbox,
            confidence=confidence,
            text=best.text,
            normalised=winner,
            country=best.country,
            track_id=group.track_id,
            candidates=tuple((text, round(total / grand_total, 4)) for text, total in ranked),
        )
        return VotedPlate(read=read, image=group.best_frames[winner][1], votes=len(group.reads))


def _containing_track(box: BBox, track_boxes: dict[int, BBox]) -> int | None:
    """The smallest track box that contains the plate's centre (a plate lies on its vehicle)."""
    cx, cy = box.centre
    inside = [
        (b.area, track_id)
        for track_id, b in track_boxes.items()
        if b.x <= cx <= b.x + b.w and b.y <= cy <= b.y + b.h
    ]
    return min(inside)[1] if inside else None
