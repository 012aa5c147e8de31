"""Live streams per core: how many 720p25 H.264 RTSP cameras one analysis core keeps up with.

A 720p 25 fps sim clip (the corridor's first camera: cars passing all the time) is served over
RTSP by GStreamer (tests/rtsp_server.py, system Python) in a loop. For N cameras on that
stream, `safecity serve`'s runtime runs with one worker process pinned to one core (the RTSP
server and the main process, which only stores, are pinned to the other); after a warm-up it
is measured for `--seconds`: analysed fps per camera, lag from real time at the start and end
of the window, dropped frames, and the worker's memory. N is sustained when every camera is
analysed at >= 2 fps and no camera's lag grows by more than a second. In the same run, the
decode-only limit: the same N sources decoded on the pinned core with nothing else to do
(every frame decoded, none analysed), in frames per second — the ceiling for the core.
Capabilities: motion (gate + tracker + motion tracks) by default; `--capabilities` adds
others (plates or faces cost far more per moving frame).

    .venv/bin/python bench/bench_streams.py [--counts 2,4,8,10,12] [--seconds 20] [--capabilities motion]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from rtsp import RtspServer, unavailable_reason

from safecity.config import Settings, SimSettings, StreamSettings
from safecity.registry.validation import parse_capabilities
from safecity.runtime.city import Runtime
from safecity.sim import render_city
from safecity.sources.live import LiveSource
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.types import Camera, Site

ANALYSIS_CORE, OTHER_CORE = 0, 1


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def file_decode_fps(clip: Path) -> float:
    """The core's decode ceiling: the clip decoded as fast as one pinned core can (to BGR, as served)."""
    import av

    os.sched_setaffinity(0, {ANALYSIS_CORE})
    try:
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            t0, frames = time.perf_counter(), 0
            for frame in container.decode(stream):
                frame.to_ndarray(format="bgr24")
                frames += 1
            return frames / (time.perf_counter() - t0)
    finally:
        os.sched_setaffinity(0, {ANALYSIS_CORE, OTHER_CORE})


def decode_only(url: str, n: int, seconds: float) -> float:
    """Frames per second decoded by n sources in this process, pinned to the analysis core."""
    os.sched_setaffinity(0, {ANALYSIS_CORE})
    sources = [LiveSource(f"d{i}", url, sample_fps=None, queue_size=64).start() for i in range(n)]
    try:
        deadline = time.monotonic() + 30
        while any(s.status.frames_decoded == 0 for s in sources) and time.monotonic() < deadline:
            for s in sources:
                s.get(timeout=0.05)
        start = [s.status.frames_decoded for s in sources]
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            for s in sources:
                while s.get(timeout=0) is not None:
                    pass
            time.sleep(0.01)  # drain loop pacing; decoding runs on the sources' own threads
        elapsed = time.monotonic() - t0
        return sum(s.status.frames_decoded - a for s, a in zip(sources, start, strict=True)) / elapsed
    finally:
        for s in sources:
            s.stop(timeout=5)
        os.sched_setaffinity(0, {ANALYSIS_CORE, OTHER_CORE})


def run_count(
    url: str, n: int, seconds: float, capabilities: str, work: Path, site: Site, base: Camera
) -> dict[str, float]:
    settings = Settings(
        data_dir=work / f"n{n}",
        streams=StreamSettings(workers=1, status_interval_s=0.5, reload_interval_s=1.0, http_port=0),
    )
    db = Database.open(settings.effective_database_url, settings.store)
    caps = parse_capabilities(capabilities.replace(",", ";"))
    cams = [replace(base, id=f"cam-{i:02d}", stream_url=url, capabilities=caps) for i in range(n)]
    CameraStore(db).save([site], cams)
    runtime = Runtime(settings, db)
    os.sched_setaffinity(0, {OTHER_CORE})
    runtime.start()
    worker = runtime._procs[0].pid
    assert worker is not None
    os.sched_setaffinity(worker, {ANALYSIS_CORE})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runtime.step()
            health = runtime.health()
            if len(health) == n and all(h.state == "live" and h.frames_analysed > 10 for h in health):
                break
        warm = time.monotonic() + 3
        while time.monotonic() < warm:
            runtime.step()
        first = {h.camera_id: h for h in runtime.health()}
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            runtime.step()
        elapsed = time.monotonic() - t0
        last = {h.camera_id: h for h in runtime.health()}
        memory = rss_mb(worker)
    finally:
        runtime.stop()
        os.sched_setaffinity(0, {ANALYSIS_CORE, OTHER_CORE})
    fps = [(last[c].frames_analysed - first[c].frames_analysed) / elapsed for c in last]
    lag_growth = [(last[c].lag_s or 0) - (first[c].lag_s or 0) for c in last]
    drops = sum(last[c].dropped - first[c].dropped for c in last)
    return {
        "min_fps": min(fps) if fps else 0.0,
        "median_fps": statistics.median(fps) if fps else 0.0,
        "lag_growth": max(lag_growth) if lag_growth else 0.0,
        "drops": float(drops),
        "rss_mb": memory,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="2,4,8,10,12", help="camera counts to try")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per count")
    parser.add_argument(
        "--capabilities", default="motion", help="camera capabilities, e.g. motion or motion,faces"
    )
    args = parser.parse_args()
    if (reason := unavailable_reason()) is not None:
        print(f"skipped: {reason}")
        return 0
    if len(os.sched_getaffinity(0)) < 2:
        print("needs 2 cores (one for analysis, one for the server and the store)")
        return 0
    counts = [int(c) for c in args.counts.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        city = render_city(work / "sim", SimSettings(fps=25.0, seconds=20.0), cameras=1, seed=1)
        base = city.cameras[0]
        clip = city.clips[base.id]
        ceiling_fps = file_decode_fps(clip)
        rows = []
        with RtspServer({"/cam": clip}) as server:
            process = getattr(server, "_process", None)
            if process is not None:
                os.sched_setaffinity(process.pid, {OTHER_CORE})
            url = server.url("/cam")
            for n in counts:
                decode = decode_only(url, n, min(args.seconds, 10.0))
                result = run_count(url, n, args.seconds, args.capabilities, work, city.sites[0], base)
                rows.append((n, decode, result))
    print(f"720p25 H.264 over RTSP (sim clip, cars passing), {args.capabilities}; one analysis core")
    print(
        f"decode limit of the core: {ceiling_fps:.0f} fps decoded from the file = "
        f"{ceiling_fps / 25:.1f} streams of 25 fps"
    )
    print(
        f"{'cameras':>7} {'live decode fps':>16} {'per stream':>11} {'analysed fps min/median':>24} "
        f"{'lag growth s':>13} {'drops':>6} {'worker MB':>10} {'sustained':>10}"
    )
    for n, decode, r in rows:
        ok = r["min_fps"] >= 2.0 and r["lag_growth"] <= 1.0
        print(
            f"{n:>7} {decode:>16.0f} {decode / n:>11.1f} {r['min_fps']:>11.2f} / {r['median_fps']:<10.2f} "
            f"{r['lag_growth']:>13.2f} {r['drops']:>6.0f} {r['rss_mb']:>10.0f} {'yes' if ok else 'no':>10}"
        )
    sustained = [n for n, _, r in rows if r["min_fps"] >= 2.0 and r["lag_growth"] <= 1.0]
    if sustained:
        best = max(sustained)
        decode_limit = ceiling_fps / 25.0
        mem = [r["rss_mb"] for n, _, r in rows]
        per_stream = (mem[-1] - mem[0]) / (counts[-1] - counts[0]) if len(mem) > 1 else mem[0] / counts[0]
        print(
            f"sustained: {best} streams per core; decode-only ceiling ~{decode_limit:.1f} streams of 25 fps "
            f"({best / decode_limit:.0%} of it); memory ~{per_stream:.0f} MB per extra stream"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
