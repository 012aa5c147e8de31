"""Pick the source for a camera's stream address: a video file, or a live RTSP/HTTP(S) stream.

Both kinds are used the same way -- ``with open_source(...) as src: for frame in src: ...`` --
a file ends at its end, a live source when it is stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from safecity.config import redact_url
from safecity.sources.backoff import Backoff
from safecity.sources.file import FileSource
from safecity.sources.live import LIVE_SCHEMES, LiveSource, SourceStatus, Transport
from safecity.sources.probe import guess_start_time

__all__ = ["file_path", "is_live", "open_source"]


def is_live(location: str | Path) -> bool:
    """True for rtsp://, rtsps://, http:// and https:// addresses."""
    return isinstance(location, str) and urlsplit(location).scheme.lower() in LIVE_SCHEMES


def file_path(location: str | Path) -> Path:
    """The local path of a plain path or a file:// URL; ValueError for any other URL."""
    if isinstance(location, Path):
        return location
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"{location}: file:// URLs must name a local file (no host)")
        return Path(unquote(parts.path))
    # One letter before ':' is a Windows drive, not a scheme.
    if scheme and len(scheme) > 1:
        raise ValueError(
            f"{redact_url(location)}: unsupported stream address; expected a file path, file://, "
            f"{', '.join(f'{s}://' for s in sorted(LIVE_SCHEMES))}"
        )
    return Path(location)


def open_source(
    location: str | Path,
    camera_id: str,
    *,
    sample_fps: float | None,
    start_time: datetime | None = None,
    transport: Transport = "tcp",
    queue_size: int = 8,
    stall_timeout_s: float = 10.0,
    open_timeout_s: float = 10.0,
    backoff: Backoff | None = None,
    on_status: Callable[[SourceStatus], None] | None = None,
) -> FileSource | LiveSource:
    """A `LiveSource` for a live URL, else a `FileSource` (not yet opened or started).

    A file's frames are timestamped from `start_time`, or, when it is None, from the recording's
    own creation time (see `guess_start_time`). The live-only options are ignored for files.
    """
    if is_live(location):
        assert isinstance(location, str)
        return LiveSource(
            camera_id,
            location,
            sample_fps=sample_fps,
            transport=transport,
            queue_size=queue_size,
            stall_timeout_s=stall_timeout_s,
            open_timeout_s=open_timeout_s,
            backoff=backoff,
            on_status=on_status,
        )
    path = file_path(location)
    if start_time is None:
        # A missing file fails clearly in FileSource.open(); its start time does not matter.
        start_time = guess_start_time(path) if path.is_file() else datetime.now(UTC)
    return FileSource(path, camera_id, start_time=start_time, sample_fps=sample_fps)
