"""Container metadata a source needs before decoding: when the recording started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import av


def guess_start_time(path: Path) -> datetime:
    """Wall-clock time of the first frame: the container's creation_time, else the file's mtime.

    The mtime of a finished recording is its end, so the duration is subtracted from it.
    """
    try:
        with av.open(str(path)) as container:
            created = container.metadata.get("creation_time")
            duration_s = (container.duration or 0) / av.time_base
    except (av.error.FFmpegError, OSError):
        created, duration_s = None, 0.0
    if created:
        try:
            parsed = datetime.fromisoformat(created.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    mtime = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return mtime - timedelta(seconds=duration_s)
