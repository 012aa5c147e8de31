"""Per-camera analysis throughput: file source + motion gate + tracker on a rendered 720p sim clip.

Baseline (what a first version does): decode every frame single-threaded, convert each to BGR,
run MOG2 on the full-resolution frame. Ours: `FileSource` (threaded decode, frames sampled to
`analysis_fps` before BGR conversion) -> `MotionGate` (MOG2 on a 640-px copy) -> `IouTracker`.
The figure that matters for a city is real-time factor: clip seconds analysed per wall second
on one core, i.e. how many such cameras one core keeps up with.

    .venv/bin/python bench/bench_pipeline.py [--seconds 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import av
import cv2

from safecity.analytics.motion import MotionGate
from safecity.analytics.tracking import IouTracker
from safecity.config import Settings, SimSettings
from safecity.sim import render_city
from safecity.sources.file import FileSource


def naive(clip: Path) -> int:
    subtractor = cv2.createBackgroundSubtractorMOG2()
    frames = 0
    with av.open(str(clip)) as container:
        for vf in container.decode(video=0):
            image = vf.to_ndarray(format="bgr24")
            subtractor.apply(image)
            frames += 1
    return frames


def ours(clip: Path, settings: Settings, start: datetime) -> int:
    gate = MotionGate(settings.motion)
    tracker = IouTracker("bench", settings.tracking)
    fps = settings.camera_defaults.analysis_fps
    with FileSource(clip, "bench", start_time=start, sample_fps=fps) as src:
        for frame in src:
            result = gate.detect(frame)
            tracker.update(frame.timestamp, result.blobs, frame.image if result.moving else None)
        tracker.finish()
        return src.decoded_frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    settings = Settings(sim=SimSettings(cameras=1, seconds=args.seconds))
    with tempfile.TemporaryDirectory() as d:
        city = render_city(Path(d), settings.sim, workers=1)
        clip = city.clips["cam-01"]
        rows = []
        candidates = (
            ("naive (all frames, full-res MOG2)", lambda: naive(clip)),
            ("safecity (5 fps, 640-px gate + tracker)", lambda: ours(clip, settings, city.start_time)),
        )
        for name, fn in candidates:
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            rows.append((name, statistics.median(times)))
    print(f"1280x720 {settings.sim.fps:g} fps sim clip, {args.seconds:g} s, median of {args.repeat}")
    print(f"{'pipeline':<42} {'wall s':>7} {'x real time':>12}")
    for name, t in rows:
        print(f"{name:<42} {t:>7.2f} {args.seconds / t:>11.1f}x")
    print(f"{'ratio':<42} {rows[0][1] / rows[1][1]:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
