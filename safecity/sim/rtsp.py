"""Starting and stopping the sim's RTSP server (`rtsp_server.py`) from this process: rendered clips
served as looping cameras on 127.0.0.1, for `safecity sim rtsp` and the demo's live part.

The server runs under the system Python (`SYSTEM_PYTHON`), which has GStreamer's bindings; the
project's virtualenv has none. `unavailable_reason()` says why it cannot run here (and which
Debian packages to install); `RtspServer(mounts).start()` starts it on a free port (or the one
given) and returns once it listens; `stop()` ends it. On Linux the server also dies with the
thread that started it, even when this process is killed with SIGKILL (parent-death signal), so
no camera is left streaming to nobody.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

SYSTEM_PYTHON = Path("/usr/bin/python3")
SERVER_SCRIPT = Path(__file__).resolve().with_name("rtsp_server.py")
DEBIAN_PACKAGES = (
    "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good "
    "gstreamer1.0-plugins-bad"
)
"""What `rtsp_server.py` needs on Debian: the bindings and the plugins of the elements it uses."""
INSTALL = f"apt-get install {DEBIAN_PACKAGES}"
HOST = "127.0.0.1"
"""`rtsp_server.py` listens on this address only: the sim's cameras are never offered to the network."""
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0

SERVER_ELEMENTS = ("appsrc", "appsink", "filesrc", "qtdemux", "h264parse", "rtph264pay")
"""The GStreamer elements `rtsp_server.py` cannot do without (H.265 and MJPEG ones are optional)."""

_CHECK = """
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
print(" ".join(e for e in sys.argv[1:] if Gst.ElementFactory.find(e) is None))
"""

# Runs the server script after asking Linux to kill it when its parent thread dies (prctl
# PR_SET_PDEATHSIG, kept across exec): done here rather than in a `preexec_fn`, which is unsafe in a
# process that runs threads. argv: parent pid, script, then the script's own arguments.
_BOOTSTRAP = """
import ctypes, os, runpy, signal, sys
try:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)
except (OSError, AttributeError):
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(70)
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

_MOUNT = re.compile(r"^/[A-Za-z0-9._-]{1,64}$")
_READY = re.compile(rb"READY rtsp://[^:]+:(\d+)")


class RtspServerError(RuntimeError):
    """The RTSP server did not start (or stopped); the message says why, with its last words."""


def unavailable_reason(python: Path = SYSTEM_PYTHON, elements: Sequence[str] = SERVER_ELEMENTS) -> str | None:
    """None when a GStreamer RTSP server with `elements` can run here, else why not (with the
    Debian packages to install)."""
    if not python.is_file():
        return f"{python} is missing (the system Python with GStreamer's bindings); {INSTALL}"
    try:
        result = subprocess.run(
            [str(python), "-c", _CHECK, *elements], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {python}: {exc}"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        return f"{python} has no GStreamer RTSP server bindings ({last}); {INSTALL}"
    if missing := result.stdout.strip():
        return f"GStreamer elements missing: {missing}; {INSTALL}"
    return None


def launch(
    script: Path, args: Sequence[str], *, python: Path, log: Path, ready_timeout_s: float
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a GStreamer RTSP server script under the system Python, bound to the calling thread's
    life, and wait for its `READY rtsp://HOST:PORT` line: (the process, the port it listens on).

    RtspServerError, with the script's last words from `log`, when it does not get ready."""
    command = [str(python), "-c", _BOOTSTRAP, str(os.getpid()), str(script), *args]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as stderr:
        # Its own session: a Ctrl-C in the terminal reaches this process, which stops the
        # server last, after the clients that read it.
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True
        )
    match = _READY.match(_first_line(process, time.monotonic() + ready_timeout_s))
    if match is None:
        end(process)
        raise RtspServerError(
            f"{script.name} did not start (exit code {process.returncode}): {last_words(log)}"
        )
    return process, int(match.group(1))


def last_words(log: Path, lines: int = 5) -> str:
    """The last lines a server wrote to its log (for error messages)."""
    try:
        text = log.read_text(errors="replace").strip()
    except OSError:
        return "(no log)"
    return " | ".join(text.splitlines()[-lines:]) or "(it printed nothing)"


def _first_line(process: subprocess.Popen[bytes], deadline: float) -> bytes:
    """The server's first line of output (READY …), or what came before the deadline or its exit."""
    assert process.stdout is not None
    line = b""
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
    return line


class RtspServer:
    """One `rtsp_server.py` process serving `mounts` (mount path -> H.264 mp4, looping) on 127.0.0.1.

    `port` 0 takes any free port; the one chosen is in `port` once started. The server's messages
    go to `log` (default: a temporary file removed on `stop`), so that GStreamer's warnings do not
    mix with this process's output; the last of them are in the error when it fails to start.
    The parent-death signal binds the server to the *thread* that starts it: start it from a
    thread that lives as long as the server should.
    """

    def __init__(
        self,
        mounts: Mapping[str, Path],
        *,
        port: int = 0,
        log: Path | None = None,
        python: Path = SYSTEM_PYTHON,
        ready_timeout_s: float = READY_TIMEOUT_S,
    ) -> None:
        if not mounts:
            raise ValueError("an RTSP server needs at least one mount (mount path -> clip)")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) to 65535, got {port}")
        self.mounts: dict[str, Path] = {}
        for mount, clip in mounts.items():
            path = "/" + mount.lstrip("/")
            if not _MOUNT.match(path):
                raise ValueError(
                    f"mount {mount!r} must be one path segment of letters, digits, '.', '_' or '-'"
                )
            if not Path(clip).is_file():
                raise ValueError(f"mount {path}: {clip} is not a file")
            self.mounts[path] = Path(clip).resolve()
        self.port = port
        self.python = python
        self.ready_timeout_s = ready_timeout_s
        self._own_log = log is None
        self.log = log if log is not None else Path(tempfile.mkdtemp(prefix="safecity-rtsp-")) / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server and wait until it listens; RtspServerError when it does not."""
        if self.running:
            raise RtspServerError("the RTSP server is already running")
        args = [str(self.port), *(f"{mount}={clip}" for mount, clip in self.mounts.items())]
        self._process, self.port = launch(
            SERVER_SCRIPT, args, python=self.python, log=self.log, ready_timeout_s=self.ready_timeout_s
        )
        return self

    def stop(self) -> None:
        """End the server (SIGTERM, then SIGKILL after `STOP_TIMEOUT_S`) and wait for it; idempotent."""
        process, self._process = self._process, None
        if process is not None:
            end(process)
        if self._own_log:
            shutil.rmtree(self.log.parent, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once the server has ended by itself (None while it runs)."""
        return None if self._process is None else self._process.poll()

    def last_words(self, lines: int = 5) -> str:
        """The last lines the server wrote to its log (for error messages)."""
        return last_words(self.log, lines)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    def url(self, mount: str) -> str:
        """rtsp://127.0.0.1:PORT/mount of a started server."""
        if self._process is None:
            raise RtspServerError("the RTSP server is not running")
        path = "/" + mount.lstrip("/")
        if path not in self.mounts:
            raise ValueError(f"no mount {path!r}; the server has {', '.join(sorted(self.mounts))}")
        return f"rtsp://{HOST}:{self.port}{path}"


def end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after `STOP_TIMEOUT_S`; waits for the process."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
