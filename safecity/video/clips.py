"""Clips from recorded segments: a span of a camera's video remuxed (not decoded) into one MP4 that a
browser plays and seeks in (`moov` first), across as many segments as the span covers.

The clip starts at the last keyframe at or before the asked start (a clip that began between
keyframes would show nothing until the next one), so it may start up to one keyframe interval
early; it ends with the last packet decoded before the asked end (so a frame it shows never lacks
the frame it was predicted from). Gaps between segments (a camera that
was down) are kept as gaps in the timeline.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import av
from av.packet import Packet
from av.video.stream import VideoStream

from safecity.store.recordings import RecordingStore, Segment


class NoVideo(LookupError):
    """No recorded video covers the span asked for."""


@dataclass(frozen=True, slots=True)
class Clip:
    path: Path
    start: datetime
    """The time of the clip's first frame."""
    end: datetime
    segments: int


def write_clip(
    store: RecordingStore, segments: Sequence[Segment], since: datetime, until: datetime, out: Path
) -> Clip:
    """Remux the parts of `segments` within [since, until) into `out` (MP4, faststart)."""
    if until <= since:
        raise ValueError(f"a clip must end after it starts ({since.isoformat()} to {until.isoformat()})")
    chosen = sorted((s for s in segments if s.overlaps(since, until)), key=lambda s: s.start)
    if not chosen:
        raise NoVideo(f"no recorded video between {since.isoformat()} and {until.isoformat()}")
    output = av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"})
    out_stream = None
    origin: datetime | None = None
    last_dts_s: float | None = None
    end_s = 0.0
    used = 0
    try:
        for segment in chosen:
            try:
                source = av.open(str(store.file(segment)))
            except (av.FFmpegError, OSError, ValueError):
                continue  # a file deleted by retention meanwhile: the clip has a gap there
            with source:
                if not source.streams.video:
                    continue
                stream = source.streams.video[0]
                time_base = stream.time_base
                assert time_base is not None
                if out_stream is None:
                    out_stream = output.add_stream_from_template(stream)
                    out_stream.time_base = time_base
                used += 1
                pending: list[Packet[VideoStream]] = []
                seg_first: int | None = None
                for packet in source.demux(stream):
                    if packet.pts is None or packet.dts is None:
                        continue
                    if seg_first is None:
                        seg_first = packet.dts
                    at = segment.start + timedelta(seconds=float((packet.pts - seg_first) * time_base))
                    # Stop in decode order: a frame shown before `until` may need one shown after it.
                    if (
                        segment.start + timedelta(seconds=float((packet.dts - seg_first) * time_base))
                        >= until
                    ):
                        break
                    if origin is None:
                        if packet.is_keyframe:
                            pending = [packet]
                        elif pending:
                            pending.append(packet)
                        if at < since or not pending:
                            continue  # before the start, or no keyframe yet to start from
                        first_pts = pending[0].pts
                        assert first_pts is not None
                        origin = segment.start + timedelta(seconds=float((first_pts - seg_first) * time_base))
                    else:
                        pending = [packet]
                    # Seconds from the clip's first frame to this segment's first packet.
                    shift = (segment.start - origin).total_seconds()
                    for p in pending:
                        assert p.pts is not None and p.dts is not None
                        dts_s = shift + float((p.dts - seg_first) * time_base)
                        pts_s = shift + float((p.pts - seg_first) * time_base)
                        if last_dts_s is not None and dts_s <= last_dts_s:
                            continue  # overlapping segments: never go back in time
                        p.dts = round(dts_s / time_base)
                        p.pts = round(pts_s / time_base)
                        p.time_base = time_base
                        p.stream = out_stream
                        output.mux(p)
                        last_dts_s = dts_s
                        end_s = max(end_s, pts_s + float((p.duration or 0) * time_base))
                    pending = []
        if out_stream is None or origin is None:
            raise NoVideo(f"no recorded video between {since.isoformat()} and {until.isoformat()}")
    finally:
        try:
            output.close()
        except (av.FFmpegError, OSError, ValueError):
            if origin is not None:
                raise
    return Clip(out, origin, origin + timedelta(seconds=end_s), used)


class ClipCache:
    """Clips made for viewers, kept `ttl_s` so that a player's range requests reuse one clip.

    A clip is filed under a key of who asked for which camera and span: another viewer of the same
    span gets a clip (and an audit entry) of their own."""

    def __init__(self, folder: Path, ttl_s: float) -> None:
        self.folder = folder
        self.ttl_s = ttl_s
        self._lock = threading.Lock()

    def path(self, *key: str) -> Path:
        digest = hashlib.sha256("\x00".join(key).encode()).hexdigest()[:40]
        return self.folder / f"{digest}.mp4"

    def get(self, *key: str) -> Path | None:
        """The cached clip of `key`, if made within `ttl_s`."""
        path = self.path(*key)
        try:
            fresh = time.time() - path.stat().st_mtime < self.ttl_s
        except FileNotFoundError:
            return None
        return path if fresh else None

    def make(self, write: Callable[[Path], Clip], *key: str) -> Clip:
        """Write a clip with `write(temporary path)`, then file it under `key` (whole or not at all)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.prune()
        handle, temp = tempfile.mkstemp(prefix=".clip-", suffix=".mp4", dir=self.folder)
        os.close(handle)
        try:
            clip = write(Path(temp))
            final = self.path(*key)
            os.replace(temp, final)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return Clip(final, clip.start, clip.end, clip.segments)

    def prune(self) -> None:
        """Delete clips older than `ttl_s` (a clip is personal data: it is not kept beyond use)."""
        cutoff = time.time() - self.ttl_s
        with self._lock:
            for path in self.folder.glob("*.mp4"):
                with contextlib.suppress(FileNotFoundError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
