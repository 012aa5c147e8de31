"""A short H.264 test clip with a keyframe every second, and a recordings world over SQLite."""

from __future__ import annotations

from pathlib import Path

import av
from videos import square_frames


def keyframed_clip(path: Path, *, seconds: int = 8, fps: int = 25) -> Path:
    """A moving square, H.264 with a keyframe every `fps` frames (segments can be cut each second)."""
    images, _ = square_frames(frames=seconds * fps, width=320, height=240, speed=2)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"g": str(fps), "keyint_min": str(fps)})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for image in images:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return path
