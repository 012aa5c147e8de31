"""Video: the `[recording]` section (`RecordingSettings`): where segments go, how long they are, how
long each recording mode keeps them, the clip kept around every alert, and the live view.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pydantic import Field, model_validator

from safecity.config.base import SectionModel


class RecordingSettings(SectionModel):
    """Recording and live view; a camera's `recording` mode (registry) says whether it records."""

    path: Path | None = Field(None, description="Folder of the segment files; default <data_dir>/recordings.")
    segment_s: float = Field(
        60.0,
        ge=2.0,
        le=3600.0,
        description="Length of a segment file; a new one starts at the first keyframe after this.",
    )
    fragment_ms: int = Field(
        500,
        ge=40,
        le=10_000,
        description=(
            "A segment is written in fragments this long, so a recorder killed mid-segment loses at "
            "most this much; the live view is sent in fragments of `live_fragment_ms`."
        ),
    )
    continuous_days: int = Field(7, ge=1, le=3650, description="Days continuous recordings are kept.")
    motion_days: int = Field(14, ge=1, le=3650, description="Days motion recordings are kept.")
    events_days: int = Field(30, ge=1, le=3650, description="Days event recordings are kept.")
    undecided_s: float = Field(
        600.0,
        ge=60.0,
        le=86400.0,
        description=(
            "In `motion` and `events` mode every segment is written, and one in which nothing moved "
            "(motion) or happened (events: a plate read, face sighting or alert) is deleted by the "
            "sweep once it is this old: the analysis may still be catching up before that."
        ),
    )
    pre_s: float = Field(10.0, ge=0.0, le=600.0, description="Seconds before an alert its clip starts.")
    post_s: float = Field(20.0, ge=0.0, le=600.0, description="Seconds after an alert its clip ends.")
    max_clip_s: float = Field(
        900.0, ge=10.0, le=86400.0, description="Longest span one playback or clip request may cover."
    )
    clip_cache_s: float = Field(
        600.0,
        ge=10.0,
        le=86400.0,
        description=(
            "A clip made for a viewer is kept this long, so the player's range requests and seeks "
            "reuse it (one audit entry per clip and viewer, not one per request)."
        ),
    )
    export_detect_every: int = Field(
        5,
        ge=1,
        le=50,
        description=(
            "An exported clip is searched for faces (to blur them) in every this-many-th frame; a "
            "face found is blurred from the searched frame before to the one after. 1 searches "
            "every frame (about 130 ms per 720p frame)."
        ),
    )
    export_crf: int = Field(
        23, ge=0, le=51, description="x264 quality of an exported clip (lower: better and larger)."
    )
    live_fragment_ms: int = Field(
        200, ge=40, le=5000, description="Fragment length of the live view: latency grows with it."
    )
    live_idle_s: float = Field(
        10.0,
        ge=0.0,
        le=600.0,
        description="A camera's live connection stays open this long after its last viewer leaves.",
    )
    live_max_viewers: int = Field(
        32, ge=1, le=1000, description="Viewers of one camera at once; one more is refused (503)."
    )
    live_max_s: float = Field(
        3600.0,
        ge=10.0,
        le=86400.0,
        description="One live view ends after this long (a new view is a new audit entry).",
    )
    live_jpeg_fps: float = Field(
        5.0,
        gt=0,
        le=30,
        description=(
            "A camera that does not send H.264 (H.265, MJPEG) is shown live as JPEG images this many "
            "a second (decoded once per camera, whatever the number of viewers)."
        ),
    )
    live_jpeg_width: int = Field(
        960, ge=160, le=3840, description="Those images are scaled to at most this wide."
    )
    live_jpeg_quality: int = Field(80, ge=10, le=100, description="JPEG quality of those images.")
    open_timeout_s: float = Field(10.0, gt=0, le=120, description="Seconds to wait for a camera to answer.")
    stall_timeout_s: float = Field(
        10.0, gt=0, le=600, description="A connection that delivers nothing this long is reconnected."
    )

    @model_validator(mode="after")
    def _fragments_shorter_than_segments(self) -> RecordingSettings:
        if self.fragment_ms / 1000 >= self.segment_s:
            raise ValueError(
                f"fragment_ms {self.fragment_ms} must be shorter than segment_s {self.segment_s} s"
            )
        return self

    def alert_span(self, at: datetime) -> tuple[datetime, datetime]:
        """The clip of an alert seen at `at`: from `pre_s` before to `post_s` after."""
        return at - timedelta(seconds=self.pre_s), at + timedelta(seconds=self.post_s)

    def kept_days(self, mode: str, camera_retention_days: int) -> int:
        """Days a camera's recordings in `mode` are kept: the mode's days, never beyond the camera's
        published retention."""
        return min(self.days(mode), camera_retention_days)

    def days(self, mode: str) -> int:
        """Days a segment written in `mode` is kept (continuous, motion or events)."""
        by_mode = {"continuous": self.continuous_days, "motion": self.motion_days, "events": self.events_days}
        if mode not in by_mode:
            raise ValueError(f"unknown recording mode {mode!r}; one of {', '.join(by_mode)}")
        return by_mode[mode]
