"""A small greedy IoU tracker: per-frame boxes of one camera in, finished tracks out.

Owns: matching each analysed frame's boxes to live tracks by overlap, track ids (monotonic per
camera), ending tracks unseen for too long, dropping ones seen too rarely to be real, and
turning a finished track into a `MotionTrack`. No motion model: at analysis rates (5 fps) a
vehicle still overlaps its last box, and a miss is bridged by `max_missed_frames`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce

from safecity.config import TrackingSettings
from safecity.types import BBox, BGRImage, MotionTrack, observation_id


@dataclass(frozen=True, slots=True, eq=False)
class FinishedTrack:
    """One object followed from its first to its last sighting; immutable once finished."""

    camera_id: str
    track_id: int
    first_seen: datetime
    last_seen: datetime
    boxes: tuple[BBox, ...]
    """Its box on each frame it was seen, in order (aligned with `path`)."""
    path: tuple[tuple[float, float, float], ...]
    """(seconds since `first_seen`, centre x, centre y) on each frame it was seen."""
    hits: int
    """Analysed frames on which it was seen."""
    frames_spanned: int
    """Analysed frames from its first to its last sighting, both included."""
    best_bbox: BBox
    """Its largest box (preferring frames that came with an image)."""
    best_image: BGRImage | None = field(default=None, repr=False)
    """The whole frame `best_bbox` was seen on, for a snapshot; None if no image was given."""

    def to_motion_track(self, snapshot: str = "", *, obs_id: str | None = None) -> MotionTrack:
        """The observation to store. `obs_id` reuses an id already handed out (for example one
        a snapshot file was named after); by default its id follows from camera, start and track.
        """
        return MotionTrack(
            id=obs_id
            if obs_id is not None
            else observation_id(self.camera_id, "motion", self.first_seen, self.track_id),
            camera_id=self.camera_id,
            timestamp=self.first_seen,
            ended_at=self.last_seen,
            bbox=reduce(BBox.union, self.boxes),
            confidence=self.hits / self.frames_spanned,
            track_id=self.track_id,
            path=self.path,
            snapshot=snapshot,
        )


class _LiveTrack:
    """A track still being followed (mutable; only the tracker touches it)."""

    __slots__ = (
        "best_bbox",
        "best_image",
        "boxes",
        "first_seen",
        "first_step",
        "last_seen",
        "last_step",
        "missed",
        "path",
        "track_id",
    )

    def __init__(
        self, track_id: int, step: int, timestamp: datetime, box: BBox, image: BGRImage | None
    ) -> None:
        self.track_id = track_id
        self.first_step = self.last_step = step
        self.first_seen = self.last_seen = timestamp
        self.boxes: list[BBox] = [box]
        cx, cy = box.centre
        self.path: list[tuple[float, float, float]] = [(0.0, cx, cy)]
        self.missed = 0
        self.best_bbox = box
        self.best_image = image

    def add(self, step: int, timestamp: datetime, box: BBox, image: BGRImage | None) -> None:
        self.last_step, self.last_seen, self.missed = step, timestamp, 0
        self.boxes.append(box)
        cx, cy = box.centre
        self.path.append(((timestamp - self.first_seen).total_seconds(), cx, cy))
        # Keep a reference to one frame only: the largest view, preferring one with an image.
        if (image is not None, box.area) > (self.best_image is not None, self.best_bbox.area):
            self.best_bbox, self.best_image = box, image

    def finished(self, camera_id: str) -> FinishedTrack:
        return FinishedTrack(
            camera_id=camera_id,
            track_id=self.track_id,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            boxes=tuple(self.boxes),
            path=tuple(self.path),
            hits=len(self.boxes),
            frames_spanned=self.last_step - self.first_step + 1,
            best_bbox=self.best_bbox,
            best_image=self.best_image,
        )


class IouTracker:
    """Greedy IoU tracking for one camera; call `update` once per analysed frame, in time order."""

    def __init__(self, camera_id: str, settings: TrackingSettings, *, first_track_id: int = 1) -> None:
        if not camera_id:
            raise ValueError("camera_id must be a non-empty string")
        if first_track_id < 0:
            raise ValueError(f"first_track_id must be >= 0, got {first_track_id}")
        self.camera_id = camera_id
        self.settings = settings
        self._next_id = first_track_id
        self._live: list[_LiveTrack] = []
        self._step = 0
        self._last_time: datetime | None = None
        self._ended_ids: list[int] = []

    @property
    def next_track_id(self) -> int:
        """The id the next new track gets (persist it to continue ids after a restart)."""
        return self._next_id

    @property
    def live_track_ids(self) -> list[int]:
        return [track.track_id for track in self._live]

    def current_boxes(self) -> dict[int, BBox]:
        """Track id -> box, for the tracks seen in the latest `update` (to attach plates and faces)."""
        return {track.track_id: track.boxes[-1] for track in self._live if track.last_step == self._step}

    @property
    def ended_track_ids(self) -> list[int]:
        """Ids of every track that ended in the latest `update` or `finish`, kept or discarded."""
        return list(self._ended_ids)

    def update(
        self, timestamp: datetime, boxes: Sequence[BBox], frame_image: BGRImage | None = None
    ) -> list[FinishedTrack]:
        """Add one analysed frame's boxes; returns the tracks that ended at this step."""
        if timestamp.tzinfo is None or timestamp.utcoffset() is None:
            raise ValueError(f"timestamp must be timezone-aware (UTC), got naive {timestamp!r}")
        if self._last_time is not None and timestamp < self._last_time:
            raise ValueError(f"timestamps must not go backwards: {timestamp} after {self._last_time}")
        for box in boxes:
            if box.area <= 0:
                raise ValueError(f"boxes must have a positive area, got {box}")
        self._last_time = timestamp
        self._step += 1

        # Greedy: take candidate pairs from the highest overlap down; each track and each
        # box is used at most once. Ties keep the older track (lower index) first.
        pairs = sorted(
            (
                (track.boxes[-1].iou(box), t, b)
                for t, track in enumerate(self._live)
                for b, box in enumerate(boxes)
            ),
            key=lambda pair: -pair[0],
        )
        matched_tracks: set[int] = set()
        matched_boxes: set[int] = set()
        for overlap, t, b in pairs:
            if overlap < self.settings.iou_threshold:
                break
            if t in matched_tracks or b in matched_boxes:
                continue
            self._live[t].add(self._step, timestamp, boxes[b], frame_image)
            matched_tracks.add(t)
            matched_boxes.add(b)

        ended: list[FinishedTrack] = []
        still_live: list[_LiveTrack] = []
        self._ended_ids = []
        for t, track in enumerate(self._live):
            if t not in matched_tracks:
                track.missed += 1
            if track.missed > self.settings.max_missed_frames:
                self._ended_ids.append(track.track_id)
                ended.extend(self._keep_if_real(track))
            else:
                still_live.append(track)
        for b, box in enumerate(boxes):
            if b not in matched_boxes:
                still_live.append(_LiveTrack(self._next_id, self._step, timestamp, box, frame_image))
                self._next_id += 1
        self._live = still_live
        return ended

    def finish(self) -> list[FinishedTrack]:
        """End every live track (end of stream); returns those long enough to keep."""
        ended = [done for track in self._live for done in self._keep_if_real(track)]
        self._ended_ids = [track.track_id for track in self._live]
        self._live = []
        return ended

    def _keep_if_real(self, track: _LiveTrack) -> list[FinishedTrack]:
        # Seen on too few frames: a flicker of light or noise, not an object.
        if len(track.boxes) < self.settings.min_track_frames:
            return []
        return [track.finished(self.camera_id)]
