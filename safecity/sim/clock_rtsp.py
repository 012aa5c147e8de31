"""Starting and stopping the clock camera (`clock_camera.py`) from this process, for latency
benchmarks and tests: a live RTSP stream on 127.0.0.1 whose frames carry the time they were made.

Like the sim's RTSP server (`rtsp.py`, whose bootstrap this reuses), the camera runs under the
system Python with GStreamer's bindings and dies with the thread that started it (parent-death
signal). `unavailable_reason()` says why it cannot run here, with the Debian packages to install.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
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

ELEMENTS = ("appsrc", "openh264enc", "h264parse", "rtph264pay")


def unavailable_reason(python: Path = SYSTEM_PYTHON) -> str | None:
    """None when the clock camera can run here, else why not (with the Debian packages to install)."""
    return sim_rtsp.unavailable_reason(python, ELEMENTS)


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
        args = [str(self.port), f"--mount={MOUNT}", *self.args]
        self._process, self.port = sim_rtsp.launch(
            SERVER_SCRIPT, args, python=self.python, log=self.log, ready_timeout_s=READY_TIMEOUT_S
        )
        return self

    def stop(self) -> None:
        """End the camera and remove its log; idempotent."""
        process, self._process = self._process, None
        if process is not None:
            sim_rtsp.end(process)
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
