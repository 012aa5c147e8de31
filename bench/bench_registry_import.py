"""Import of a 1,000-camera GeoJSON register (800 sites), file to committed rows, against a naive baseline.

Baseline: parse the same way, then one ORM insert and one commit per site and per camera.
Ours: `cameras_from_geojson` + `CameraStore.save`, one transaction with multi-row INSERTs
(which is also what makes a bad file leave the register untouched).

    .venv/bin/python bench/bench_registry_import.py [--cameras 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from safecity.config import CameraDefaults
from safecity.registry.geojson import cameras_from_geojson, cameras_to_geojson, load_geojson_file
from safecity.store.cameras import CameraStore, _camera_values
from safecity.store.database import Database
from safecity.store.models import CameraRow, SiteRow
from safecity.types import Camera, Capability, Site


def city(n_cameras: int) -> tuple[list[Site], list[Camera]]:
    """Belgrade-like layout: most sites hold one camera, every fifth holds two (opposite headings)."""
    sites: list[Site] = []
    cameras: list[Camera] = []
    i = 0
    while len(cameras) < n_cameras:
        lat, lon = 44.75 + (i % 40) * 0.003, 20.38 + (i // 40) * 0.004
        site = Site(f"site-{i:04d}", f"Junction {i}", lat, lon)
        sites.append(site)
        for k in range(2 if i % 4 == 0 else 1):
            if len(cameras) == n_cameras:
                break
            caps = {Capability.MOTION, Capability.PLATES} if k == 0 else {Capability.FACES, Capability.MOTION}
            cameras.append(
                Camera(
                    f"cam-{len(cameras):05d}",
                    f"Junction {i} #{k}",
                    site.id,
                    lat,
                    lon,
                    heading_deg=180.0 * k,
                    mount_height_m=6.0,
                    operator="City of Belgrade",
                    capabilities=frozenset(caps),
                    stream_url=f"rtsp://10.20.{i // 250}.{i % 250}/stream{k}",
                    legal_basis="Law on Police",
                )
            )
        i += 1
    return sites, cameras


def naive_import(db: Database, path: Path) -> None:
    sites, cameras = cameras_from_geojson(load_geojson_file(path), CameraDefaults())
    for s in sites:
        with db.session() as session:
            session.add(
                SiteRow(id=s.id, name=s.name, latitude=s.latitude, longitude=s.longitude, address=s.address)
            )
    for c in cameras:
        with db.session() as session:
            session.add(CameraRow(**_camera_values(c)))


def our_import(db: Database, path: Path) -> None:
    sites, cameras = cameras_from_geojson(load_geojson_file(path), CameraDefaults())
    CameraStore(db).save(sites, cameras)


def timed(importer: Callable[[Database, Path], None], path: Path, tmp: Path, run: int) -> float:
    db = Database.open(f"sqlite:///{tmp / f'{importer.__name__}-{run}.db'}")
    t = time.perf_counter()
    importer(db, path)
    elapsed = time.perf_counter() - t
    db.close()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sites, cameras = city(args.cameras)
        path = tmp / "register.geojson"
        path.write_text(json.dumps(cameras_to_geojson(cameras, sites)), encoding="utf-8")
        naive = statistics.median(timed(naive_import, path, tmp, r) for r in range(args.repeat))
        ours = statistics.median(timed(our_import, path, tmp, r) for r in range(args.repeat))
        size_kb = path.stat().st_size / 1024
    print(
        f"{len(cameras)} cameras at {len(sites)} sites ({size_kb:.0f} KiB), SQLite, median of {args.repeat}"
    )
    print(f"{'import':<28} {'seconds':>8}")
    print(f"{'naive (commit per row)':<28} {naive:>8.3f}")
    print(f"{'safecity camera import':<28} {ours:>8.3f}")
    print(f"{'ratio':<28} {naive / ours:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
