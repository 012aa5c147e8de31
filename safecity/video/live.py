"""The live view: a camera's packets remuxed once into fragmented MP4 that every viewer shares.

The browser plays it with Media Source Extensions: first the init segment (`ftyp` `moov`), then
fragments (`moof` `mdat`) of `recording.live_fragment_ms`. A viewer who joins gets the init
segment and the fragments since the last keyframe, so the picture starts at once; nothing is
decoded or encoded per viewer. A viewer too slow to keep up (its queue full) is dropped rather
than holding memory: the page reconnects. When the camera's connection re-opens, the stream
starts anew (new init segment), so current viewers are ended and reconnect.

A camera that does not send H.264 (which every browser's MSE plays) is shown as JPEG images
instead, a few a second (`recording.live_jpeg_fps`); the page tells them apart by their first bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import queue
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import av
from av.container import OutputContainer
from av.packet import Packet
from av.video.stream import VideoStream

from safecity.config import RecordingSettings
from safecity.video.boxes import BoxSplitter, sample_count
from safecity.video.jpeg import JpegFrames
from safecity.video.segments import fragmented_mp4_options

MIME = 'video/mp4; codecs="avc1.640028"'
"""What the page asks Media Source Extensions for; the real profile comes in the init segment."""

_END = b""


@dataclass(frozen=True, slots=True)
class JpegSettings:
    """The live view of a camera that does not send H.264: JPEG images (`recording.live_jpeg_*`)."""

    fps: float
    width: int
    quality: int

    @staticmethod
    def of(settings: RecordingSettings) -> JpegSettings:
        return JpegSettings(settings.live_jpeg_fps, settings.live_jpeg_width, settings.live_jpeg_quality)


class _Writer(io.RawIOBase):
    """The muxer's output: bytes go to the box splitter, never to a file."""

    def __init__(self, sink: LiveStream) -> None:
        self._sink = sink
        self._written = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._written

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = bytes(data)
        self._written += len(chunk)
        self._sink._bytes(chunk)
        return len(chunk)


@dataclass(eq=False)
class Viewer:
    """One viewer's queue of MP4 bytes; iterate it to stream them (ends when dropped or closed)."""

    queue: queue.Queue[bytes]
    stream: LiveStream
    closed: threading.Event = field(default_factory=threading.Event)
    waker: Callable[[], None] | None = None
    """Called (from the camera's thread) after each chunk is queued: wakes an async consumer."""

    def wake(self) -> None:
        if self.waker is not None:
            self.waker()

    def chunks(self, timeout_s: float) -> Iterator[bytes]:
        """The bytes as they come; ends when the viewer is closed, dropped, or nothing came for
        `timeout_s` (the camera is down)."""
        try:
            while not self.closed.is_set():
                try:
                    chunk = self.queue.get(timeout=timeout_s)
                except queue.Empty:
                    return
                if chunk is _END:
                    return
                yield chunk
        finally:
            self.stream.leave(self)

    async def achunks(self, timeout_s: float) -> AsyncIterator[bytes]:
        """As `chunks`, for an event loop: waiting holds no thread, so a wall of live views does
        not take the server's worker threads."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(ready.set)

        self.waker = wake
        try:
            while not self.closed.is_set():
                try:
                    chunk = self.queue.get_nowait()
                except queue.Empty:
                    ready.clear()
                    if self.queue.empty():  # a chunk queued before clear() would be missed
                        try:
                            await asyncio.wait_for(ready.wait(), timeout_s)
                        except TimeoutError:
                            return
                    continue
                if chunk is _END:
                    return
                yield chunk
        finally:
            self.waker = None
            self.stream.leave(self)


class LiveStream:
    """A `PacketSink` that muxes one camera's packets into shared fragmented MP4."""

    def __init__(
        self,
        camera_id: str,
        *,
        fragment_ms: int,
        max_viewers: int,
        queue_fragments: int = 150,
        jpeg: JpegSettings | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.jpeg = jpeg or JpegSettings.of(RecordingSettings())
        self._images: JpegFrames | None = None
        self._last_image: bytes | None = None
        self.fragment_ms = fragment_ms
        self.max_viewers = max_viewers
        self.queue_fragments = queue_fragments
        self._lock = threading.RLock()
        self._viewers: list[Viewer] = []
        self._output: OutputContainer | None = None
        self._out_stream: VideoStream | None = None
        self._splitter = BoxSplitter()
        self._init: bytes | None = None
        self._init_parts: list[bytes] = []
        self._pending_moof: bytes | None = None
        self._keys: deque[bool] = deque()
        self._gop: list[bytes] = []
        self._started = False

    # -- viewers --------------------------------------------------------------------------------

    def join(self) -> Viewer | None:
        """A new viewer, fed from the last keyframe; None when the camera has `max_viewers` already."""
        with self._lock:
            if len(self._viewers) >= self.max_viewers:
                return None
            viewer = Viewer(queue.Queue(self.queue_fragments + 2), self)
            if self._last_image is not None:
                viewer.queue.put_nowait(self._last_image)
            if self._init is not None:
                viewer.queue.put_nowait(self._init)
                for fragment in self._gop[-self.queue_fragments :]:
                    viewer.queue.put_nowait(fragment)
            self._viewers.append(viewer)
            return viewer

    def leave(self, viewer: Viewer) -> None:
        with self._lock:
            viewer.closed.set()
            if viewer in self._viewers:
                self._viewers.remove(viewer)

    @property
    def viewers(self) -> int:
        with self._lock:
            return len(self._viewers)

    def end_all(self) -> None:
        with self._lock:
            for viewer in self._viewers:
                viewer.closed.set()
                with contextlib.suppress(queue.Full):
                    viewer.queue.put_nowait(_END)
                viewer.wake()
            self._viewers.clear()

    # -- PacketSink -----------------------------------------------------------------------------

    def opened(self, stream: VideoStream) -> None:
        with self._lock:
            self._reset()
            if stream.codec_context.name != "h264":  # browsers' MSE plays H.264 only, everywhere
                j = self.jpeg
                self._images = JpegFrames(stream, fps=j.fps, width=j.width, quality=j.quality)
                return
            self._output = av.open(
                _Writer(self), "w", format="mp4", options=fragmented_mp4_options(self.fragment_ms)
            )
            self._out_stream = self._output.add_stream_from_template(stream)

    def packet(self, packet: Packet[VideoStream], arrival: datetime) -> None:
        with self._lock:
            if self._images is not None:
                image = self._images.packet(packet)
                if image is not None:
                    self._last_image = image
                    self._send(image)
                return
            if self._output is None or self._out_stream is None:
                return
            if not self._started:
                if not packet.is_keyframe:
                    return
                self._started = True
                self._base = packet.dts or 0
            assert packet.pts is not None and packet.dts is not None
            packet.pts -= self._base
            packet.dts -= self._base
            self._keys.append(bool(packet.is_keyframe))
            packet.stream = self._out_stream
            self._output.mux(packet)

    def closed(self) -> None:
        with self._lock:
            self._reset()
            self.end_all()

    def _reset(self) -> None:
        if self._output is not None:
            with contextlib.suppress(av.FFmpegError, OSError, ValueError):
                self._output.close()
        self._output = None
        self._out_stream = None
        self._images = None
        self._last_image = None
        self._splitter = BoxSplitter()
        self._init = None
        self._init_parts = []
        self._pending_moof = None
        self._keys.clear()
        self._gop = []
        self._started = False

    # -- the muxer's bytes ----------------------------------------------------------------------

    def _bytes(self, chunk: bytes) -> None:
        for box in self._splitter.feed(chunk):
            if box.kind in ("ftyp", "moov"):
                self._init_parts.append(box.data)
                if box.kind == "moov":
                    self._init = b"".join(self._init_parts)
                    self._send(self._init)
            elif box.kind == "moof":
                self._pending_moof = box.data
            elif box.kind == "mdat" and self._pending_moof is not None:
                moof, self._pending_moof = self._pending_moof, None
                self._fragment(moof + box.data, sample_count(moof))

    def _fragment(self, data: bytes, samples: int) -> None:
        first_is_key = bool(self._keys) and self._keys[0]
        for _ in range(min(samples, len(self._keys))):
            self._keys.popleft()
        if first_is_key:
            self._gop = []
        self._gop.append(data)
        self._send(data)

    def _send(self, data: bytes) -> None:
        for viewer in list(self._viewers):
            try:
                viewer.queue.put_nowait(data)
            except queue.Full:  # too slow: dropped, its page reconnects
                self._viewers.remove(viewer)
                viewer.closed.set()
            viewer.wake()
