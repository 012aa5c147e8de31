"""Live camera streams (RTSP, HTTP MJPEG, HLS) decoded with PyAV on a reader thread per camera.

Owns: connecting, decoding and sampling a live stream; reconnecting with backoff when it fails;
detecting stalls; the per-camera state (`SourceStatus`); and handing frames to the consumer
through a bounded queue that drops the oldest frame when the consumer falls behind (decoding
never waits for analysis; every drop is counted).

States: ``connecting`` (opening, no frame yet), ``live`` (frames arriving), ``stalled`` (it was
live, then the stream broke or no frame came for `stall_timeout_s`; a reconnect follows after a
backoff delay), ``failed`` (an attempt to open failed: refused, unreachable, 404, no answer, no
video; it keeps retrying with backoff, because a camera may come back, and stays ``failed`` until
a frame arrives), ``stopped`` (before `start()` and after `stop()`).

Timestamps: see `safecity.sources.clock` -- pts anchored at the wall-clock arrival of a
connection's first frame, re-anchored (and counted) when the pts jump. HLS delivers a segment
at a time, so its `stall_timeout_s` must exceed the segment duration.

Blocking: PyAV blocks inside ffmpeg while it opens or reads. Both calls run under PyAV's
interrupt-callback timeouts (`open_timeout_s`; a read gives up after `stall_timeout_s` without
data), so a dead or frozen camera can never hang the reader, and `stop()` returns within those
bounds even when the thread sits in such a call; otherwise (live, or waiting to retry) it returns
at once. Reader threads are daemons, so a source never keeps the process alive.

Credentials: the URL with its password is only ever handed to ffmpeg. Status, messages, logs
and reprs show it through `redact_url`, and PyAV exceptions (whose text embeds the URL) are
never formatted or logged as they are. ffmpeg's own log, which PyAV keeps off by default, would
print URLs at INFO level (HLS "Opening 'http://user:pass@...'"): leave it off or at WARNING.
"""

from __future__ import annotations

import enum
import logging
import math
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from types import TracebackType
from typing import Literal, Self, cast
from urllib.parse import urlsplit

import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream

from safecity.config import redact_url
from safecity.sources.backoff import Backoff
from safecity.sources.clock import StreamClock
from safecity.types import BGRImage, Frame

log = logging.getLogger(__name__)

Transport = Literal["tcp", "udp"]
"""How RTSP carries the media: interleaved in the TCP control connection (robust through NAT
and firewalls, no loss), or as RTP over UDP (lower latency; loses packets under load)."""

LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})

# Demuxers whose timestamps are invented (mpjpeg numbers the parts at an assumed 25 fps):
# their frames are stamped with their arrival time.
_UNTIMED_FORMATS = frozenset({"mpjpeg", "mjpeg", "jpeg_pipe"})

# Half a second of probing is enough to learn codec and size (RTSP's SDP already names the
# codec and carries SPS/PPS); ffmpeg's default probes up to 5 s before the first frame.
_PROBE_OPTIONS = {"analyzeduration": "500000"}

_DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}


class SourceState(enum.StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    STALLED = "stalled"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A snapshot of one live source, safe to read and pass on from any thread."""

    camera_id: str
    url: str
    """The stream URL with its password hidden."""
    state: SourceState
    since: datetime
    """When the source entered `state` (UTC)."""
    last_error: str | None
    """The most recent problem (kept after recovery; `state` says whether it is current)."""
    last_error_at: datetime | None
    last_frame_at: datetime | None
    """Wall-clock arrival of the last decoded frame."""
    next_attempt_at: datetime | None
    """When the next reconnect is due, while stalled or failed."""
    frames_decoded: int
    """Frames the decoder produced, before sampling."""
    frames_delivered: int
    """Sampled frames put on the queue (including those later dropped)."""
    decode_errors: int
    """Packets the decoder rejected plus frames it flagged as corrupt (neither is delivered)."""
    dropped: int
    """Frames dropped from the queue because the consumer did not take them in time."""
    reconnects: int
    """Connection attempts after the first one."""
    reanchors: int
    """Times the stream's pts jumped and timestamps were re-anchored (see `StreamClock`)."""
    queue_depth: int


class _DropOldestQueue:
    """A bounded FIFO of frames: a full queue drops its oldest frame to take a new one."""

    def __init__(self, maxsize: int) -> None:
        self._items: deque[Frame] = deque()
        self._maxsize = maxsize
        self._cond = threading.Condition()
        self._closed = False
        self.dropped = 0

    def put(self, item: Frame) -> None:
        with self._cond:
            if len(self._items) >= self._maxsize:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self._cond.notify()

    def get(self, timeout: float | None) -> Frame | None:
        with self._cond:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._items and not self._closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._items.popleft() if self._items else None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class _Ended:
    """Why a connection ended, and whether it had delivered frames (live) before."""

    message: str
    was_live: bool


class LiveSource:
    """Frames of one live stream, decoded on a reader thread and sampled to `sample_fps`.

    Use as ``with LiveSource("cam-1", url, sample_fps=5.0) as src: for frame in src: ...``
    (iteration ends when the source is stopped), or ``start()``, ``get(timeout)`` and ``stop()``.
    `status` is a `SourceStatus` snapshot; `on_status`, if given, is called from the reader
    thread with a snapshot at every change of state (keep it quick; it must not block).
    """

    def __init__(
        self,
        camera_id: str,
        url: str,
        *,
        sample_fps: float | None,
        transport: Transport = "tcp",
        queue_size: int = 8,
        stall_timeout_s: float = 10.0,
        open_timeout_s: float = 10.0,
        backoff: Backoff | None = None,
        max_jump_s: float = 5.0,
        on_status: Callable[[SourceStatus], None] | None = None,
    ) -> None:
        if not camera_id:
            raise ValueError("camera_id must be a non-empty string")
        redacted = redact_url(url)
        scheme = urlsplit(url).scheme.lower()
        if scheme not in LIVE_SCHEMES:
            raise ValueError(
                f"{redacted}: not a live stream URL (expected one of {', '.join(sorted(LIVE_SCHEMES))})"
            )
        if sample_fps is not None and not (math.isfinite(sample_fps) and sample_fps > 0):
            raise ValueError(f"sample_fps must be a positive number or None, got {sample_fps!r}")
        if transport not in ("tcp", "udp"):
            raise ValueError(f"transport must be 'tcp' or 'udp', got {transport!r}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size!r}")
        for name, value in (("stall_timeout_s", stall_timeout_s), ("open_timeout_s", open_timeout_s)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        self.camera_id = camera_id
        self.sample_fps = sample_fps
        self.transport: Transport = transport
        self.stall_timeout_s = stall_timeout_s
        self.open_timeout_s = open_timeout_s
        self.backoff = backoff or Backoff()
        self._url = url
        self._redacted = redacted
        self._scheme = scheme
        self._on_status = on_status
        self._queue = _DropOldestQueue(queue_size)
        self._clock = StreamClock(max_jump_s=max_jump_s)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._rng = random.Random()
        self._lock = threading.Lock()
        # Everything below is written by the reader thread under `_lock`.
        self._state = SourceState.STOPPED  # not started yet
        self._since = _now()
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self._last_frame_at: datetime | None = None
        self._next_attempt_at: datetime | None = None
        self._frames_decoded = 0
        self._frames_delivered = 0
        self._decode_errors = 0
        self._reconnects = 0
        self._next_sample_s: float | None = None

    # -- public surface --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The stream URL with its password hidden."""
        return self._redacted

    def __repr__(self) -> str:
        return f"LiveSource({self.camera_id!r}, {self._redacted!r}, state={self._state.value})"

    @property
    def status(self) -> SourceStatus:
        with self._lock:
            return self._snapshot()

    def start(self) -> Self:
        """Start the reader thread (once); it connects, decodes and reconnects on its own."""
        if self._thread is not None:
            raise RuntimeError(f"{self!r} was already started; a source is started once")
        self._thread = threading.Thread(target=self._run, name=f"source-{self.camera_id}", daemon=True)
        self._set_state(SourceState.CONNECTING)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the reader to stop, without waiting (stop many sources, then `stop()` each)."""
        self._stopping.set()
        self._queue.close()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the reader and wait for it; True when it has ended.

        By default waits as long as the reader can be blocked inside ffmpeg: at most
        ``max(open_timeout_s, stall_timeout_s)`` (see the module notes), usually no time at all.
        Frames already queued can still be taken with `get()`.
        """
        self.request_stop()
        thread = self._thread
        if thread is None:
            self._set_state(SourceState.STOPPED)
            return True
        if timeout is None:
            timeout = max(self.open_timeout_s, self.stall_timeout_s) + 1.0
        thread.join(timeout)
        return not thread.is_alive()

    def get(self, timeout: float | None = None) -> Frame | None:
        """The oldest queued frame; None after `timeout` seconds, or once stopped and drained."""
        return self._queue.get(timeout)

    def __iter__(self) -> Iterator[Frame]:
        """Frames as they come, until the source is stopped."""
        while True:
            frame = self._queue.get(0.5)
            if frame is not None:
                yield frame
            elif self._stopping.is_set():
                return

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- state -----------------------------------------------------------------------------

    def _snapshot(self) -> SourceStatus:
        return SourceStatus(
            camera_id=self.camera_id,
            url=self._redacted,
            state=self._state,
            since=self._since,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
            last_frame_at=self._last_frame_at,
            next_attempt_at=self._next_attempt_at,
            frames_decoded=self._frames_decoded,
            frames_delivered=self._frames_delivered,
            decode_errors=self._decode_errors,
            dropped=self._queue.dropped,
            reconnects=self._reconnects,
            reanchors=self._clock.reanchors,
            queue_depth=len(self._queue),
        )

    def _set_state(
        self, state: SourceState, error: str | None = None, next_attempt_at: datetime | None = None
    ) -> None:
        with self._lock:
            previous, previous_error = self._state, self._last_error
            if state is previous and (error is None or error == previous_error):
                self._next_attempt_at = next_attempt_at
                return
            if state is not previous:
                self._state, self._since = state, _now()
            if error is not None:
                self._last_error, self._last_error_at = error, _now()
            self._next_attempt_at = next_attempt_at
            snapshot = self._snapshot()
        self._log_change(previous, snapshot)
        if self._on_status is not None:
            try:
                self._on_status(snapshot)
            except Exception as exc:  # a consumer's bug must not stop the camera
                log.error("%s: on_status callback failed: %s", self.camera_id, self._scrub(repr(exc)))

    def _log_change(self, previous: SourceState, status: SourceStatus) -> None:
        retry = ""
        if status.next_attempt_at is not None:
            retry = f"; retrying in {(status.next_attempt_at - _now()).total_seconds():.1f} s"
        if status.state is SourceState.LIVE:
            log.info("%s: live (%s)", self.camera_id, self._redacted)
        elif status.state in (SourceState.STALLED, SourceState.FAILED):
            log.warning("%s: %s: %s%s", self.camera_id, status.state.value, status.last_error, retry)
        else:
            log.debug("%s: %s -> %s (%s)", self.camera_id, previous.value, status.state.value, self._redacted)

    def _scrub(self, text: str) -> str:
        """`text` with the raw URL and its password replaced (for messages of unknown origin)."""
        text = text.replace(self._url, self._redacted)
        password = urlsplit(self._url).password
        return text.replace(password, "***") if password else text

    # -- the reader thread -----------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        attempts = 0
        try:
            while not self._stopping.is_set():
                if attempts:
                    with self._lock:
                        self._reconnects += 1
                attempts += 1
                # A failed source stays failed while it retries, until a frame arrives.
                failed = self._state is SourceState.FAILED
                self._set_state(SourceState.FAILED if failed else SourceState.CONNECTING)
                try:
                    ended = self._connect_and_read()
                except Exception as exc:  # a bug or an unforeseen PyAV error: retry, never die
                    what = self._scrub(repr(exc))
                    ended = _Ended(f"unexpected error reading {self._redacted}: {what}", False)
                if ended is None or self._stopping.is_set():
                    break
                if ended.was_live:
                    failures = 0
                delay = self.backoff.delay(failures, self._rng.random())
                failures += 1
                state = SourceState.STALLED if ended.was_live else SourceState.FAILED
                self._set_state(state, ended.message, next_attempt_at=_now() + timedelta(seconds=delay))
                if self._stopping.wait(delay):
                    break
        finally:
            self._set_state(SourceState.STOPPED)

    def _connect_and_read(self) -> _Ended | None:
        """One connection, read until it ends; None when stopped."""
        options = dict(_PROBE_OPTIONS)
        if self._scheme.startswith("rtsp"):
            options["rtsp_transport"] = self.transport
        started = time.monotonic()
        try:
            # The read timeout is half the stall timeout: measured with PyAV 18 / ffmpeg 8 on
            # RTSP, a read with no data raises only after twice its timeout.
            container = av.open(
                self._url,
                options=options,
                timeout=(self.open_timeout_s, self.stall_timeout_s / 2),
            )
        except (av.FFmpegError, OSError) as exc:
            if self._stopping.is_set():
                return None
            # An interrupted open surfaces as ExitError or, from RTSP, as "invalid data".
            timed_out = time.monotonic() - started >= self.open_timeout_s * 0.95
            return _Ended(self._open_failure(exc, timed_out), False)
        try:
            streams = container.streams.video
            if not streams:
                kinds = ", ".join(sorted({s.type for s in container.streams})) or "none"
                return _Ended(f"cannot open {self._redacted}: no video stream (streams: {kinds})", False)
            return self._read(container, streams[0])
        finally:
            try:
                container.close()
            except (av.FFmpegError, OSError) as exc:
                log.debug("%s: closing the stream failed: %s", self.camera_id, _reason(exc))

    def _read(self, container: InputContainer, stream: VideoStream) -> _Ended | None:
        red = self._redacted
        time_base = stream.time_base or Fraction(1, 90_000)
        rate = stream.average_rate or stream.guessed_rate
        frame_s = float(1 / rate) if rate else None
        timed = container.format.name not in _UNTIMED_FORMATS
        interval = 1.0 / self.sample_fps if self.sample_fps is not None else None
        # A quarter frame of tolerance, as in FileSource: 25 -> 5 fps keeps every 5th frame.
        eps = 0.0 if interval is None else min(interval / 4, frame_s / 4 if frame_s else interval / 4)
        self._clock.connect()
        reformatter = VideoReformatter()
        packets = container.demux(stream)
        was_live = False
        last_frame = time.monotonic()
        while True:
            if self._stopping.is_set():
                return None
            try:
                packet = next(packets)
            except StopIteration:
                return _Ended(f"the stream from {red} ended", was_live)
            except av.ExitError:
                if self._stopping.is_set():
                    return None
                return _Ended(f"no data from {red} for {self.stall_timeout_s:g} s", was_live)
            except (av.FFmpegError, OSError) as exc:
                return _Ended(f"lost the stream from {red}: {_reason(exc)}", was_live)
            try:
                frames = packet.decode()
            except (av.FFmpegError, OSError) as exc:
                with self._lock:
                    self._decode_errors += 1
                log.debug("%s: the decoder rejected a packet: %s", self.camera_id, _reason(exc))
                frames = []
            now = time.monotonic()
            for vf in frames:
                arrival = _now()
                with self._lock:
                    self._frames_decoded += 1
                    self._last_frame_at = arrival
                    index = self._frames_decoded - 1
                    if vf.is_corrupt:
                        self._decode_errors += 1
                if vf.is_corrupt:
                    continue
                # Only a usable frame keeps the source alive: a stream of nothing but corrupt
                # frames gets a fresh connection (and decoder) after the stall timeout.
                last_frame = now
                if not was_live:
                    was_live = True
                    self._set_state(SourceState.LIVE)
                stream_t = float(vf.pts * time_base) if timed and vf.pts is not None else None
                when = self._clock.stamp(stream_t, arrival, frame_s if timed else None)
                pts_s = self._clock.seconds(when)
                if self._sampled(pts_s, interval, eps):
                    self._deliver(vf, reformatter, index, pts_s, when)
            if now - last_frame > self.stall_timeout_s:
                return _Ended(f"no usable frame from {red} for {self.stall_timeout_s:g} s", was_live)

    def _sampled(self, pts_s: float, interval: float | None, eps: float) -> bool:
        """Whether the frame at `pts_s` is on the `sample_fps` grid (decided before converting it)."""
        if interval is None:
            return True
        if self._next_sample_s is not None and pts_s < self._next_sample_s - eps:
            return False
        grid = pts_s if self._next_sample_s is None else self._next_sample_s
        self._next_sample_s = grid + interval
        if self._next_sample_s <= pts_s:  # after a gap (or a reconnect), restart the grid here
            self._next_sample_s = pts_s + interval
        return True

    def _deliver(
        self, vf: VideoFrame, reformatter: VideoReformatter, index: int, pts_s: float, when: datetime
    ) -> None:
        # One reformatter per connection (see FileSource); contiguous rows for the analysers.
        bgr = reformatter.reformat(vf, format="bgr24").to_ndarray()
        image = cast(BGRImage, np.ascontiguousarray(bgr))
        self._queue.put(Frame(self.camera_id, index, pts_s, when, image))
        with self._lock:
            self._frames_delivered += 1

    def _open_failure(self, exc: BaseException, timed_out: bool) -> str:
        red = self._redacted
        if timed_out or isinstance(exc, av.ExitError):
            return f"cannot connect to {red}: no answer within {self.open_timeout_s:g} s"
        reason = _reason(exc)
        if isinstance(exc, av.HTTPError | av.HTTPClientError):
            return f"cannot open {red}: {reason}"
        if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
            return f"cannot connect to {red}: {reason}"
        # ffmpeg reports some network failures only as "invalid data" or "I/O error" (the detail
        # goes to its log, which is off); a plain TCP connect tells what went wrong.
        detail = _tcp_problem(self._url, min(self.open_timeout_s, 3.0))
        if detail is not None:
            return f"cannot connect to {red}: {detail}"
        return f"cannot open {red}: {reason}"


def _now() -> datetime:
    return datetime.now(UTC)


def _reason(exc: BaseException) -> str:
    """An exception's message without the file name PyAV appends (the URL, with credentials)."""
    return str(getattr(exc, "strerror", None) or type(exc).__name__)


def _tcp_problem(url: str, timeout: float) -> str | None:
    """Why a TCP connection to the URL's host and port fails; None when it succeeds."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return "the URL names no host"
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 80)
    except ValueError:
        return "the URL's port is not a number"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror as exc:
        return f"cannot resolve host {host!r}: {exc.strerror}"
    except TimeoutError:
        return f"no answer from {host}:{port} within {timeout:g} s"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
