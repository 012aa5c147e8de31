"""Video that leaves the system: a recorded span decoded, every face blurred except a confirmed
match's, and re-encoded (H.264 in MP4). Only an export re-encodes; recording and viewing never do.

Faces are looked for in every `detect_every`-th frame (a HOG detection costs about 130 ms per 720p
frame, so every frame would make a 30-s clip cost two minutes). A face found in one looked-at
frame is blurred in every frame from the looked-at frame before it to the one after it, its box
grown by `motion_margin`, so a face is blurred on both sides of the frame it was found in and
never shown between two looks.

The matched face of a confirmed face match may stay visible (`keep`): it is the face found
nearest the sighting's box in the looked-at frame nearest the sighting, followed forwards and
backwards from look to look while a face overlaps it by `follow_iou`. Where it is lost it is
blurred: a mistake hides the subject, never shows a bystander. In an export without a kept face,
the sighting's own box is blurred too around the sighting's time, should the detector miss it; and
every face the analysis saw in the span (its face sightings: it finds smaller faces than a
whole-frame detector, by enlarging moving regions) is blurred at its box and time, except the
kept person's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import av
import numpy as np

from safecity.analytics.faces.redaction import blur_faces
from safecity.governance.disclosure import VideoFace
from safecity.store.recordings import RecordingStore, Segment
from safecity.types import BBox, BGRImage, context_box
from safecity.video.clips import write_clip

FaceFinder = Callable[[BGRImage], Sequence[BBox]]


@dataclass(frozen=True, slots=True)
class RedactionRules:
    detect_every: int = 5
    """Look for faces in every this-many-th frame."""
    motion_margin: float = 0.5
    """A face's box is grown by this fraction of its size on every side in the frames between looks."""
    follow_iou: float = 0.2
    """The kept face in the next look overlaps it in this one at least this much."""
    blur_kernel_fraction: float = 0.25
    crf: int = 23
    """x264 quality of the export (lower is better and larger)."""
    preset: str = "veryfast"

    def __post_init__(self) -> None:
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be at least 1, not {self.detect_every}")
        if not 0 < self.follow_iou <= 1:
            raise ValueError(f"follow_iou must be in (0, 1], not {self.follow_iou}")
        if self.motion_margin < 0:
            raise ValueError(f"motion_margin must be 0 or more, not {self.motion_margin}")


@dataclass(frozen=True, slots=True)
class RedactedClip:
    path: Path
    start: datetime
    end: datetime
    frames: int
    faces_blurred: int
    """Faces found (one per face and look) and blurred."""
    kept_looks: int
    """Looks in which the kept face was followed (0 without a kept face)."""


@dataclass(frozen=True, slots=True)
class _Look:
    frame: int
    at: datetime
    faces: tuple[BBox, ...]


def write_redacted_clip(
    store: RecordingStore,
    segments: Sequence[Segment],
    since: datetime,
    until: datetime,
    out: Path,
    *,
    find_faces: FaceFinder,
    rules: RedactionRules,
    keep: VideoFace | None = None,
    subject: VideoFace | None = None,
    seen: Sequence[VideoFace] = (),
) -> RedactedClip:
    """The span [since, until) of the recordings as an MP4 at `out` with faces blurred.

    `keep` stays visible (a confirmed match exported unblurred); `subject`, the sighting's own face
    when it is not kept, and the faces the analysis `seen` in the span (its face sightings, small
    or turned ones the detector here may miss) are blurred around their times whatever it finds."""
    handle, name = tempfile.mkstemp(prefix=".remux-", suffix=".mp4", dir=out.parent)
    os.close(handle)
    remuxed = Path(name)
    try:
        clip = write_clip(store, segments, since, until, remuxed)
        looks = _look(remuxed, clip.start, find_faces, rules.detect_every)
        kept = _follow(looks, keep, rules.follow_iou) if keep is not None else {}
        forced: dict[int, list[BBox]] = {}
        for face in [*seen, *([subject] if subject is not None and keep is None else [])]:
            for i, box in _near(looks, face).items():
                forced.setdefault(i, []).append(box)
        frames = _encode(remuxed, out, looks, kept, forced, rules)
    finally:
        remuxed.unlink(missing_ok=True)
    blurred = sum(len(look.faces) for look in looks) - len(kept) + len(seen)
    return RedactedClip(out, clip.start, clip.end, frames, blurred, len(kept))


def _bgr(frame: av.VideoFrame) -> BGRImage:
    return np.ascontiguousarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)


def _frames(path: Path) -> av.container.InputContainer:
    return av.open(str(path))  # one decoding thread: see `video.jpeg` on threads and PyAV's log


def _look(path: Path, start: datetime, find_faces: FaceFinder, every: int) -> list[_Look]:
    """Faces in every `every`-th frame, and in the last frame (so the clip's end is covered)."""
    looks: list[_Look] = []
    with _frames(path) as source:
        stream = source.streams.video[0]
        time_base = stream.time_base
        assert time_base is not None
        first_pts: int | None = None

        def look(index: int, frame: av.VideoFrame) -> _Look:
            assert first_pts is not None
            at = start + timedelta(seconds=float(((frame.pts or 0) - first_pts) * time_base))
            return _Look(index, at, tuple(find_faces(_bgr(frame))))

        last: tuple[int, av.VideoFrame] | None = None
        for index, frame in enumerate(source.decode(stream)):
            if first_pts is None:
                first_pts = frame.pts or 0
            if index % every == 0:
                looks.append(look(index, frame))
                last = None
            else:
                last = (index, frame)
        if last is not None:
            looks.append(look(*last))
    return looks


def _nearest(looks: Sequence[_Look], at: datetime) -> int:
    return min(range(len(looks)), key=lambda i: abs((looks[i].at - at).total_seconds()))


def _follow(looks: Sequence[_Look], keep: VideoFace, follow_iou: float) -> dict[int, BBox]:
    """The kept face in each look where it is followed: look index → the face found there."""
    if not looks:
        return {}
    anchor = _nearest(looks, keep.at)
    kept: dict[int, BBox] = {}
    start = _best(looks[anchor].faces, keep.box, follow_iou)
    if start is None:
        return {}
    kept[anchor] = start
    for step in (1, -1):
        box, i = start, anchor + step
        while 0 <= i < len(looks):
            found = _best(looks[i].faces, box, follow_iou)
            if found is None:
                break
            kept[i] = box = found
            i += step
    return kept


def _best(faces: Sequence[BBox], box: BBox, least: float) -> BBox | None:
    scored = [(face.iou(box), face) for face in faces]
    score, face = max(scored, key=lambda s: s[0], default=(0.0, None))
    return face if score >= least else None


def _near(looks: Sequence[_Look], subject: VideoFace) -> dict[int, BBox]:
    """The subject's own box in the looks around its time (blurred whatever the detector found)."""
    if not looks:
        return {}
    anchor = _nearest(looks, subject.at)
    return {i: subject.box for i in range(max(0, anchor - 1), min(len(looks), anchor + 2))}


def _encode(
    source_path: Path,
    out: Path,
    looks: Sequence[_Look],
    kept: dict[int, BBox],
    forced: dict[int, list[BBox]],
    rules: RedactionRules,
) -> int:
    """Decode again, blur each frame's faces (those of the looks on either side), and encode."""

    def blurred_in(i: int) -> list[BBox]:
        faces = [f for f in looks[i].faces if kept.get(i) is not f]
        return faces + forced.get(i, [])

    count = 0
    with (
        _frames(source_path) as source,
        av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as sink,
    ):
        stream = source.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or 25
        encoder = sink.add_stream(
            "libx264", rate=rate, options={"crf": str(rules.crf), "preset": rules.preset}
        )
        encoder.width = stream.codec_context.width
        encoder.height = stream.codec_context.height
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = stream.time_base
        following = 0
        for index, frame in enumerate(source.decode(stream)):
            while following + 1 < len(looks) and looks[following + 1].frame <= index:
                following += 1
            image = _bgr(frame)
            around = {following, min(following + 1, len(looks) - 1)} if looks else set()
            boxes = [context_box(f, image.shape, rules.motion_margin) for i in around for f in blurred_in(i)]
            out_frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(blur_faces(image, boxes, rules.blur_kernel_fraction)), format="bgr24"
            )
            out_frame.pts = frame.pts
            out_frame.time_base = frame.time_base
            for packet in encoder.encode(out_frame):
                sink.mux(packet)
            count += 1
        for packet in encoder.encode(None):
            sink.mux(packet)
    return count
