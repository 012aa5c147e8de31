"""Recordings analysed on Ray actors against one process analysing them one after another.

Data (seeded, written before timing): `--clips` H.264 clips, 640×360 at 25 fps, `--seconds`
long, with squares crossing one after another over a noisy grey road (motion cameras: gate,
tracker, snapshots off). Ours: `safecity.cluster.ray_pool.analyse_recordings` on a one-machine
Ray (`cluster.address = "local"`) with one actor per core, each writing its observations to the
shared SQLite file. Naive: the same clips through `process_file` in this process, one after
another, through one writer (what `safecity process` does per file). Both must store the same
observations (same ids). Ray's start and the actors' start are timed apart: a `serve --cluster`
pays them once. Each figure is the median of `--repeats` runs.

    .venv/bin/python bench/bench_cluster.py [--clips 4] [--seconds 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
from sqlalchemy import select

from safecity.cluster.actor import Recording
from safecity.config import ActorResources, CameraDefaults, ClusterSettings, Settings, StoreSettings
from safecity.pipeline.process import process_file
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import MotionTrackRow
from safecity.store.writer import ObservationWriter
from safecity.types import Camera, Capability, Site

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
W, H, FPS = 640, 360, 25


def write_clip(path: Path, seconds: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i in range(seconds * FPS):
            image = np.clip(100 + rng.integers(-8, 9, size=(H, W, 1)), 0, 255).astype(np.uint8).repeat(3, 2)
            x = (i * 6) % (W + 200) - 100
            y = 120 + (i // ((W + 200) // 6)) % 3 * 60
            if 0 <= x < W - 60:
                image[y : y + 60, x : x + 60] = 230
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))


def camera(i: int) -> Camera:
    return Camera(
        f"cam-{i}", f"Camera {i}", "site-1", 44.8, 20.46, capabilities=frozenset({Capability.MOTION})
    )


def fresh_db(url: str, cameras: list[Camera]) -> Database:
    db = Database.connect(url)
    db.upgrade()
    CameraStore(db).save([Site("site-1", "Site", 44.8, 20.46)], cameras)
    return db


def ids(db: Database) -> set[str]:
    with db.session() as s:
        return set(s.scalars(select(MotionTrackRow.id)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    from safecity.cluster.ray_pool import analyse_recordings, connect

    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    cams = [camera(i) for i in range(args.clips)]
    clips = []
    for i in range(args.clips):
        clip = work / f"clip{i}.mp4"
        write_clip(clip, args.seconds, i)
        clips.append(clip)
    frames = args.clips * args.seconds * FPS

    def settings(run: str) -> Settings:
        return Settings(
            data_dir=work / run,
            database_url=f"sqlite:///{work / run / 'safecity.db'}",
            camera_defaults=CameraDefaults(analysis_fps=FPS),
            store=StoreSettings(batch_size=200),
            cluster=ClusterSettings(address="local", motion=ActorResources(num_cpus=1), object_store_mb=128),
        )

    started = time.perf_counter()
    ray = connect(settings("start").cluster)
    ray_start_s = time.perf_counter() - started

    naive_s, ours_s, same = [], [], True
    for r in range(args.repeats):
        s = settings(f"naive{r}")
        (work / f"naive{r}").mkdir()
        db = fresh_db(s.effective_database_url, cams)
        t = time.perf_counter()
        with ObservationWriter(db, s.store) as writer:
            for cam, clip in zip(cams, clips, strict=True):
                process_file(clip, cam, s, sink=writer, snapshots=None, start_time=T0)
        naive_s.append(time.perf_counter() - t)
        expected = ids(db)

        s = settings(f"ours{r}")
        (work / f"ours{r}").mkdir()
        db2 = fresh_db(s.effective_database_url, cams)
        t = time.perf_counter()
        analyse_recordings(s, [Recording(c, p, T0) for c, p in zip(cams, clips, strict=True)], actors=cores)
        ours_s.append(time.perf_counter() - t)
        same = same and ids(db2) == expected and len(expected) > 0
        db.close()
        db2.close()
    ray.shutdown()

    naive, ours = statistics.median(naive_s), statistics.median(ours_s)
    print(f"{args.clips} clips × {args.seconds} s, {W}×{H} at {FPS} fps, motion cameras; {cores} cores")
    print(f"{'path':<36} {'wall s':>8} {'frames/s':>9}")
    print(f"{'naive: one process, one by one':<36} {naive:>8.2f} {frames / naive:>9.0f}")
    print(f"{f'ours: {cores} Ray actors (local cluster)':<36} {ours:>8.2f} {frames / ours:>9.0f}")
    print(f"ratio {naive / ours:.2f}x (medians of {args.repeats}); same observations: {same}")
    print(f"one-off: Ray start {ray_start_s:.1f} s; actors start (models, DB) inside 'ours' each run")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
