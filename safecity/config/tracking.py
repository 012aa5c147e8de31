"""Motion tracking: the `[tracking]` section (`TrackingSettings`), the greedy IoU tracker that turns
per-frame blobs into motion tracks.
"""

from __future__ import annotations

from pydantic import Field

from safecity.config.base import SectionModel


class TrackingSettings(SectionModel):
    """Greedy IoU tracker that turns per-frame blobs into motion tracks."""

    iou_threshold: float = Field(0.2, gt=0, lt=1, description="Minimum overlap to continue a track.")
    max_missed_frames: int = Field(3, ge=0, description="Analysed frames a track may go unseen.")
    min_track_frames: int = Field(3, ge=1, description="Tracks seen on fewer frames are discarded as noise.")
