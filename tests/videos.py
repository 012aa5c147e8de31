"""Small synthetic videos for source and motion tests, written with PyAV (plain functions, no fixtures).

The clip: a white square moving left to right over a noisy grey background. The writer returns
the square's true box on each frame (None while it is not in the picture) so tests can compare.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np

from safecity.store.recordings import RecordingStore, Segment, segment_path
from safecity.types import BBox, BGRImage, Frame, RecordingMode, new_id

T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)


def noisy_grey(rng: np.random.Generator, width: int = 320, height: int = 240) -> BGRImage:
    """A grey (100) background with +-8 of sensor-like noise, fresh on every call."""
    noise = rng.integers(-8, 9, size=(height, width, 1), dtype=np.int16)
    return np.clip(100 + noise, 0, 255).astype(np.uint8).repeat(3, axis=2)


def square_frames(
    *,
    frames: int = 64,
    width: int = 320,
    height: int = 240,
    square: int = 40,
    speed: int = 4,
    enter_at: int = 0,
    moving: bool = True,
    seed: int = 0,
) -> tuple[list[BGRImage], list[BBox | None]]:
    """The images and the square's true box per frame.

    The square is shown from frame `enter_at`; it moves `speed` px per frame, or stays put
    when not `moving`, and disappears once it would leave the picture.
    """
    rng = np.random.default_rng(seed)
    images: list[BGRImage] = []
    truth: list[BBox | None] = []
    y = (height - square) // 2
    for i in range(frames):
        image = noisy_grey(rng, width, height)
        box: BBox | None = None
        if i >= enter_at:
            x = 8 + (speed * (i - enter_at) if moving else 0)
            if x + square <= width:
                image[y : y + square, x : x + square] = 255
                box = BBox(x, y, square, square)
        images.append(image)
        truth.append(box)
    return images, truth


def write_video(path: Path, images: list[BGRImage], *, fps: int = 25, faststart: bool = False) -> Path:
    """Encode BGR images as H.264 (yuv420p); `faststart` puts the mp4 index before the data."""
    height, width = images[0].shape[:2]
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for image in images:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return path


def square_clip(
    path: Path,
    *,
    frames: int = 64,
    width: int = 320,
    height: int = 240,
    enter_at: int = 0,
    moving: bool = True,
    faststart: bool = False,
) -> list[BBox | None]:
    """Write the moving-square clip (25 fps) to `path`; returns the true box per frame."""
    images, truth = square_frames(frames=frames, width=width, height=height, enter_at=enter_at, moving=moving)
    write_video(path, images, faststart=faststart)
    return truth


def frame_at(index: int, image: BGRImage, *, fps: float = 25.0, camera_id: str = "cam-1") -> Frame:
    """A `Frame` as a source would yield it, without going through a file."""
    pts_s = index / fps
    return Frame(camera_id, index, pts_s, T0 + timedelta(seconds=pts_s), image)


def keyframed_clip(path: Path, *, seconds: int = 8, fps: int = 25) -> Path:
    """A moving square, H.264 with a keyframe every `fps` frames (segments can be cut each second)."""
    return coded_clip(path, "libx264", seconds=seconds, fps=fps)


def faces_clip(path: Path, *, seconds: int = 4, fps: int = 25) -> dict[str, list[BBox]]:
    """Grace Hopper (left) and Eileen Collins (right), faces about 105 px wide, drifting right half a
    pixel a frame over a grey 640x360 picture; H.264 with a keyframe each second. Returns each
    identity's face box on every frame."""
    import cv2

    from safecity.sim.faces import IDENTITIES, reference_image

    width, height = 640, 360
    placed = {"grace_hopper": (60, 60, 0.5), "eileen_collins": (380, 50, 1.1)}  # x, y, scale
    heads = {}
    for name, (_, _, scale) in placed.items():
        ident = IDENTITIES[name]
        x, y, w, h = ident.crop
        crop = reference_image(name)[y : y + h, x : x + w]
        heads[name] = cv2.resize(np.ascontiguousarray(crop), (round(w * scale), round(h * scale)))
    boxes: dict[str, list[BBox]] = {name: [] for name in placed}
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"g": str(fps), "keyint_min": str(fps)})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(seconds * fps):
            image = np.full((height, width, 3), 110, np.uint8)
            for name, (x0, y0, scale) in placed.items():
                ident, head = IDENTITIES[name], heads[name]
                x = x0 + i // 2
                image[y0 : y0 + head.shape[0], x : x + head.shape[1]] = head
                fx, fy, fw, fh = ident.face_box
                cx, cy = ident.crop[0], ident.crop[1]
                boxes[name].append(
                    BBox(
                        x + round((fx - cx) * scale),
                        y0 + round((fy - cy) * scale),
                        round(fw * scale),
                        round(fh * scale),
                    )
                )
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return boxes


def indexed_segment(
    store: RecordingStore, camera_id: str, start: datetime, clip: Path, seconds: float, segment_id: str = ""
) -> Segment:
    """`clip` filed and indexed as a continuous segment of `camera_id` from `start`, as a recorder does."""
    segment_id = segment_id or new_id()
    rel = segment_path(camera_id, start, RecordingMode.CONTINUOUS, segment_id)
    store.file(rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(clip, store.file(rel))
    end = start + timedelta(seconds=seconds)
    segment = Segment(segment_id, camera_id, start, end, rel, clip.stat().st_size, RecordingMode.CONTINUOUS)
    store.add(segment)
    return segment


def coded_clip(path: Path, codec: str, *, seconds: int = 4, fps: int = 25) -> Path:
    """The moving square in a codec a camera may send: `libx264`, `libx265` (H.265) or `mjpeg`;
    the first two with a keyframe every `fps` frames."""
    images, _ = square_frames(frames=seconds * fps, width=320, height=240, speed=2)
    options = {} if codec == "mjpeg" else {"g": str(fps), "keyint_min": str(fps)}
    pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = 320, 240, pix_fmt
        for image in images:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return path
