"""Recording and live view cost per camera: remuxed packets against decode-and-re-encode.

A busy 720p25 H.264 sim clip (the corridor's first camera, cars passing all the time) is served
over RTSP by GStreamer (tests/rtsp.py, system Python) in a loop. Each configuration runs in this
process after a warm-up and is measured over `--repeat` wall windows of `--seconds`: this
process's CPU seconds (`time.process_time`, every thread: ffmpeg's included) per second of video
it handled (frames / 25), median of the windows; "real time" is video seconds per wall second
(1.00: it keeps up).

1. Recording: (a) the connection alone (`PacketFeed`, a sink that drops the packets); (b) the
   recorder (`VideoHub.record`: `PacketFeed` + `SegmentRecorder` into fragmented-MP4 segments
   indexed in a `RecordingStore` on SQLite); (c) the naive recorder: PyAV decodes the stream and
   re-encodes it with libx264 (veryfast, same size) into an mp4; (d) decode only, what analysis
   pays anyway (`LiveSource`: every frame decoded, 5 fps converted to BGR).
2. Live view: `PacketFeed` + one `LiveStream` with 0, 1, 4 and 16 viewers draining `chunks` on
   threads; against a naive live server that decodes and re-encodes for each viewer (its own
   connection, libx264 veryfast into fragmented MP4 in memory) for 1 and 4 viewers.
3. Disk per camera-hour: the bytes of (b)'s indexed segments and of (c)'s mp4 over the seconds
   they hold.

    .venv/bin/python bench/bench_recording.py [--seconds 8] [--repeat 3] [--clip-seconds 30]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
from av.packet import Packet
from av.video.stream import VideoStream

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from rtsp import RtspServer, unavailable_reason

from safecity.config import RecordingSettings, SimSettings
from safecity.sim import render_city
from safecity.sources.live import LiveSource
from safecity.store.database import Database
from safecity.store.recordings import RecordingStore
from safecity.types import Camera, RecordingMode
from safecity.video.feed import PacketFeed
from safecity.video.hub import VideoHub
from safecity.video.live import LiveStream
from safecity.video.segments import fragmented_mp4_options, probe_seconds

FPS = 25.0
ANALYSIS_FPS = 5.0
NAIVE_PRESET = "veryfast"
NO_VALUE = "-"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Cost:
    """Medians over the measured windows."""

    cpu_per_video_s: float
    """CPU seconds of this process per second of video handled (1.0 = one core in real time)."""
    real_time: float
    """Video seconds handled per wall second (per viewer for the naive live server)."""


def measure(progress: Callable[[], float], seconds: float, repeat: int) -> Cost:
    """Wait for video to flow (then 2 s more), then `repeat` windows of `seconds`.

    `progress()` is the video seconds handled so far (frames or packets / fps).
    """
    deadline = time.monotonic() + 30
    while progress() == 0:
        if time.monotonic() > deadline:
            raise RuntimeError("no video arrived within 30 s")
        time.sleep(0.05)
    time.sleep(2.0)
    cpu, pace = [], []
    for _ in range(repeat):
        c0, w0, v0 = time.process_time(), time.monotonic(), progress()
        time.sleep(seconds)
        c1, w1, v1 = time.process_time(), time.monotonic(), progress()
        video = max(v1 - v0, 1e-9)
        cpu.append((c1 - c0) / video)
        pace.append(video / (w1 - w0))
    return Cost(statistics.median(cpu), statistics.median(pace))


# -- (a) the connection alone ------------------------------------------------------------------


class DropSink:
    """A `PacketSink` that keeps nothing: what the connection costs without a recorder."""

    def opened(self, stream: VideoStream) -> None:
        pass

    def packet(self, packet: Packet[VideoStream], arrival: datetime) -> None:
        pass

    def closed(self) -> None:
        pass


def new_feed(url: str) -> PacketFeed:
    return PacketFeed(url, open_timeout_s=10.0, stall_timeout_s=10.0, clock=now)


def connection_only(url: str, seconds: float, repeat: int) -> Cost:
    feed = new_feed(url)
    feed.add(DropSink())
    feed.start()
    try:
        return measure(lambda: feed.status().packets / FPS, seconds, repeat)
    finally:
        feed.stop()


# -- (b) the recorder --------------------------------------------------------------------------


@dataclass(frozen=True)
class Disk:
    files: int
    bytes: int
    seconds: float
    """Seconds of video the files hold."""

    @property
    def mb_per_hour(self) -> float:
        return self.bytes / max(self.seconds, 1e-9) * 3600 / 1e6


def recording(url: str, camera: Camera, work: Path, seconds: float, repeat: int) -> tuple[Cost, Disk]:
    db = Database.open(f"sqlite:///{(work / 'recordings.db').as_posix()}")
    store = RecordingStore(db, work / "recordings")
    hub = VideoHub(RecordingSettings(), store, clock=now)
    camera = replace(camera, stream_url=url, recording=RecordingMode.CONTINUOUS)
    hub.record([camera])
    try:
        cost = measure(lambda: hub.status()[camera.id].packets / FPS, seconds, repeat)
    finally:
        hub.stop()  # closes the open segment: renamed and indexed
    t0 = datetime(2000, 1, 1, tzinfo=UTC)
    segments = store.segments(camera.id, t0, now() + timedelta(days=1))
    indexed = sum((s.end - s.start).total_seconds() for s in segments)
    probed = sum(probe_seconds(store.file(s)) or 0.0 for s in segments)
    if abs(indexed - probed) > 0.5:
        print(f"warning: segments index {indexed:.1f} s of video, their files hold {probed:.1f} s")
    db.close()
    return cost, Disk(len(segments), sum(s.size for s in segments), probed)


# -- (c) the naive recorder and (2) the naive live server: decode and re-encode ---------------


class Discard(io.RawIOBase):
    """A muxer's output that keeps only the byte count (the naive live server's socket)."""

    def __init__(self) -> None:
        self.written = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.written

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.written += len(data)
        return len(data)


class Transcoder:
    """One naive pipeline on a thread: its own RTSP connection, every frame decoded and encoded
    with libx264 at the same size, muxed into `target` (an mp4 path, or fragmented MP4 bytes)."""

    def __init__(self, url: str, target: Path | Discard) -> None:
        self.url = url
        self.target = target
        self.frames = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="naive transcoder", daemon=True)

    def start(self) -> Transcoder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        try:
            self._transcode()
        except (av.FFmpegError, OSError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def _transcode(self) -> None:
        options = {"rtsp_transport": "tcp", "analyzeduration": "500000"}
        with av.open(self.url, options=options, timeout=(10.0, 5.0)) as source:
            video = source.streams.video[0]
            if isinstance(self.target, Path):
                output = av.open(str(self.target), "w", format="mp4")
            else:
                output = av.open(self.target, "w", format="mp4", options=fragmented_mp4_options(200))
            with output:
                encoder = output.add_stream("libx264", rate=int(FPS))
                encoder.width, encoder.height = video.width, video.height
                encoder.pix_fmt = "yuv420p"
                encoder.options = {"preset": NAIVE_PRESET}
                for frame in source.decode(video):
                    if self._stop.is_set():
                        break
                    frame.pts = self.frames
                    frame.time_base = Fraction(1, int(FPS))
                    output.mux(encoder.encode(frame))
                    self.frames += 1
                output.mux(encoder.encode(None))


@contextmanager
def transcoders(url: str, targets: list[Path | Discard]) -> Iterator[list[Transcoder]]:
    running = [Transcoder(url, target).start() for target in targets]
    try:
        yield running
    finally:
        for t in running:
            t.stop()
        for t in running:
            if t.error is not None:
                print(f"warning: naive transcoder failed: {t.error}")


def naive_recorder(url: str, work: Path, seconds: float, repeat: int) -> tuple[Cost, Disk]:
    path = work / "naive.mp4"
    with transcoders(url, [path]) as (naive,):
        cost = measure(lambda: naive.frames / FPS, seconds, repeat)
    return cost, Disk(1, path.stat().st_size, naive.frames / FPS)


# -- (d) decode only ---------------------------------------------------------------------------


def decode_only(url: str, seconds: float, repeat: int) -> Cost:
    """What analysis pays for a camera anyway: `LiveSource` decodes every frame, 5 fps to BGR."""
    source = LiveSource("decode", url, sample_fps=ANALYSIS_FPS, queue_size=64).start()
    stop = threading.Event()

    def drain() -> None:
        while not stop.is_set():
            source.get(timeout=0.1)

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    try:
        return measure(lambda: source.status.frames_decoded / FPS, seconds, repeat)
    finally:
        stop.set()
        drainer.join()
        source.stop(timeout=5)


# -- (2) live view -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveResult:
    cost: Cost
    mb_per_viewer_s: float
    """MP4 bytes each viewer received per second of video (median over viewers)."""
    dropped: int
    """Viewers the stream dropped (queue full) or that ended early."""


def live_view(url: str, viewers: int, seconds: float, repeat: int) -> LiveResult:
    feed = new_feed(url)
    live = LiveStream("bench", fragment_ms=RecordingSettings().live_fragment_ms, max_viewers=max(viewers, 1))
    feed.add(live)
    received = [0] * viewers
    ended_early = [False] * viewers
    stop = threading.Event()

    def watch(i: int) -> None:
        viewer = live.join()
        if viewer is None:
            ended_early[i] = True
            return
        for chunk in viewer.chunks(timeout_s=10.0):
            received[i] += len(chunk)
        ended_early[i] = not stop.is_set()

    threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(viewers)]
    feed.start()
    for t in threads:
        t.start()
    try:
        cost = measure(lambda: feed.status().packets / FPS, seconds, repeat)
    finally:
        stop.set()
        feed.stop()  # the live stream's `closed` ends every viewer
        for t in threads:
            t.join(15)
    video_s = max(feed.status().packets / FPS, 1e-9)
    per_viewer = statistics.median(received) / video_s / 1e6 if viewers else 0.0
    return LiveResult(cost, per_viewer, sum(ended_early))


def naive_live(url: str, viewers: int, seconds: float, repeat: int) -> Cost:
    """A decode and a libx264 encode per viewer; CPU per second of video of the camera (all viewers)."""
    sinks: list[Path | Discard] = [Discard() for _ in range(viewers)]
    with transcoders(url, sinks) as running:
        # Per viewer: progress is the mean frames of the viewers, so the cost is for all of them.
        return measure(lambda: statistics.fmean(t.frames for t in running) / FPS, seconds, repeat)


# -- report ------------------------------------------------------------------------------------


def pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one measured window")
    parser.add_argument("--repeat", type=int, default=3, help="measured windows per configuration")
    parser.add_argument("--clip-seconds", type=float, default=30.0, help="length of the rendered clip")
    parser.add_argument("--viewers", default="0,1,4,16", help="live viewer counts")
    parser.add_argument("--naive-viewers", default="1,4", help="viewer counts for the naive live server")
    args = parser.parse_args()
    if args.seconds <= 0 or args.repeat < 1:
        raise ValueError(
            f"--seconds must be positive and --repeat at least 1, got {args.seconds}, {args.repeat}"
        )
    if (reason := unavailable_reason()) is not None:
        print(f"skipped: {reason}")
        return 0
    viewer_counts = [int(v) for v in args.viewers.split(",")]
    naive_counts = [int(v) for v in args.naive_viewers.split(",") if v]
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        city = render_city(work / "sim", SimSettings(fps=FPS, seconds=args.clip_seconds), cameras=1, seed=1)
        camera = city.cameras[0]
        clip = city.clips[camera.id]
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            size = f"{stream.width}x{stream.height}"
            source_mbit = clip.stat().st_size * 8 / args.clip_seconds / 1e6
        with RtspServer({"/cam": clip}) as server:
            url = server.url("/cam")
            a = connection_only(url, args.seconds, args.repeat)
            b, disk_b = recording(url, camera, work, args.seconds, args.repeat)
            c, disk_c = naive_recorder(url, work, args.seconds, args.repeat)
            d = decode_only(url, args.seconds, args.repeat)
            live = {n: live_view(url, n, args.seconds, args.repeat) for n in viewer_counts}
            naive = {n: naive_live(url, n, args.seconds, args.repeat) for n in naive_counts}
    elapsed = time.monotonic() - started

    print(
        f"{size} {FPS:g} fps H.264 sim clip ({args.clip_seconds:g} s, {source_mbit:.2f} Mbit/s) over RTSP; "
        f"process CPU per second of video, median of {args.repeat} x {args.seconds:g} s"
    )
    print()
    print("1. recording (ratio: CPU / recorder's)")
    print(
        f"| {'path':<50} | {'CPU s / video s':>15} | {'% of a core':>11} | {'real time':>9} | {'ratio':>7} |"
    )
    print(f"|{'-' * 52}|{'-' * 17}|{'-' * 13}|{'-' * 11}|{'-' * 9}|")
    rows = (
        ("(a) connection only (PacketFeed, packets dropped)", a),
        ("(b) recorder (PacketFeed + SegmentRecorder)", b),
        (f"(c) naive: decode + libx264 {NAIVE_PRESET} to mp4", c),
        ("(d) decode only (LiveSource, analysis pays it)", d),
    )
    for name, cost in rows:
        ratio = cost.cpu_per_video_s / b.cpu_per_video_s
        print(
            f"| {name:<50} | {cost.cpu_per_video_s:>15.4f} | {pct(cost.cpu_per_video_s):>11} | "
            f"{cost.real_time:>9.2f} | {ratio:>6.2f}x |"
        )
    remux = b.cpu_per_video_s - a.cpu_per_video_s
    print(
        f"remux over the connection (b - a): {pct(remux)} of a core = "
        f"{pct(remux / d.cpu_per_video_s)} of decode"
    )
    print(
        f"recorder with its own connection (b): {pct(b.cpu_per_video_s)} of a core = "
        f"{pct(b.cpu_per_video_s / d.cpu_per_video_s)} of decode (target <= 5 %); "
        f"naive / recorder (c / b): {c.cpu_per_video_s / b.cpu_per_video_s:.1f}x"
    )
    print()
    print("2. live view of one camera (ratio: naive / ours at the same viewers)")
    print(
        f"| {'viewers':>7} | {'ours CPU s / video s':>20} | {'% of a core':>11} | {'MB/s each':>9} | "
        f"{'dropped':>7} | {'naive CPU s / video s':>21} | {'naive real time':>15} | {'ratio':>7} |"
    )
    print(f"|{'-' * 9}|{'-' * 22}|{'-' * 13}|{'-' * 11}|{'-' * 9}|{'-' * 23}|{'-' * 17}|{'-' * 9}|")
    for n in sorted(set(viewer_counts) | set(naive_counts)):
        ours = live.get(n)
        theirs = naive.get(n)
        cells = (
            [
                f"{ours.cost.cpu_per_video_s:.4f}",
                pct(ours.cost.cpu_per_video_s),
                f"{ours.mb_per_viewer_s:.3f}",
                str(ours.dropped),
            ]
            if ours
            else [NO_VALUE] * 4
        )
        naive_cells = (
            [f"{theirs.cpu_per_video_s:.4f}", f"{theirs.real_time:.2f}"] if theirs else [NO_VALUE] * 2
        )
        ratio_cell = (
            f"{theirs.cpu_per_video_s / ours.cost.cpu_per_video_s:.1f}x" if ours and theirs else NO_VALUE
        )
        print(
            f"| {n:>7} | {cells[0]:>20} | {cells[1]:>11} | {cells[2]:>9} | {cells[3]:>7} | "
            f"{naive_cells[0]:>21} | {naive_cells[1]:>15} | {ratio_cell:>7} |"
        )
    if len(live) > 1:
        lo, hi = min(live), max(live)
        per_viewer = (live[hi].cost.cpu_per_video_s - live[lo].cost.cpu_per_video_s) / (hi - lo)
        print(f"per extra viewer ({lo} -> {hi}): {per_viewer * 100:.3f} % of a core, no decode")
    print()
    print("3. disk per camera-hour at 720p (ratio: / recorder's)")
    print(
        f"| {'recorder':<36} | {'files':>5} | {'MB':>7} | {'video s':>7} | {'MB / hour':>9} | {'ratio':>7} |"
    )
    print(f"|{'-' * 38}|{'-' * 7}|{'-' * 9}|{'-' * 9}|{'-' * 11}|{'-' * 9}|")
    for name, disk in (
        ("(b) remux (camera's own H.264)", disk_b),
        (f"(c) naive libx264 {NAIVE_PRESET} (crf 23)", disk_c),
    ):
        print(
            f"| {name:<36} | {disk.files:>5} | {disk.bytes / 1e6:>7.2f} | {disk.seconds:>7.1f} | "
            f"{disk.mb_per_hour:>9.0f} | {disk.mb_per_hour / disk_b.mb_per_hour:>6.2f}x |"
        )
    print(f"whole run {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
