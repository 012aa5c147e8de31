"""Live sources against real servers: GStreamer's RTSP server, and small HTTP MJPEG / HLS servers.

Covers frames and timestamps, sampling, TCP and UDP transport, a killed server (stalled ->
connecting -> live again), a frozen server (a stall), corrupt H.264 and JPEG data (counted, the
source survives), refused / unanswered / missing streams (failed, with the error), credentials
never leaking, drop-oldest, and stop() returning in bounded time. Without GStreamer's RTSP server
the RTSP tests skip locally and fail in CI (see tests/rtsp.py and .ci/run).
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from rtsp import RtspServer, unavailable_reason
from services import need_service
from videos import T0, square_frames, write_video

from safecity.sources.backoff import Backoff
from safecity.sources.clock import StreamClock
from safecity.sources.factory import file_path, is_live, open_source
from safecity.sources.file import FileSource
from safecity.sources.live import LiveSource, SourceState, SourceStatus
from safecity.types import Frame

FAST = Backoff(initial_s=0.1, factor=2.0, cap_s=0.5, jitter=0.1)


# -- helpers ------------------------------------------------------------------------------------


class States:
    """Records every status a source reports (its `on_status`) and waits for a given state."""

    def __init__(self) -> None:
        self.seen: list[SourceStatus] = []
        self._cond = threading.Condition()

    def __call__(self, status: SourceStatus) -> None:
        with self._cond:
            self.seen.append(status)
            self._cond.notify_all()

    def wait_for(self, state: SourceState, timeout: float, *, after: int = 0) -> SourceStatus:
        """The first status in `state` reported at position `after` or later."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for status in self.seen[after:]:
                    if status.state is state:
                        return status
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = [s.state.value for s in self.seen]
                    raise AssertionError(f"no {state.value!r} within {timeout} s; states seen: {names}")
                self._cond.wait(remaining)

    @property
    def names(self) -> list[str]:
        with self._cond:
            return [s.state.value for s in self.seen]


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until `check()` holds (counters have no event to wait on); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


def take(source: LiveSource, count: int, timeout: float = 10.0) -> list[Frame]:
    deadline = time.monotonic() + timeout
    frames: list[Frame] = []
    while len(frames) < count:
        frame = source.get(max(0.0, deadline - time.monotonic()))
        if frame is None:
            raise AssertionError(f"only {len(frames)} of {count} frames within {timeout} s: {source.status}")
        frames.append(frame)
    return frames


def live_source(url: str, **options: object) -> LiveSource:
    settings: dict[str, object] = {
        "sample_fps": None,
        "stall_timeout_s": 2.0,
        "open_timeout_s": 3.0,
        "backoff": FAST,
    }
    settings.update(options)
    return LiveSource("cam-1", url, **settings)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- clips and servers --------------------------------------------------------------------------


def corrupt_h264_payloads(path: Path, every: int = 8) -> None:
    """Overwrite the middle half of every `every`-th frame's H.264 data with garbage.

    The mp4 index and the NAL length prefixes stay intact, so the server streams it as usual
    and only the decoder meets the damage. The garbage has no zero bytes, so it cannot fake an
    Annex B start code and split the stream into bogus NAL units on its way.
    """
    with av.open(str(path)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size > 0 and p.pos is not None]
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(7)
    for pos, size in packets[every // 2 :: every]:
        start, length = pos + size // 4, size // 2
        data[start : start + length] = rng.integers(1, 256, size=length, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two seconds of the moving square (320x240, 25 fps), intact and with corrupt frames."""
    folder = tmp_path_factory.mktemp("live")
    images, _ = square_frames(frames=50)
    good = write_video(folder / "good.mp4", images)
    bad = write_video(folder / "bad.mp4", images)
    corrupt_h264_payloads(bad)
    return {"good": good, "bad": bad}


def _need_rtsp() -> None:
    reason = unavailable_reason()
    if reason is not None:
        need_service(reason)


@pytest.fixture(scope="module")
def rtsp(clips: dict[str, Path]) -> Iterator[RtspServer]:
    """One RTSP server for the tests that leave it alone: /good and /bad, looping."""
    _need_rtsp()
    with RtspServer({"/good": clips["good"], "/bad": clips["bad"]}) as server:
        yield server


@pytest.fixture
def own_rtsp(clips: dict[str, Path]) -> Iterator[RtspServer]:
    """An RTSP server of the test's own, to kill, restart, freeze."""
    _need_rtsp()
    with RtspServer({"/cam1": clips["good"]}) as server:
        yield server


def _jpeg(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return bytes(encoded.tobytes())


class MjpegServer:
    """HTTP multipart/x-mixed-replace (MJPEG) at 25 fps, as IP cameras serve it.

    Every `corrupt_every`-th part is a JPEG start marker followed by garbage.
    """

    def __init__(self, *, corrupt_every: int = 0) -> None:
        images, _ = square_frames(frames=25)
        self.parts = [_jpeg(image) for image in images]
        self.corrupt_every = corrupt_every
        self.stopping = threading.Event()
        garbage = np.random.default_rng(3).integers(1, 256, size=3000, dtype=np.uint8).tobytes()
        self.corrupt_part = b"\xff\xd8" + garbage
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                n = 0
                try:
                    # Pacing at the camera's frame rate, not waiting for anything.
                    while not server.stopping.wait(0.04):
                        part = server.parts[n % len(server.parts)]
                        if server.corrupt_every and n % server.corrupt_every == server.corrupt_every - 1:
                            part = server.corrupt_part
                        head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(part)}\r\n\r\n"
                        self.wfile.write(head.encode() + part + b"\r\n")
                        n += 1
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str = "video.mjpg") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"

    def __enter__(self) -> MjpegServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


# -- RTSP ---------------------------------------------------------------------------------------


def test_rtsp_stream_gives_live_frames_with_increasing_wall_clock_timestamps(rtsp: RtspServer) -> None:
    states = States()
    started = datetime.now(UTC)
    with live_source(rtsp.url("good"), on_status=states) as source:
        frames = take(source, 40)
        status = source.status

    assert states.names[:2] == ["connecting", "live"]
    assert status.state is SourceState.LIVE
    assert status.frames_decoded >= 40 and status.frames_delivered >= 40
    assert status.decode_errors == 0 and status.dropped == 0 and status.reconnects == 0
    assert all(f.camera_id == "cam-1" and f.image.shape == (240, 320, 3) for f in frames)
    assert [f.index for f in frames] == list(range(40))
    # Spaced by the stream's own 25 fps clock (the first frame came in a burst with the next).
    assert all(b.timestamp > a.timestamp and b.pts_s > a.pts_s for a, b in pairwise(frames))
    assert frames[-1].pts_s - frames[1].pts_s == pytest.approx(38 / 25, abs=0.05)
    # Anchored at arrival: close to the wall clock, not the clip's own time.
    assert started - timedelta(seconds=1) < frames[0].timestamp < datetime.now(UTC)
    # The decoded picture is the clip's: the white square on grey.
    assert frames[10].image.max() > 240 and 80 < float(np.median(frames[10].image)) < 120
    assert states.names[-1] == "stopped"


def test_rtsp_loops_past_the_end_of_the_clip_without_a_reconnect(rtsp: RtspServer) -> None:
    with live_source(rtsp.url("good"), sample_fps=5.0) as source:
        frames = take(source, 15)  # 3 s of stream from a 2 s clip
        status = source.status

    assert status.reconnects == 0 and status.reanchors == 0
    assert [b.index - a.index for a, b in pairwise(frames)] == [5] * 14
    gaps = [(b.timestamp - a.timestamp).total_seconds() for a, b in pairwise(frames)]
    assert gaps == pytest.approx([0.2] * 14, abs=0.01)


def test_rtsp_over_udp(rtsp: RtspServer) -> None:
    with live_source(rtsp.url("good"), transport="udp") as source:
        frames = take(source, 10)
        assert source.status.state is SourceState.LIVE

    assert all(b.timestamp > a.timestamp for a, b in pairwise(frames))


def test_killed_server_goes_stalled_then_connecting_and_is_live_again_after_restart(
    own_rtsp: RtspServer, rtsp: RtspServer
) -> None:
    states = States()
    with (
        live_source(own_rtsp.url("cam1"), on_status=states) as source,
        live_source(rtsp.url("good")) as bystander,
    ):
        before = take(source, 5)
        take(bystander, 1)
        own_rtsp.stop()
        stalled = states.wait_for(SourceState.STALLED, 5)
        mark = len(states.seen)
        failed = states.wait_for(SourceState.FAILED, 5, after=mark)
        own_rtsp.start()
        restarted = time.monotonic()
        states.wait_for(SourceState.LIVE, 10, after=mark)
        back_after_s = time.monotonic() - restarted
        # Frames queued before the kill are still there; skip to those after the restart.
        after = [f for f in take(source, 13) if f.timestamp > before[-1].timestamp]
        assert bystander.status.state is SourceState.LIVE and bystander.status.reconnects == 0

    assert "ended" in (stalled.last_error or "")
    assert failed.last_error == f"cannot connect to {own_rtsp.url('cam1')}: Connection refused"
    names = states.names
    assert names[names.index("stalled") + 1] == "connecting"
    assert back_after_s < 10
    assert source.status.reconnects >= 2
    assert after and after[0].index > before[-1].index
    assert all(b.timestamp > a.timestamp for a, b in pairwise(before + after))


def test_frozen_server_is_detected_as_a_stall_and_the_source_recovers(own_rtsp: RtspServer) -> None:
    states = States()
    with live_source(own_rtsp.url("cam1"), stall_timeout_s=1.5, on_status=states) as source:
        take(source, 5)
        own_rtsp.pause()
        frozen = time.monotonic()
        try:
            stalled = states.wait_for(SourceState.STALLED, 6)
            detected_after_s = time.monotonic() - frozen
        finally:
            own_rtsp.resume()
        states.wait_for(SourceState.LIVE, 10, after=states.names.index("stalled"))

    assert stalled.last_error == f"no data from {own_rtsp.url('cam1')} for 1.5 s"
    # Detected after the stall timeout (a read without data gives up then), not much later.
    assert 1.0 < detected_after_s < 4.0


def test_corrupt_h264_is_counted_as_decode_errors_and_the_stream_goes_on(rtsp: RtspServer) -> None:
    with live_source(rtsp.url("bad")) as source:
        frames = take(source, 60)
        status = source.status

    assert status.state is SourceState.LIVE and status.reconnects == 0
    assert status.decode_errors >= 3
    # Corrupt frames are counted and not handed on; the rest flow.
    assert 0 < status.frames_decoded - status.frames_delivered <= status.decode_errors
    assert all(b.index > a.index for a, b in pairwise(frames))


def test_stop_returns_at_once_while_stalled(own_rtsp: RtspServer) -> None:
    states = States()
    slow = Backoff(initial_s=30.0, cap_s=30.0)
    source = live_source(own_rtsp.url("cam1"), backoff=slow, on_status=states).start()
    take(source, 3)
    own_rtsp.stop()
    states.wait_for(SourceState.STALLED, 5)  # and now waiting 30 s to reconnect

    started = time.monotonic()
    assert source.stop()
    assert time.monotonic() - started < 0.5
    assert states.names[-2:] == ["stalled", "stopped"]


def test_missing_mount_is_failed_with_the_servers_answer(rtsp: RtspServer) -> None:
    states = States()
    with live_source(rtsp.url("nope"), on_status=states):
        failed = states.wait_for(SourceState.FAILED, 5)

    assert failed.last_error == f"cannot open {rtsp.url('nope')}: Server returned 404 Not Found"


def test_stop_returns_at_once_while_live(rtsp: RtspServer) -> None:
    source = live_source(rtsp.url("good")).start()
    take(source, 3)

    started = time.monotonic()
    assert source.stop()
    assert time.monotonic() - started < 1.0
    assert source.status.state is SourceState.STOPPED


def test_queue_drops_the_oldest_frames_when_nobody_reads(rtsp: RtspServer) -> None:
    with live_source(rtsp.url("good"), queue_size=3) as source:
        eventually(lambda: source.status.dropped >= 10, 5, "10 frames dropped")
        source.request_stop()
        assert source.stop()
    status = source.status
    kept = [frame for frame in iter(lambda: source.get(0), None)]

    assert status.queue_depth == 3 and len(kept) == 3
    assert status.frames_delivered == status.dropped + len(kept)
    # The newest survive: the last frames delivered, in order.
    assert [f.index for f in kept] == list(range(status.frames_delivered - 3, status.frames_delivered))


# -- failures without a server ------------------------------------------------------------------


def test_refused_connection_is_failed_keeps_retrying_and_never_shows_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    url = f"rtsp://admin:secret@127.0.0.1:{port}/cam1"
    states = States()
    source = live_source(url, on_status=states)
    with source:
        failed = states.wait_for(SourceState.FAILED, 5)
        eventually(lambda: source.status.reconnects >= 2, 5, "two retries")
        status = source.status
        shown = [repr(source), str(status), source.url, *(str(s) for s in states.seen)]

    expected = f"cannot connect to rtsp://admin:***@127.0.0.1:{port}/cam1: Connection refused"
    assert failed.last_error == expected
    assert status.state is SourceState.FAILED and status.last_error == expected
    assert status.next_attempt_at is not None and status.frames_decoded == 0
    assert expected in caplog.text
    for text in [*shown, caplog.text]:
        assert "secret" not in text


def test_a_host_that_accepts_but_never_answers_fails_after_the_open_timeout() -> None:
    # A listening socket that nobody accepts on: TCP connects, RTSP gets no answer.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"rtsp://127.0.0.1:{listener.getsockname()[1]}/cam1"
        states = States()
        source = live_source(
            url, open_timeout_s=1.0, backoff=Backoff(initial_s=30.0, cap_s=30.0), on_status=states
        )
        with source:
            failed = states.wait_for(SourceState.FAILED, 5)
            # Now waiting 30 s to retry: stop() cuts the wait short.
            started = time.monotonic()
            assert source.stop()
            assert time.monotonic() - started < 0.5

    assert failed.last_error == f"cannot connect to {url}: no answer within 1 s"


def test_stop_while_blocked_connecting_returns_within_the_open_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        states = States()
        source = live_source(
            f"rtsp://127.0.0.1:{listener.getsockname()[1]}/cam1", open_timeout_s=1.0, on_status=states
        ).start()
        states.wait_for(SourceState.CONNECTING, 2)

        started = time.monotonic()
        assert source.stop()
        assert time.monotonic() - started < 2.0
        assert states.names[-1] == "stopped"


# -- HTTP ---------------------------------------------------------------------------------------


def test_http_mjpeg_stream_gives_frames_stamped_on_arrival() -> None:
    with MjpegServer() as server, live_source(server.url(), sample_fps=10.0) as source:
        started = datetime.now(UTC)
        frames = take(source, 10)
        status = source.status

    assert status.state is SourceState.LIVE and status.decode_errors == 0
    assert all(f.image.shape == (240, 320, 3) for f in frames)
    assert frames[3].image.max() > 200  # the white square survived JPEG
    assert all(b.timestamp > a.timestamp for a, b in pairwise(frames))
    # MJPEG has no timing of its own; arrival time it is (and 10 of 25 fps, every ~0.1 s).
    assert started - timedelta(seconds=1) < frames[0].timestamp <= datetime.now(UTC)
    assert (frames[-1].timestamp - frames[0].timestamp).total_seconds() == pytest.approx(0.9, abs=0.35)


def test_corrupt_jpeg_parts_are_counted_and_the_stream_goes_on() -> None:
    with MjpegServer(corrupt_every=5) as server, live_source(server.url()) as source:
        frames = take(source, 20)
        eventually(lambda: source.status.decode_errors >= 4, 5, "4 decode errors")
        status = source.status

    assert status.state is SourceState.LIVE and status.reconnects == 0
    assert len(frames) == 20 and all(f.image.shape == (240, 320, 3) for f in frames)


def test_a_stream_of_nothing_but_corrupt_data_is_reconnected_after_the_stall_timeout() -> None:
    states = States()
    with (
        MjpegServer(corrupt_every=1) as server,
        live_source(server.url(), stall_timeout_s=1.0, on_status=states),
    ):
        failed = states.wait_for(SourceState.FAILED, 5)

    assert failed.last_error == f"no usable frame from {server.url()} for 1 s"
    assert failed.frames_delivered == 0 and failed.decode_errors > 10


def test_http_error_is_failed_with_the_status() -> None:
    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://cam:pw@127.0.0.1:{httpd.server_address[1]}/video.mjpg"
        states = States()
        with live_source(url, on_status=states):
            failed = states.wait_for(SourceState.FAILED, 5)
    finally:
        httpd.shutdown()
        httpd.server_close()

    port = httpd.server_address[1]
    assert (
        failed.last_error
        == f"cannot open http://cam:***@127.0.0.1:{port}/video.mjpg: Server returned 404 Not Found"
    )


def test_hls_playlist_is_read_and_its_end_is_a_stall(tmp_path: Path) -> None:
    images, _ = square_frames(frames=50)
    with av.open(str(tmp_path / "index.m3u8"), "w", format="hls", options={"hls_time": "1"}) as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"g": "25"}
        for image in images:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.RequestHandlerClass.log_message = lambda *args: None  # type: ignore[method-assign]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        states = States()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/index.m3u8"
        with live_source(url, queue_size=100, on_status=states) as source:
            stalled = states.wait_for(SourceState.STALLED, 10)
            frames = take(source, 50)
    finally:
        httpd.shutdown()
        httpd.server_close()

    assert stalled.last_error == f"the stream from {url} ended"
    # Timestamps come from the stream's pts (a VOD playlist is read faster than real time).
    gaps = [(b.timestamp - a.timestamp).total_seconds() for a, b in pairwise(frames)]
    assert gaps == pytest.approx([0.04] * 49, abs=0.002)


# -- configuration and small parts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sample_fps": 0.0}, "sample_fps"),
        ({"queue_size": 0}, "queue_size"),
        ({"stall_timeout_s": 0.0}, "stall_timeout_s"),
        ({"transport": "http"}, "transport"),
    ],
)
def test_bad_options_are_rejected(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        live_source("rtsp://127.0.0.1/cam1", **options)


def test_a_url_that_is_not_a_live_stream_is_rejected_without_its_password() -> None:
    with pytest.raises(ValueError, match="not a live stream URL") as error:
        LiveSource("cam-1", "ftp://u:secret@host/x", sample_fps=None)
    assert "secret" not in str(error.value)


def test_open_source_picks_the_source_by_address(tmp_path: Path) -> None:
    clip = write_video(tmp_path / "a.mp4", square_frames(frames=5)[0])

    assert isinstance(open_source("rtsp://u:p@cam/1", "c", sample_fps=None), LiveSource)
    assert isinstance(open_source("https://cam/video.mjpg", "c", sample_fps=None), LiveSource)
    file_source = open_source(str(clip), "c", sample_fps=None, start_time=T0)
    assert isinstance(file_source, FileSource) and file_source.path == clip
    from_url = open_source(clip.as_uri(), "c", sample_fps=None)
    assert isinstance(from_url, FileSource) and from_url.path == clip
    with from_url:
        assert len(list(from_url)) == 5
    assert is_live("RTSP://cam/1") and not is_live(clip) and not is_live("file:///x.mp4")
    with pytest.raises(ValueError, match="unsupported stream address") as error:
        file_path("ftp://u:secret@host/x.mp4")
    assert "secret" not in str(error.value)


def test_backoff_grows_by_its_factor_up_to_its_cap_with_bounded_jitter() -> None:
    backoff = Backoff(initial_s=0.5, factor=2.0, cap_s=4.0, jitter=0.2)

    assert [backoff.delay(n, 0.5) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.delay(0, 0.0) == pytest.approx(0.4) and backoff.delay(0, 0.999) == pytest.approx(
        0.6, abs=1e-3
    )
    assert backoff.delay(10_000, 0.999) == 4.0  # capped after jitter, no overflow
    with pytest.raises(ValueError, match="cap_s"):
        Backoff(initial_s=2.0, cap_s=1.0)
    with pytest.raises(ValueError, match="jitter"):
        Backoff(jitter=1.0)


def test_stream_clock_anchors_on_arrival_and_reanchors_on_pts_jumps() -> None:
    clock = StreamClock(max_jump_s=5.0)
    clock.connect()
    assert clock.stamp(100.0, T0) == T0
    assert clock.stamp(100.04, T0 + timedelta(seconds=0.5)) == T0 + timedelta(
        seconds=0.04
    )  # pts, not arrival
    assert clock.stamp(None, T0, frame_s=0.04) == T0 + timedelta(seconds=0.08)  # no pts: one frame on
    assert clock.reanchors == 0

    later = T0 + timedelta(seconds=3)
    assert clock.stamp(2.0, later) == later  # pts went backwards: the camera restarted
    assert clock.stamp(60.0, later + timedelta(seconds=1)) == later + timedelta(seconds=1)  # jumped ahead
    assert clock.reanchors == 2

    # A new connection anchors afresh without counting it, and time never goes backwards.
    clock.connect()
    again = clock.stamp(0.0, T0)
    assert again > later + timedelta(seconds=1) and clock.reanchors == 2
    assert clock.seconds(again) == (again - T0).total_seconds()


def test_untimed_frames_are_stamped_on_arrival() -> None:
    clock = StreamClock()
    clock.connect()
    assert clock.stamp(None, T0) == T0
    assert clock.stamp(None, T0 + timedelta(seconds=0.3)) == T0 + timedelta(seconds=0.3)


def test_a_first_frame_without_pts_is_followed_one_frame_interval_later() -> None:
    # ffmpeg's RTSP demuxer gives the first keyframe no pts; the frames after it come in a burst.
    clock = StreamClock()
    clock.connect()
    assert clock.stamp(None, T0, frame_s=0.04) == T0
    assert clock.stamp(0.12, T0, frame_s=0.04) == T0 + timedelta(seconds=0.04)
    assert clock.stamp(0.16, T0, frame_s=0.04) == T0 + timedelta(seconds=0.08)
