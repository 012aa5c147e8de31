"""Video files decoded with PyAV into timestamped `Frame`s, sampled to an analysis frame rate.

Owns: checking and opening a file, threaded decoding, timestamping each frame from its pts,
sampling to `sample_fps`, and turning every problem with the file into a `SourceError` that
names it, so no raw PyAV exception reaches the pipeline.

Damaged files -- what can be read is read:
- `open()` raises when the file is missing, not a regular file, empty, has no video stream
  (text, still image, audio only), has a container header or index that cannot be read (an mp4
  cut before its ``moov`` box), or when not a single frame decodes.
- Otherwise iteration yields every frame that decodes; packets the decoder rejects and frames
  it flags as corrupt are skipped. When the stream is exhausted, iteration raises `SourceError`
  ("truncated or corrupt ... at 12.34 s") if anything was skipped, if the demuxer stopped on an
  error, or if the video ends well before the duration the container declares.
Only regular files are opened and demuxing is bounded by the file size, so reading never hangs.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Self, cast

import av
import numpy as np
from av.container import InputContainer
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream

from safecity.sources.errors import SourceError
from safecity.types import BGRImage, Frame

# Decoder output is in display order, but some files label it badly: AVI has no real pts, and
# MPEG-4 Part 2 with packed B-frames (old CCTV recorders) comes out labelled 1, 4, 6, 5, 7, ...
# Pairing the smallest pending label with the oldest pending frame, over a few frames, puts
# those right and changes nothing for well-labelled streams.
_REORDER_DEPTH = 4

# A video that ends this much before the duration its container declares was cut short.
# Generous, because declared durations are rounded and recorders drop the odd last frame.
_TRUNCATION_SLACK_FRAMES = 3
_TRUNCATION_SLACK_S = 0.5

# ISO-BMFF (mp4, mov, 3gp) files start with one of these boxes at byte 4.
_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide")


def _looks_like_video_container(head: bytes) -> bool:
    """True when the leading bytes are those of a video container.

    Used only after ffmpeg failed to open a file, to tell a damaged video ("truncated or
    corrupt") from a file that never was one ("no video stream").
    """
    return (
        head[4:8] in _BMFF_BOXES
        or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")
        or head[:4] == b"\x1a\x45\xdf\xa3"  # Matroska / WebM
        or head[:3] == b"FLV"
        or head[:4] == b"\x00\x00\x01\xba"  # MPEG program stream
        or head[:4] == b"\x30\x26\xb2\x75"  # ASF / WMV
        or (len(head) > 188 and head[0] == 0x47 and head[188] == 0x47)  # MPEG transport stream
    )


def _is_still_image_format(format_name: str) -> bool:
    # ffmpeg opens pictures as a one-frame "video" through image2 or a *_pipe demuxer
    # (jpeg_pipe, png_pipe, ...); a picture is not camera footage.
    return any(name == "image2" or name.endswith("_pipe") for name in format_name.split(","))


class FileSource:
    """Frames of one video file, timestamped from `start_time` and sampled to `sample_fps`.

    Use as ``with FileSource(path, "cam-1", start_time=t0, sample_fps=5.0) as src:`` then
    ``for frame in src: ...``. A source is read once, front to back.
    """

    def __init__(self, path: Path, camera_id: str, *, start_time: datetime, sample_fps: float | None) -> None:
        if not camera_id:
            raise ValueError("camera_id must be a non-empty string")
        if start_time.tzinfo is None or start_time.utcoffset() is None:
            raise ValueError(f"start_time must be timezone-aware (UTC), got naive {start_time!r}")
        if sample_fps is not None and not (math.isfinite(sample_fps) and sample_fps > 0):
            raise ValueError(f"sample_fps must be a positive number or None, got {sample_fps!r}")
        self.path = Path(path)
        self.camera_id = camera_id
        self.start_time = start_time
        self.sample_fps = sample_fps
        self.decoded_frames = 0
        """Frames the decoder produced (including dropped by sampling or flagged corrupt)."""
        self.yielded_frames = 0
        """Frames handed to the caller."""
        self.rejected_packets = 0
        """Packets the decoder refused as invalid data (their frames are lost)."""
        self.corrupt_frames = 0
        """Frames the decoder flagged as corrupt; not yielded."""
        self._container: InputContainer | None = None
        self._stream: VideoStream | None = None
        self._time_base = Fraction(1, 1)
        self._origin = 0
        self._frames_in: Iterator[VideoFrame] | None = None
        self._reformatter = VideoReformatter()
        self._iterated = False
        self._last_s: float | None = None
        self._damage: tuple[float, str] | None = None

    # -- opening and closing -------------------------------------------------------------

    def open(self) -> Self:
        """Open the file and decode its first frame; raises `SourceError` if it cannot be read."""
        if self._container is not None:
            return self
        self._check_file()
        try:
            container = av.open(str(self.path), mode="r")
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(self._open_failure(exc)) from exc
        try:
            stream = self._video_stream(container)
            # Frame threading: PyAV's default (slice threading) stays on one core for streams
            # with one slice per frame, which is what cameras write; AUTO uses all cores.
            stream.thread_type = "AUTO"
            self._container, self._stream = container, stream
            self._time_base = stream.time_base or Fraction(1, 90_000)
            self._origin = stream.start_time if stream.start_time is not None else 0
            decoded = self._decode(container, stream)
            # Decode the first frame now so that a file with nothing decodable fails here.
            first = next(decoded, None)
        except BaseException:
            self._container = self._stream = None
            container.close()
            raise
        if first is None:
            self.close()
            raise SourceError(
                f"{self.path}: truncated or corrupt: no frame could be decoded{self._damage_note()}"
            )
        if stream.start_time is None and first.pts is not None:
            self._origin = first.pts
        self._frames_in = itertools.chain([first], decoded)
        return self

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = None
        self._stream = None
        self._frames_in = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_file(self) -> None:
        # Checked before ffmpeg sees the path: clearer messages, and a FIFO or device node
        # (not a regular file) could block the reader forever.
        if not self.path.exists():
            raise SourceError(f"{self.path}: does not exist")
        if self.path.is_dir():
            raise SourceError(f"{self.path}: is a directory, not a video file")
        if not self.path.is_file():
            raise SourceError(f"{self.path}: is not a regular file")
        if self.path.stat().st_size == 0:
            raise SourceError(f"{self.path}: is empty (0 bytes)")

    def _open_failure(self, exc: BaseException) -> str:
        if isinstance(exc, PermissionError):
            return f"{self.path}: cannot be read: permission denied"
        reason = getattr(exc, "strerror", None) or str(exc)
        try:
            with self.path.open("rb") as fh:
                head = fh.read(512)
        except OSError:
            head = b""
        if _looks_like_video_container(head):
            return f"{self.path}: truncated or corrupt: container header or index unreadable ({reason})"
        return f"{self.path}: no video stream: not a video format ffmpeg recognises ({reason})"

    def _video_stream(self, container: InputContainer) -> VideoStream:
        format_name = container.format.name
        if _is_still_image_format(format_name):
            raise SourceError(f"{self.path}: no video stream: it is a still image ({format_name})")
        for stream in container.streams.video:
            # Cover art of an audio file appears as a one-picture video stream.
            if not stream.disposition & Disposition.attached_pic:
                return stream
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "none"
        raise SourceError(f"{self.path}: no video stream (streams found: {kinds})")

    # -- what the stream declares ----------------------------------------------------------

    def _require_stream(self) -> tuple[InputContainer, VideoStream]:
        if self._container is None or self._stream is None:
            raise RuntimeError(f"FileSource {self.path} is not open: call open() or use 'with'")
        return self._container, self._stream

    @property
    def fps(self) -> float | None:
        """Average frame rate of the stream; None when the file does not say."""
        _, stream = self._require_stream()
        rate = stream.average_rate or stream.guessed_rate
        return float(rate) if rate else None

    @property
    def duration_s(self) -> float | None:
        """Duration of the video stream (or the whole container) in seconds; None if unknown."""
        container, stream = self._require_stream()
        if stream.duration:
            return float(stream.duration * self._time_base)
        if container.duration:
            return container.duration / av.time_base
        return None

    @property
    def frame_count(self) -> int | None:
        """Frames the stream declares, else an estimate from duration x fps; None if unknown."""
        _, stream = self._require_stream()
        if stream.frames > 0:
            return stream.frames
        duration, fps = self.duration_s, self.fps
        return round(duration * fps) if duration and fps else None

    @property
    def width(self) -> int:
        return self._require_stream()[1].width

    @property
    def height(self) -> int:
        return self._require_stream()[1].height

    # -- reading ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Frame]:
        if self._frames_in is None:
            raise RuntimeError(f"FileSource {self.path} is not open: call open() or use 'with'")
        if self._iterated:
            raise RuntimeError(f"FileSource {self.path} was already read; a source is read once")
        self._iterated = True
        return self._frames(self._frames_in)

    def _frames(self, decoded: Iterator[VideoFrame]) -> Iterator[Frame]:
        fps = self.fps
        frame_ticks = max(1, round(1 / (fps * self._time_base))) if fps else 1
        interval = 1.0 / self.sample_fps if self.sample_fps is not None else None
        # A quarter frame of tolerance, so that 25 -> 5 fps keeps exactly every 5th frame
        # even when a pts rounds to just below the sample time.
        eps = 0.25 / fps if fps else 0.0
        if interval is not None:
            eps = min(eps, interval / 4)
        next_sample_s: float | None = None
        last_ticks: int | None = None
        for index, (vf, ticks) in enumerate(self._relabelled(decoded, frame_ticks)):
            if last_ticks is not None and ticks <= last_ticks:
                # Still out of order after relabelling: keep time moving forward.
                ticks = last_ticks + frame_ticks
            last_ticks = ticks
            self._origin = min(self._origin, ticks)
            pts_s = float((ticks - self._origin) * self._time_base)
            self._last_s = pts_s
            if vf.is_corrupt:
                self.corrupt_frames += 1
                self._note_damage(pts_s, "the decoder flagged a frame as corrupt")
                continue
            if interval is not None:
                if next_sample_s is not None and pts_s < next_sample_s - eps:
                    continue  # dropped before the (costly) conversion to BGR
                next_sample_s = (pts_s if next_sample_s is None else next_sample_s) + interval
                if next_sample_s <= pts_s:  # after a gap, restart the grid here
                    next_sample_s = pts_s + interval
            # One reformatter for the whole stream: `VideoFrame.to_ndarray(format=...)` builds a
            # new swscale context per frame, which made conversion 1.5-3x slower at 720p.
            # Rows are padded when the width is not a multiple of the line alignment; analysers
            # and encoders expect contiguous images (a no-op for aligned widths such as 1280).
            try:
                bgr = self._reformatter.reformat(vf, format="bgr24").to_ndarray()
            except (av.FFmpegError, ValueError) as exc:
                raise SourceError(
                    f"{self.path}: the frame at {pts_s:.2f} s ({vf.format.name}) cannot be converted "
                    f"to BGR: {_reason(exc)}"
                ) from exc
            image = cast(BGRImage, np.ascontiguousarray(bgr))
            self.yielded_frames += 1
            yield Frame(
                camera_id=self.camera_id,
                index=index,
                pts_s=pts_s,
                timestamp=self.start_time + timedelta(seconds=pts_s),
                image=image,
            )
        self._raise_if_incomplete(fps)

    def _relabelled(
        self, decoded: Iterator[VideoFrame], frame_ticks: int
    ) -> Iterator[tuple[VideoFrame, int]]:
        """Decoded frames with their pts, the labels sorted over a small window (see top)."""
        pending: deque[VideoFrame] = deque()
        labels: list[int] = []
        newest: int | None = None
        for vf in decoded:
            if vf.pts is not None:
                pts = vf.pts
            else:
                pts = newest + frame_ticks if newest is not None else self._origin
            newest = pts if newest is None else max(newest, pts)
            pending.append(vf)
            heapq.heappush(labels, pts)
            if len(pending) > _REORDER_DEPTH:
                yield pending.popleft(), heapq.heappop(labels)
        while pending:
            yield pending.popleft(), heapq.heappop(labels)

    def _decode(self, container: InputContainer, stream: VideoStream) -> Iterator[VideoFrame]:
        """Every frame the decoder produces, in display order; damage is noted, not raised."""
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return  # PyAV's last packets were empty ones that flushed the decoder
            except (av.FFmpegError, OSError) as exc:
                self._note_damage(self._last_s or 0.0, f"reading stopped ({_reason(exc)})")
                break
            try:
                frames = packet.decode()
            except (av.FFmpegError, OSError) as exc:
                self.rejected_packets += 1
                ticks = packet.pts if packet.pts is not None else packet.dts
                at = float((ticks - self._origin) * self._time_base) if ticks is not None else None
                self._note_damage(
                    at if at is not None else self._last_s or 0.0,
                    f"the decoder rejected a packet ({_reason(exc)})",
                )
                continue
            for vf in frames:
                self.decoded_frames += 1
                yield vf
        # The demuxer gave up: drain the frames still inside the (threaded) decoder.
        try:
            frames = stream.decode(None)
        except (av.FFmpegError, OSError):
            frames = []
        for vf in frames:
            self.decoded_frames += 1
            yield vf

    # -- damage ----------------------------------------------------------------------------

    def _note_damage(self, at_s: float, what: str) -> None:
        if self._damage is None:
            self._damage = (max(0.0, at_s), what)

    def _damage_note(self) -> str:
        if self._damage is None:
            return ""
        at_s, what = self._damage
        return f"; first damage at {at_s:.2f} s: {what}"

    def _raise_if_incomplete(self, fps: float | None) -> None:
        if self._damage is not None:
            at_s, what = self._damage
            raise SourceError(
                f"{self.path}: truncated or corrupt at {at_s:.2f} s: {what}; "
                f"{self.rejected_packets} packet(s) rejected, {self.corrupt_frames} corrupt frame(s), "
                f"{self.yielded_frames} frame(s) read"
            )
        declared = self._declared_end_s(fps)
        if declared is None or self._last_s is None:
            return
        frame_s = 1.0 / fps if fps else 0.0
        ended = self._last_s + frame_s
        slack = max(_TRUNCATION_SLACK_FRAMES * frame_s, _TRUNCATION_SLACK_S)
        if ended < declared - slack:
            raise SourceError(
                f"{self.path}: truncated or corrupt at {ended:.2f} s: the video stops there but "
                f"the file declares {declared:.2f} s; {self.yielded_frames} frame(s) read"
            )

    def _declared_end_s(self, fps: float | None) -> float | None:
        # Both the duration and the frame count a header declares: a truncated AVI without
        # its index rewrites the duration from what it found but keeps the header's count.
        _, stream = self._require_stream()
        candidates = [self.duration_s or 0.0]
        if stream.frames > 0 and fps:
            candidates.append(stream.frames / fps)
        end = max(candidates)
        return end if end > 0 else None


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc)
