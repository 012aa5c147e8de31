"""Start time of a recording: container creation_time, else mtime minus duration."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from videos import square_clip

from safecity.sources.probe import guess_start_time


def test_without_metadata_start_is_mtime_minus_duration(tmp_path: Path) -> None:
    clip = tmp_path / "plain.mp4"
    square_clip(clip, frames=50)  # 2 s at 25 fps, no creation_time
    end = datetime(2026, 3, 2, 8, 0, 2, tzinfo=UTC)
    os.utime(clip, (end.timestamp(), end.timestamp()))
    assert abs((guess_start_time(clip) - datetime(2026, 3, 2, 8, 0, tzinfo=UTC)).total_seconds()) < 0.1


def test_unreadable_file_falls_back_to_mtime(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a video")
    assert guess_start_time(junk) == datetime.fromtimestamp(junk.stat().st_mtime, tz=UTC)
