"""Exporting an alert's clip with faces blurred: seconds of work per second of video, against a
naive exporter that looks for faces in every frame, and the remux that playback costs.

A 720p25 sim clip of the city (pedestrians with real faces) is filed as a recorded segment; the
export decodes it, finds faces with dlib's HOG detector (at `faces.photo_upsample`, as exports
do) every `recording.export_detect_every` frames, blurs them, and re-encodes with libx264.

    .venv/bin/python bench/bench_export.py [--clip-seconds 10] [--every 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av

from safecity.config import Settings, SimSettings
from safecity.sim import render_city
from safecity.store.database import Database
from safecity.store.recordings import RecordingStore, Segment, segment_path
from safecity.types import RecordingMode
from safecity.video.clips import write_clip
from safecity.video.evidence import hog_face_finder
from safecity.video.redaction import RedactionRules, write_redacted_clip

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


def timed(work: Callable[[], object], repeat: int) -> float:
    """Median wall seconds of `work` (one core: the export runs on the request's thread)."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip-seconds", type=float, default=10.0, help="length of the exported clip")
    parser.add_argument("--every", type=int, default=Settings().recording.export_detect_every)
    parser.add_argument("--repeat", type=int, default=1, help="runs per row (median)")
    args = parser.parse_args()
    if args.clip_seconds <= 0 or args.every < 1 or args.repeat < 1:
        raise ValueError("--clip-seconds must be positive, --every and --repeat at least 1")
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sim = SimSettings(fps=25, seconds=args.clip_seconds)
        city = render_city(work / "sim", sim, cameras=1, seed=3)
        clip = city.clips[city.cameras[0].id]
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            size, frames = f"{stream.width}x{stream.height}", stream.frames
        db = Database.open(f"sqlite:///{work / 'db.sqlite'}")
        store = RecordingStore(db, work / "recordings")
        rel = segment_path("cam", T0, RecordingMode.CONTINUOUS, "seg")
        store.file(rel).parent.mkdir(parents=True)
        store.file(rel).write_bytes(clip.read_bytes())
        end = T0 + timedelta(seconds=args.clip_seconds)
        segment = Segment("seg", "cam", T0, end, rel, clip.stat().st_size, RecordingMode.CONTINUOUS)
        store.add(segment)
        find = hog_face_finder(settings)
        looks = {"n": 0}

        def counted(image: object) -> object:
            looks["n"] += 1
            return find(image)  # type: ignore[arg-type]

        def export(every: int) -> Callable[[], object]:
            rules = RedactionRules(detect_every=every, crf=settings.recording.export_crf)
            return lambda: write_redacted_clip(
                store,
                [segment],
                T0,
                end,
                work / "out.mp4",
                find_faces=counted,
                rules=rules,  # type: ignore[arg-type]
            )

        find(av.open(str(clip)).decode(video=0).__next__().to_ndarray(format="bgr24"))  # load the model
        remux = timed(lambda: write_clip(store, [segment], T0, end, work / "remux.mp4"), args.repeat)
        looks["n"] = 0
        ours = timed(export(args.every), args.repeat)
        ours_looks = looks["n"] // args.repeat
        looks["n"] = 0
        naive = timed(export(1), args.repeat)
        naive_looks = looks["n"] // args.repeat
        blurred = write_redacted_clip(
            store, [segment], T0, end, work / "out.mp4", find_faces=find, rules=RedactionRules(args.every)
        ).faces_blurred
        db.close()

    print(
        f"{size} 25 fps sim clip, {args.clip_seconds:g} s ({frames} frames); HOG upsample "
        f"{settings.faces.photo_upsample}; libx264 crf {settings.recording.export_crf}; one core; "
        f"median of {args.repeat}"
    )
    print(f"| {'path':<46} | {'looks':>5} | {'s':>7} | {'s per video s':>13} | {'ratio':>7} |")
    print(f"|{'-' * 48}|{'-' * 7}|{'-' * 9}|{'-' * 15}|{'-' * 9}|")
    for name, n, seconds in (
        ("remux only (playback's clip, no blurring)", 0, remux),
        (f"ours: faces every {args.every} frames, blurred, x264", ours_looks, ours),
        ("naive: faces in every frame, blurred, x264", naive_looks, naive),
    ):
        print(
            f"| {name:<46} | {n:>5} | {seconds:>7.2f} | {seconds / args.clip_seconds:>13.3f} | "
            f"{seconds / ours:>6.2f}x |"
        )
    print(f"faces found and blurred in the export (ours): {blurred}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
