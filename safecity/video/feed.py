"""A camera's compressed packets, read on one thread and handed to its sinks (recorder, live view).

One connection per camera however many sinks and viewers: packets are demuxed, never decoded,
so the cost is the network read. The connection is re-opened with backoff when it fails or stalls
(PyAV's interrupt timeouts bound every blocking call); each sink is told when a connection opens
(with the stream to copy as template) and when it ends, and gets its own copy of every packet
(muxing rewrites a packet's timestamps).

The URL with its password goes only to ffmpeg; states and messages carry `redact_url`.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import av
from av.packet import Packet
from av.video.stream import VideoStream

from safecity.config import redact_url
from safecity.sources.backoff import Backoff

log = logging.getLogger(__name__)


class FeedState(enum.StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    FAILED = "failed"
    STOPPED = "stopped"


class PacketSink(Protocol):
    def opened(self, stream: VideoStream) -> None:
        """A connection opened: `stream` is the template for an output stream (codec, size)."""

    def packet(self, packet: Packet[VideoStream], arrival: datetime) -> None:
        """One packet (the sink's own copy), with the wall-clock time it arrived."""

    def closed(self) -> None:
        """The connection ended (failure, stall or stop); a new `opened` may follow."""


def copy_packet(packet: Packet[VideoStream]) -> Packet[VideoStream]:
    """A packet of its own for one sink: same data, timestamps, key flag and duration."""
    copy: Packet[VideoStream] = Packet(bytes(packet))  # type: ignore[assignment]
    copy.pts = packet.pts
    copy.dts = packet.dts
    copy.time_base = packet.time_base
    copy.duration = packet.duration
    copy.is_keyframe = packet.is_keyframe
    return copy


@dataclass(frozen=True, slots=True)
class FeedStatus:
    state: FeedState
    last_error: str | None
    packets: int
    reconnects: int


class PacketFeed:
    """Reads one camera's video packets on a daemon thread while it has sinks or is started."""

    def __init__(
        self,
        url: str,
        *,
        open_timeout_s: float,
        stall_timeout_s: float,
        clock: Callable[[], datetime],
        backoff: Backoff | None = None,
    ) -> None:
        self._url = url
        self.redacted = redact_url(url)
        self.open_timeout_s = open_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self._clock = clock
        self._backoff = backoff or Backoff(initial_s=0.5, cap_s=30.0)
        self._failures = 0
        self._sinks: list[PacketSink] = []
        self._lock = threading.Lock()
        self._stream: VideoStream | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = FeedState.STOPPED
        self._last_error: str | None = None
        self._packets = 0
        self._reconnects = 0

    # -- sinks ----------------------------------------------------------------------------------

    def add(self, sink: PacketSink) -> None:
        """Attach a sink; if a connection is open it starts at once (from the next packet)."""
        with self._lock:
            self._sinks.append(sink)
            if self._stream is not None:
                sink.opened(self._stream)

    def remove(self, sink: PacketSink) -> None:
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)
                if self._stream is not None:
                    sink.closed()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._state = FeedState.CONNECTING
        self._thread = threading.Thread(target=self._run, name=f"video-feed {self.redacted}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout if timeout is not None else self.open_timeout_s + self.stall_timeout_s)
        self._state = FeedState.STOPPED

    def status(self) -> FeedStatus:
        return FeedStatus(self._state, self._last_error, self._packets, self._reconnects)

    # -- the reader thread ----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            failure = self._connect_and_read()
            if self._stopping.is_set():
                break
            self._last_error = failure
            self._state = FeedState.FAILED if failure else FeedState.CONNECTING
            self._reconnects += 1
            delay = self._backoff.delay(self._failures, random.random())
            self._failures += 1
            if self._stopping.wait(delay):
                break

    def _connect_and_read(self) -> str | None:
        options = {"analyzeduration": "500000"}
        if self._url.startswith("rtsp"):
            options["rtsp_transport"] = "tcp"
        try:
            container = av.open(
                self._url, options=options, timeout=(self.open_timeout_s, self.stall_timeout_s / 2)
            )
        except (av.FFmpegError, OSError):
            # PyAV's message embeds the URL with its password: name the camera by its redacted URL.
            return f"cannot open {self.redacted}"
        try:
            if not container.streams.video:
                return f"{self.redacted}: no video stream"
            stream = container.streams.video[0]
            with self._lock:
                self._stream = stream
                for sink in self._sinks:
                    sink.opened(stream)
            self._state = FeedState.LIVE
            for packet in container.demux(stream):
                if self._stopping.is_set():
                    return None
                if packet.dts is None or packet.pts is None or packet.size == 0:
                    continue
                self._packets += 1
                self._failures = 0
                arrival = self._clock()
                with self._lock:
                    for sink in self._sinks:
                        try:
                            sink.packet(copy_packet(packet), arrival)
                        except Exception:  # one failing sink must not starve the others
                            log.exception("video sink failed on %s", self.redacted)
            return None if self._stopping.is_set() else f"{self.redacted}: the stream ended"
        except (av.FFmpegError, OSError):
            return f"{self.redacted}: the stream broke or stalled"
        finally:
            with self._lock:
                self._stream = None
                for sink in self._sinks:
                    try:
                        sink.closed()
                    except Exception:
                        log.exception("video sink failed to close on %s", self.redacted)
            container.close()
