"""Wall-clock timestamps for frames of a live stream.

Owns the mapping from a stream's presentation times (pts) to UTC datetimes. RTSP usually carries
no absolute time a client can trust (RTCP sender reports, which PyAV exposes as
`start_time_realtime`, are optional, arrive seconds late, and camera clocks are often wrong),
HTTP MJPEG carries none at all, so:

- a connection's first frame is *anchored* at the wall-clock time it arrived, and every later
  frame is that anchor plus its pts distance from the anchoring frame: frame spacing comes from
  the camera's own clock, not from network jitter;
- when the pts jump backwards, or forwards by more than `max_jump_s` (the camera rebooted, its
  encoder restarted, the server looped a file, a long gap), the clock re-anchors at that frame's
  arrival and counts it in `reanchors`;
- frames without a pts get the previous frame's time plus one frame interval, or their arrival
  time when there is no previous frame (then the first frame with a pts follows them one frame
  interval later); untimed streams (MJPEG: pass no stream time) use arrival time throughout.

So timestamps lag the true capture time by the camera's encode + network latency at the anchor
(typically well under a second), and are monotonic for one source across reconnects.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

# Small backward steps (a B-frame mislabelled, RTCP re-synchronisation) are absorbed by keeping
# time moving forward; only a larger step means the stream restarted its clock.
_BACKWARD_SLACK_S = 0.5
_MIN_STEP = timedelta(microseconds=1)


class StreamClock:
    """Timestamps for one source; `connect()` at each new connection, `stamp()` per frame."""

    def __init__(self, *, max_jump_s: float = 5.0) -> None:
        if not (math.isfinite(max_jump_s) and max_jump_s > 0):
            raise ValueError(f"max_jump_s must be a positive number, got {max_jump_s!r}")
        self.max_jump_s = max_jump_s
        self.reanchors = 0
        """Times the pts jumped within a connection and the clock re-anchored."""
        self.origin: datetime | None = None
        """Timestamp of the source's first frame; `pts_s` counts from it."""
        self._anchor: tuple[datetime, float] | None = None
        self._prev_t: float | None = None
        self._last: datetime | None = None
        self._untimed_last: datetime | None = None

    def connect(self) -> None:
        """A new connection: the next frame anchors afresh (not counted as a re-anchor)."""
        self._anchor = None
        self._prev_t = None
        self._untimed_last = None

    def stamp(self, stream_t: float | None, arrival: datetime, frame_s: float | None = None) -> datetime:
        """The UTC timestamp of a frame with stream time `stream_t` (seconds) that arrived at `arrival`.

        `frame_s` is the nominal frame interval, used to place a frame that has no pts.
        """
        if stream_t is None and self._prev_t is not None and frame_s:
            stream_t = self._prev_t + frame_s
        if stream_t is None:
            when = arrival
        else:
            prev = self._prev_t
            if self._anchor is None or prev is None:
                if self._untimed_last is not None and frame_s:
                    # The connection began with frames without pts (ffmpeg's RTSP demuxer gives
                    # the first keyframe none): carry on one frame interval after them.
                    self._anchor = (self._untimed_last + timedelta(seconds=frame_s), stream_t)
                else:
                    self._anchor = (arrival, stream_t)
            elif stream_t < prev - _BACKWARD_SLACK_S or stream_t > prev + self.max_jump_s:
                self.reanchors += 1
                self._anchor = (arrival, stream_t)
            anchor_time, anchor_t = self._anchor
            when = anchor_time + timedelta(seconds=stream_t - anchor_t)
            self._prev_t = stream_t
        # Monotonic per source, even across reconnects and wall-clock steps.
        if self._last is not None and when <= self._last:
            when = self._last + _MIN_STEP
        self._last = when
        if stream_t is None and self._anchor is None:
            self._untimed_last = when
        if self.origin is None:
            self.origin = when
        return when

    def seconds(self, when: datetime) -> float:
        """Seconds from the source's first frame to `when` (the frame's `pts_s`)."""
        return (when - self.origin).total_seconds() if self.origin is not None else 0.0
