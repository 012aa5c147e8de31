"""Starting and stopping the clock camera (`clock_camera.py`) from this process, for latency
benchmarks and tests: a live RTSP stream on 127.0.0.1 whose frames carry the time they were made.

Like the sim's RTSP server (`rtsp.py`, whose bootstrap this reuses), the camera runs under the
system Python with GStreamer's bindings and dies with the thread that started it (parent-death
signal). `unavailable_reason()` says why it cannot run here, with the Debian packages to install.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from safecity.sim import rtsp as sim_rtsp
from safecity.sim.rtsp import HOST, SYSTEM_PYTHON, RtspServerError

SERVER_SCRIPT = Path(__file__).resolve().with_name("clock_camera.py")
DEBIAN_PACKAGES = sim_rtsp.DEBIAN_PACKAGES
"""openh264enc comes with gstreamer1.0-plugins-bad (and its libopenh264 dependency)."""
INSTALL = f"apt-get install {DEBIAN_PACKAGES}"
MOUNT = "/clock"
READY_TIMEOUT_S = 30.0

_CHECK = """
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
print(" ".join(e for e in ("appsrc", "openh264enc", "h264parse", "rtph264pay")
               if Gst.ElementFactory.find(e) is None))
"""
_READY = re.compile(rb"READY rtsp://[^:]+:(\d+)")


def unavailable_reason(python: Path = SYSTEM_PYTHON) -> str | None:
    """None when the clock camera can run here, else why not (with the Debian packages to install)."""
    if not python.is_file():
        return f"{python} is missing (the system Python with GStreamer's bindings); {INSTALL}"
    try:
        result = subprocess.run(
            [str(python), "-c", _CHECK], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {python}: {exc}"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        return f"{python} has no GStreamer RTSP server bindings ({last}); {INSTALL}"
    if missing := result.stdout.strip():
        return f"GStreamer elements missing for the clock camera: {missing}; {INSTALL}"
    return None


class ClockCamera:
    """One `clock_camera.py` process: a live H.264 clock stream at rtsp://127.0.0.1:PORT/clock.

    `port` 0 takes any free port. `gop` is frames between keyframes (a new viewer waits for one).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        width: int = 640,
        height: int = 360,
        fps: int = 25,
        gop: int = 25,
        bitrate: int = 1_500_000,
        python: Path = SYSTEM_PYTHON,
    ) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) to 65535, got {port}")
        if width % 2 or height % 2 or width < 128 or height < 64:
            raise ValueError(f"the frame must be at least 128x64 with even sides, got {width}x{height}")
        if fps < 1 or gop < 1:
            raise ValueError(f"fps and gop must be at least 1, got {fps} and {gop}")
        self.port = port
        self.args = [f"--size={width}x{height}", f"--fps={fps}", f"--gop={gop}", f"--bitrate={bitrate}"]
        self.python = python
        self.log = Path(tempfile.mkdtemp(prefix="safecity-clock-")) / "camera.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        """Start the camera and wait until it listens; RtspServerError when it does not."""
        if self._process is not None and self._process.poll() is None:
            raise RtspServerError("the clock camera is already running")
        args = [str(self.python), "-c", sim_rtsp._BOOTSTRAP, str(os.getpid()), str(SERVER_SCRIPT)]
        args += [str(self.port), f"--mount={MOUNT}", *self.args]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as stderr:
            process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True
            )
        assert process.stdout is not None
        line = b""
        deadline = time.monotonic() + READY_TIMEOUT_S
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    break
                # One byte at a time: a buffered read could wait for more than the line.
                chunk = os.read(process.stdout.fileno(), 1)
                if not chunk:
                    break
                line += chunk
        match = _READY.match(line)
        if match is None:
            sim_rtsp._end(process)
            words = self.log.read_text(errors="replace").strip().splitlines()[-5:]
            raise RtspServerError(
                f"the clock camera did not start (exit code {process.returncode}): "
                + (" | ".join(words) or "(it printed nothing)")
            )
        self.port = int(match.group(1))
        self._process = process
        return self

    def stop(self) -> None:
        """End the camera and remove its log; idempotent."""
        process, self._process = self._process, None
        if process is not None:
            sim_rtsp._end(process)
        shutil.rmtree(self.log.parent, ignore_errors=True)

    @property
    def url(self) -> str:
        if self._process is None:
            raise RtspServerError("the clock camera is not running")
        return f"rtsp://{HOST}:{self.port}{MOUNT}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
