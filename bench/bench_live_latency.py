"""Glass-to-glass latency of the live view: camera frame made -> frame on the browser's screen.

The clock camera (`safecity.sim.clock_rtsp`, GStreamer + openh264 under the system Python) makes
640x360 25 fps frames live, each carrying the wall-clock millisecond it was made
(`safecity.sim.timecode`), encodes them at once (baseline, no B-frames, a keyframe a second) and
serves them over RTSP. The app (`create_app` with a `VideoHub`, uvicorn on 127.0.0.1) remuxes
the stream to fragmented MP4 for its live view, which Debian's chromium (headless, Playwright)
plays on the camera page with Media Source Extensions, as an operator would. Same machine, same
clock, so latency = when the frame is shown - the time written in it.

Each configuration runs for `--seconds` after a warm-up:

(a) floor: the RTSP stream read and decoded in this process with PyAV, every frame (camera,
    encoder, RTP and decode: what any viewer pays at least; a per-viewer decode + JPEG server
    starts from here).
(b) the app's live fMP4 over HTTP (`GET /api/v1/cameras/{id}/live.mp4`), read and decoded with
    PyAV in this process: the server path without the browser.
(c) the browser: every `--every` s the page waits for the next frame the video element presents
    (`requestVideoFrameCallback`), draws it to a canvas and sends it back as PNG; its
    display time is the callback's `expectedDisplayTime`. Also recorded: the player's lag
    behind what it has buffered (buffered end - currentTime).

(b) and (c) run once per `--fragments` value (`recording.live_fragment_ms`). Medians, p90 and
max over the reads; ratio = median / floor's median.

    .venv/bin/python bench/bench_live_latency.py [--seconds 20] [--every 0.5] [--fragments 200,500]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np

from safecity.config import Settings
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.server.runner import ApiServer
from safecity.sim import timecode
from safecity.sim.clock_rtsp import ClockCamera, unavailable_reason
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.recordings import RecordingStore
from safecity.types import Camera, Site
from safecity.video.hub import VideoHub

CAMERA = "clock"
USER = "operator-1"
PASSWORD = "a long enough password for the bench"
WARMUP_S = 3.0
FPS = 25
CHROMIUM = Path("/usr/bin/chromium")
"""Debian's chromium (apt: chromium), as the browser tests use; Playwright's own download is not."""


@dataclass
class Reads:
    """Latencies in seconds, and the reads whose pattern could not be decoded."""

    latencies: list[float] = field(default_factory=list)
    unread: int = 0
    lags: list[float] = field(default_factory=list)

    def add(self, shown_ms: float, frame: np.ndarray) -> None:
        made = timecode.decode(frame)
        if made is None:
            self.unread += 1
        else:
            self.latencies.append((shown_ms - made) / 1000)

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p90(self) -> float:
        data = sorted(self.latencies)
        return data[min(len(data) - 1, round(0.9 * (len(data) - 1)))]

    @property
    def max(self) -> float:
        return max(self.latencies)


def now_ms() -> float:
    return time.time_ns() / 1e6


# -- (a) the floor: RTSP decoded in-process ---------------------------------------------------


def decode_stream(container: av.container.InputContainer, seconds: float) -> Reads:
    """Every frame of the container's video after the warm-up, for `seconds`."""
    reads = Reads()
    stream = container.streams.video[0]
    first: float | None = None
    for frame in container.decode(stream):
        shown = now_ms()
        first = first if first is not None else shown
        if shown - first < WARMUP_S * 1000:
            continue
        reads.add(shown, frame.to_ndarray(format="gray"))
        if shown - first > (WARMUP_S + seconds) * 1000:
            break
    return reads


def floor(url: str, seconds: float) -> Reads:
    options = {"rtsp_transport": "tcp", "analyzeduration": "500000"}
    with av.open(url, "r", options=options, timeout=(10.0, 5.0)) as container:
        return decode_stream(container, seconds)


# -- the app ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class App:
    url: str
    token: str
    hub: VideoHub


@contextmanager
def serve(camera_url: str, fragment_ms: int) -> Iterator[App]:
    """The app on a free port over a fresh database: one camera (the clock), one operator."""
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        settings = Settings(data_dir=Path(tmp), recording={"live_fragment_ms": fragment_ms})
        db = Database.open(settings.effective_database_url, settings.store)
        site = Site(id="site-1", name="Bench", latitude=44.8026, longitude=20.4664)
        camera = Camera(
            id=CAMERA, name="Clock camera", site_id=site.id, latitude=44.8026, longitude=20.4664,
            stream_url=camera_url, legal_basis="Benchmark clock, nothing real is recorded.",
        )  # fmt: skip
        CameraStore(db).save([site], [camera])
        UserStore(db).add(USER, Role.OPERATOR, PASSWORD)
        hub = VideoHub(
            settings.recording,
            RecordingStore(db, settings.effective_recordings_dir),
            clock=lambda: datetime.now(UTC),
        )
        server = ApiServer(create_app(settings, db, video=hub), "127.0.0.1", 0).start()
        try:
            login = httpx.post(
                f"{server.url}/api/v1/auth/login", json={"username": USER, "password": PASSWORD}, timeout=10
            )
            login.raise_for_status()
            yield App(server.url, str(login.json()["token"]), hub)
        finally:
            server.close()
            hub.stop()
            db.close()


# -- (b) the app's fMP4 over HTTP, decoded with PyAV ------------------------------------------


class HttpBody(io.RawIOBase):
    """A streaming HTTP body as a file for PyAV: `read` returns what has arrived, not a full buffer."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._rest:
            self._rest = next(self._chunks, b"")
        n = min(len(buffer), len(self._rest))
        buffer[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def over_http(app: App, seconds: float) -> Reads:
    headers = {"Authorization": f"Bearer {app.token}"}
    url = f"{app.url}/api/v1/cameras/{CAMERA}/live.mp4"
    with httpx.stream("GET", url, headers=headers, timeout=10) as response:
        response.raise_for_status()
        body = HttpBody(response.iter_raw())
        # Small probe: the stream's parameters are in the init segment already.
        options = {"probesize": "32768", "analyzeduration": "0"}
        with av.open(body, "r", format="mp4", options=options) as container:
            return decode_stream(container, seconds)


# -- (c) the browser --------------------------------------------------------------------------


WAIT_PLAYING_JS = """
(el, seconds) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("the live view did not play within 30 s")), 30000);
  const check = () => (el.currentTime >= seconds && !el.paused)
    ? (clearTimeout(timer), resolve()) : el.requestVideoFrameCallback(check);
  el.requestVideoFrameCallback(check);
})
"""
SEEK_LIVE_EDGE_JS = """
(el, margin) => {
  const r = el.buffered;
  el.currentTime = Math.max(r.start(0), r.end(r.length - 1) - margin);
}
"""
"""What the player could do once it plays: jump over the GOP it was sent on joining."""


def in_browser(
    browser: Any, app: App, seconds: float, every: float, *, visits: int, seek_live: bool
) -> Reads:
    """`visits` page loads, each read `seconds / visits` long: a visit's lag depends on where in
    the camera's GOP it joined, so one visit is one draw of it."""
    reads = Reads()
    frames = max(1, round(every * FPS))
    per_visit = max(1, round(seconds / every / visits))
    for _ in range(visits):
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        try:
            login = context.request.post(
                f"{app.url}/api/v1/auth/login", data={"username": USER, "password": PASSWORD}
            )
            if not login.ok:
                raise RuntimeError(f"login failed: {login.status} {login.text()}")
            page = context.new_page()
            page.goto(f"{app.url}/cameras/{CAMERA}")
            video = page.locator("#live-video")
            video.evaluate(WAIT_PLAYING_JS, 1.0)
            if seek_live:
                video.evaluate(SEEK_LIVE_EDGE_JS, 0.3)
            for _ in range(per_visit):
                result = video.evaluate(timecode.READ_FRAME_JS, frames)
                reads.add(float(result["shown"]), timecode.png_frame(result["png"]))
                if result["lag"] is not None:
                    reads.lags.append(float(result["lag"]))
        finally:
            context.close()
    return reads


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


# -- the table ---------------------------------------------------------------------------------


def row(name: str, fragment: str, reads: Reads, base: float) -> str:
    if not reads.latencies:
        cells = f"{'-':>8} | {'-':>8} | {'-':>8} | {'-':>7}"
        return f"| {name:<52} | {fragment:>8} | {0:>5} | {reads.unread:>6} | {cells} |"
    return (
        f"| {name:<52} | {fragment:>8} | {len(reads.latencies):>5} | {reads.unread:>6} | "
        f"{reads.median:>8.3f} | {reads.p90:>8.3f} | {reads.max:>8.3f} | {reads.median / base:>6.1f}x |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per configuration")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between browser reads")
    parser.add_argument("--fragments", default="200,500", help="recording.live_fragment_ms values")
    parser.add_argument("--visits", type=int, default=4, help="page loads per browser row")
    parser.add_argument("--gop", type=int, default=FPS, help="camera frames between keyframes")
    args = parser.parse_args()
    if args.seconds <= 0 or args.every <= 0 or args.visits < 1:
        raise ValueError(
            f"--seconds and --every must be positive and --visits at least 1, got {args.seconds}, "
            f"{args.every} and {args.visits}"
        )
    fragments = [int(f) for f in args.fragments.split(",") if f]
    if (reason := unavailable_reason()) is not None:
        print(f"skipped: {reason}")
        return 0
    if not CHROMIUM.exists():
        print(f"skipped: {CHROMIUM} is missing (apt-get install chromium)")
        return 0
    if importlib.util.find_spec("playwright") is None:
        print("skipped: playwright is not installed (pip install playwright, or the dev extra)")
        return 0
    started = time.monotonic()
    results: list[tuple[str, str, Reads]] = []
    with ClockCamera(fps=FPS, gop=args.gop) as camera, chromium() as browser:
        base = floor(camera.url, args.seconds)
        results.append(("(a) floor: RTSP decoded in-process (PyAV)", "-", base))
        for fragment_ms in fragments:
            fragment = str(fragment_ms)
            with serve(camera.url, fragment_ms) as app:
                served = over_http(app, args.seconds)
                results.append(("(b) app's live.mp4 over HTTP, decoded (PyAV)", fragment, served))
                # The hub keeps the camera's connection for `live_idle_s`: the browser joins it warm,
                # as a second operator would; its first keyframe comes from the hub's GOP cache.
                plain = in_browser(
                    browser, app, args.seconds, args.every, visits=args.visits, seek_live=False
                )
                results.append(("(c) browser: MSE player on the camera page (app.js)", fragment, plain))
                seeked = in_browser(
                    browser, app, args.seconds, args.every, visits=args.visits, seek_live=True
                )
                results.append(("(d) browser, one seek to buffered end - 0.3 s", fragment, seeked))
    elapsed = time.monotonic() - started

    print(
        f"clock camera 640x360 {FPS} fps, openh264 (baseline, keyframe every {args.gop} frames) over RTSP "
        f"on 127.0.0.1; glass-to-glass latency in seconds over {args.seconds:g} s per row "
        f"(browser: a read every {args.every:g} s)"
    )
    print()
    print(
        f"| {'path':<52} | {'fragment':>8} | {'reads':>5} | {'unread':>6} | {'median':>8} | {'p90':>8} | "
        f"{'max':>8} | {'ratio':>7} |"
    )
    print(f"|{'-' * 54}|{'-' * 10}|{'-' * 7}|{'-' * 8}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 9}|")
    for name, fragment, reads in results:
        print(row(name, fragment + (" ms" if fragment != "-" else ""), reads, base.median))
    print()
    browser_rows = [(f, r) for name, f, r in results if name.startswith("(c)") and r.latencies]
    server_rows = [(f, r) for name, f, r in results if name.startswith("(b)") and r.latencies]
    for name, fragment, reads in results:
        if name.startswith(("(c)", "(d)")) and reads.lags:
            print(
                f"{name[:3]} fragment {fragment} ms: the player's lag behind what it has buffered "
                f"(buffered end - currentTime): median {statistics.median(reads.lags):.3f} s, "
                f"max {max(reads.lags):.3f} s"
            )
    for label, rows in (("server path (b)", server_rows), ("browser (c)", browser_rows)):
        if len(rows) >= 2 and rows[0][0] != rows[-1][0]:
            (f0, r0), (f1, r1) = rows[0], rows[-1]
            change = r1.median - r0.median
            per_s = change * 1000 / (int(f1) - int(f0))
            print(
                f"fragment {f0} -> {f1} ms: {label} median {change:+.3f} s ({per_s:.2f} s per s of fragment)"
            )
    worst = max((r.max for _, r in browser_rows), default=float("nan"))
    verdict = "met" if worst <= 2.0 else "NOT met"
    print(f"target: glass-to-glass <= 2 s on the same machine (app.js as it is, every read): {verdict}")
    print(f"{elapsed:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
