"""The live view of a camera that does not send H.264: JPEG images a few times a second, from
H.265 (decoded) or MJPEG (passed through), whatever comes in."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from av.video.stream import VideoStream
from videos import coded_clip, keyframed_clip

from safecity.video.jpeg import JpegFrames

FPS = 25


class Ticks:
    """A clock that moves one frame interval per packet."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module", params=["libx265", "mjpeg", "libx264"])
def clip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("coded")
    if request.param == "libx264":
        return keyframed_clip(folder / "h264.mp4", seconds=4)
    return coded_clip(folder / f"{request.param}.mp4", request.param)


def images(path: Path, *, fps: float = 5.0, width: int = 960) -> list[bytes]:
    ticks = Ticks()
    out: list[bytes] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert isinstance(stream, VideoStream)
        frames = JpegFrames(stream, fps=fps, width=width, quality=80, clock=ticks)
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            image = frames.packet(packet)
            if image is not None:
                out.append(image)
            ticks.now += 1 / FPS
    return out


def test_images_come_at_the_asked_rate_and_decode(clip: Path) -> None:
    shown = images(clip, fps=5.0)
    assert 19 <= len(shown) <= 21  # 4 s at 5 a second
    for data in shown:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert decoded is not None and decoded.shape == (240, 320, 3)


def test_decoded_images_are_scaled_down_to_the_width(tmp_path: Path) -> None:
    shown = images(coded_clip(tmp_path / "h265.mp4", "libx265", seconds=1), width=160)
    decoded = cv2.imdecode(np.frombuffer(shown[0], np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (120, 160, 3)


def test_a_damaged_packet_gives_no_image_and_no_error(tmp_path: Path) -> None:
    path = coded_clip(tmp_path / "h265.mp4", "libx265", seconds=1)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = JpegFrames(stream, fps=5, width=960, quality=80)
        garbage = av.Packet(b"\x00\x00\x01" + bytes(range(256)) * 4)
        assert frames.packet(garbage) is None


@pytest.mark.parametrize(
    ("fps", "width", "quality", "message"),
    [(0, 960, 80, "fps"), (5, 8, 80, "width"), (5, 960, 0, "quality"), (5, 960, 101, "quality")],
)
def test_nonsense_settings_are_refused(
    tmp_path: Path, fps: float, width: int, quality: int, message: str
) -> None:
    path = coded_clip(tmp_path / "mjpeg.mp4", "mjpeg", seconds=1)
    with av.open(str(path)) as container, pytest.raises(ValueError, match=message):
        JpegFrames(container.streams.video[0], fps=fps, width=width, quality=quality)
