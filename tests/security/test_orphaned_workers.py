"""`kill -9` of `safecity serve`'s process: its worker processes must not live on without it.

Orphaned workers went on decoding RTSP and writing snapshots that no row will ever reference,
and a restarted `serve` ran beside them (issue 16, item 7). A real worker pool is started in a
parent process of its own, the parent is SIGKILLed (no clean-up runs), and each worker must be
gone within seconds: by the parent-death signal on Linux, and by the portable watch on the
parent's liveness where that signal is not set.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

PARENT = """
import sys
from safecity.config import Settings, StreamSettings
from safecity.pipeline.workers import ProcessWorkers

settings = Settings(data_dir=sys.argv[1], streams=StreamSettings(status_interval_s=3600))
pool = ProcessWorkers(settings, 2, death_signal=sys.argv[2] == "on")
pool.start()
started = 0
while started < 2:  # each worker sends one status as its loop starts: then it is fully up
    started += sum(1 for item in pool.receive(1.0) if item[0] == "status")
print(*pool.pids, flush=True)
sys.stdin.read()  # until killed
"""


def first_line(stream: IO[str], timeout_s: float) -> str:
    """The first line `stream` gives within `timeout_s` ("" if none): a parent that failed to start
    its pool never prints, and may never exit either (it waits for its workers)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout_s)
    except queue.Empty:
        return ""


def gone(pid: int) -> bool:
    """True once `pid` has exited (a zombie no one reaps yet counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
    except OSError:  # no /proc: ask the kernel whether the process exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def await_gone(pids: list[int], timeout_s: float) -> list[int]:
    """The pids still alive after `timeout_s` (empty when all exited sooner)."""
    deadline = time.monotonic() + timeout_s
    alive = [p for p in pids if not gone(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)  # another process's exit: polled, there is nothing here to wait on
        alive = [p for p in alive if not gone(p)]
    return alive


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("death_signal", ["on", "off"], ids=["pdeathsig", "liveness-watch-only"])
def test_workers_exit_when_their_parent_is_killed(tmp_path: Path, death_signal: str) -> None:
    log = tmp_path / "parent.log"  # its multiprocessing clean-up complains of the kill: kept out of sight
    with log.open("w") as stderr:
        parent = subprocess.Popen(
            [sys.executable, "-c", PARENT, str(tmp_path / "var"), death_signal],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert parent.stdout is not None
    workers: list[int] = []
    try:
        workers = [int(pid) for pid in first_line(parent.stdout, 60).split()]
        assert len(workers) == 2, f"the worker pool did not start: {log.read_text()}"
        assert await_gone(workers, 0) == workers  # up and running before the kill
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert await_gone(workers, 5.0) == []
    finally:
        parent.kill()
        parent.wait(timeout=10)
        for pid in workers:  # never leave a worker behind, even when the test fails
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
