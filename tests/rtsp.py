"""A real RTSP server for tests: runs tests/rtsp_server.py (GStreamer) with the system Python.

``RtspServer({"/cam1": clip})`` starts on a free port on 127.0.0.1 and waits for the server's
READY line; `url()` names a mount; `stop()` kills it, `start()` brings it back on the same port
(for reconnect tests); `pause()` / `resume()` freeze it with SIGSTOP / SIGCONT, so that its
connections stay open but carry nothing (a stalled camera).

`unavailable_reason()` says why no server can run here (no /usr/bin/python3, no GStreamer RTSP
server bindings, a missing plugin); tests pass it to `need_service`, which skips locally and
fails in CI.
"""

from __future__ import annotations

import functools
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from safecity.sim import rtsp as sim_rtsp
from safecity.sim.rtsp import SERVER_SCRIPT, SYSTEM_PYTHON


@functools.cache
def unavailable_reason() -> str | None:
    """None when the RTSP test server can run here, else why not (with the packages to install):
    the check `safecity.sim.rtsp` makes for the demo, asked once per test session."""
    reason = sim_rtsp.unavailable_reason()
    return None if reason is None else f"RTSP test server: {reason}"


class RtspServer:
    """One rtsp_server.py process serving `mounts` (mount path -> H.264 mp4) on 127.0.0.1."""

    def __init__(self, mounts: dict[str, Path], *, ready_timeout_s: float = 30.0) -> None:
        self.mounts = {("/" + m.lstrip("/")): Path(p) for m, p in mounts.items()}
        self.ready_timeout_s = ready_timeout_s
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.mkdtemp(prefix="rtsp-server-")) / "stderr.log"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Start the server (the first time on a free port, later on the same one); wait until READY."""
        if self._process is not None and self._process.poll() is None:
            raise RuntimeError("the RTSP server is already running")
        deadline = time.monotonic() + self.ready_timeout_s
        while True:
            error = self._try_start(deadline)
            if error is None:
                return self
            # Rebinding the same port right after a kill can fail while the old sockets close.
            if "cannot listen" not in error or time.monotonic() > deadline:
                raise RuntimeError(error)
            time.sleep(0.1)

    def _try_start(self, deadline: float) -> str | None:
        args = [str(self.port), *(f"{mount}={path}" for mount, path in self.mounts.items())]
        remaining = max(0.1, deadline - time.monotonic())
        try:
            self._process, self.port = sim_rtsp.launch(
                SERVER_SCRIPT, args, python=SYSTEM_PYTHON, log=self._log, ready_timeout_s=remaining
            )
        except sim_rtsp.RtspServerError as exc:
            return f"RTSP test server: {exc}"
        return None

    def stop(self) -> None:
        """Kill the server (SIGKILL: its clients see the connection drop, as when a camera dies)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def pause(self) -> None:
        """Freeze the server: connections stay open, no data flows."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        if self._process is None:
            raise RuntimeError("the RTSP server is not running")
        self._process.send_signal(sig)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        shutil.rmtree(self._log.parent, ignore_errors=True)

    # -- addresses ---------------------------------------------------------------------------

    def url(self, mount: str, *, user: str | None = None, password: str | None = None) -> str:
        """rtsp://127.0.0.1:PORT/mount, with credentials when given (the server ignores them)."""
        if not self.port:
            raise RuntimeError("the RTSP server has not been started")
        credentials = ""
        if user is not None:
            credentials = quote(user, safe="")
            if password is not None:
                credentials += ":" + quote(password, safe="")
            credentials += "@"
        return f"rtsp://{credentials}127.0.0.1:{self.port}/{mount.lstrip('/')}"
