"""Camera health as the runtime sees it: rates, queue, drops, reconnects, lag, state; offline alerts.

Workers build a `CameraHealth` per camera from its source's status and its pipeline's counters
and send them to the main process every `streams.status_interval_s`; `/metrics`, `/status` and
`safecity status` show the latest. `OfflineWatch` turns a camera that stays out of the live
state longer than `streams.offline_alert_s` into one camera-health alert per outage.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from safecity.types import Alert, AlertKind, new_id


@dataclass(frozen=True, slots=True)
class CameraHealth:
    camera_id: str
    worker: int
    state: str
    since: datetime
    url: str
    """The stream URL with its password hidden."""
    last_error: str | None
    input_fps: float
    """Frames decoded per second (before sampling), over the last few seconds."""
    analysed_fps: float
    queue_depth: int
    dropped: int
    reconnects: int
    decode_errors: int
    frames_analysed: int
    observations: int
    lag_s: float | None
    """Wall clock minus the timestamp of the last analysed frame (None before the first)."""
    last_frame_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("since", "last_frame_at"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


class RateMeter:
    """Events per second over a sliding window (monotonic clock)."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._events: deque[tuple[float, int]] = deque()

    def add(self, count: int = 1, at: float | None = None) -> None:
        self._events.append((time.monotonic() if at is None else at, count))

    def rate(self, at: float | None = None) -> float:
        now = time.monotonic() if at is None else at
        while self._events and self._events[0][0] < now - self.window_s:
            self._events.popleft()
        return sum(c for _, c in self._events) / self.window_s


class OfflineWatch:
    """One alert per outage: raised once a camera has been out of `live` for `threshold_s`."""

    def __init__(self, threshold_s: float) -> None:
        self.threshold = timedelta(seconds=threshold_s)
        self._alerted: set[str] = set()

    def check(self, health: CameraHealth, now: datetime | None = None) -> Alert | None:
        now = now or datetime.now(UTC)
        if health.state == "live":
            self._alerted.discard(health.camera_id)
            return None
        if health.camera_id in self._alerted or now - health.since < self.threshold:
            return None
        self._alerted.add(health.camera_id)
        minutes = (now - health.since).total_seconds() / 60
        reason = f": {health.last_error}" if health.last_error else ""
        return Alert(
            id=new_id(),
            kind=AlertKind.CAMERA_HEALTH,
            camera_id=health.camera_id,
            timestamp=now,
            message=f"camera {health.camera_id} {health.state} for {minutes:.1f} min{reason}",
        )

    def forget(self, camera_id: str) -> None:
        self._alerted.discard(camera_id)
