"""The timecode burnt into the clock camera's frames: round trip, survives compression, rejects misreads."""

from __future__ import annotations

import time
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from safecity.sim import timecode

NOW_MS = 1_796_000_000_123  # December 2026


def noisy_frame(width: int = 640, height: int = 360, seed: int = 0) -> np.ndarray:
    """Busy gray texture: compression must work for the pattern, not get it for free."""
    rng = np.random.default_rng(seed)
    return rng.integers(60, 200, size=(height, width, 3), dtype=np.uint8)


def test_bits_round_trip_and_checksum() -> None:
    for ms in (0, 1, NOW_MS, timecode.MAX_MS - 1):
        assert timecode.from_bits(timecode.bits(ms)) == ms
    bits = timecode.bits(NOW_MS)
    assert len(bits) == timecode.ROWS * timecode.COLS
    for i in range(len(bits)):
        flipped = list(bits)
        flipped[i] ^= 1
        assert timecode.from_bits(flipped) is None, f"one flipped bit ({i}) was not caught"


@pytest.mark.parametrize("ms", [-1, timecode.MAX_MS])
def test_out_of_range_time_is_refused(ms: int) -> None:
    with pytest.raises(ValueError, match="0 to 2"):
        timecode.bits(ms)


@pytest.mark.parametrize(("width", "height"), [(640, 360), (1280, 720), (352, 288)])
def test_round_trip_gray_and_colour(width: int, height: int) -> None:
    gray = np.full((height, width), 128, np.uint8)
    assert timecode.decode(timecode.encode(NOW_MS, gray)) == NOW_MS
    colour = noisy_frame(width, height)
    assert timecode.decode(timecode.encode(NOW_MS + 40, colour)) == NOW_MS + 40


def test_the_servers_video_range_scanlines_decode() -> None:
    """The clock camera draws the band from `scanlines` in video range (16 black, 235 white)."""
    width, height = 640, 360
    cell = timecode.cell_size(width)
    band = b"".join(line * cell for line in timecode.scanlines(NOW_MS, width))
    rest = bytes([128]) * (width * (height - timecode.band_height(width)))
    frame = np.frombuffer(band + rest, np.uint8).reshape(height, width)
    assert timecode.decode(frame) == NOW_MS


@pytest.mark.parametrize("quality", [20, 50])
def test_survives_jpeg_and_scaling(quality: int) -> None:
    frame = timecode.encode(NOW_MS, noisy_frame())
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    assert decoded is not None
    assert timecode.decode(decoded) == NOW_MS
    # A viewer that shows the video at another size: the layout is relative to the width.
    assert timecode.decode(cv2.resize(decoded, (960, 540), interpolation=cv2.INTER_LINEAR)) == NOW_MS


def test_survives_h264_at_a_low_bitrate() -> None:
    """Frames whose time changes every frame, through libx264 at 300 kbit/s and back."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 640, 360, "yuv420p"
    encoder.time_base = Fraction(1, 25)
    encoder.bit_rate = 300_000
    encoder.options = {"preset": "ultrafast", "tune": "zerolatency"}
    decoder = av.CodecContext.create("h264", "r")
    stamps = [NOW_MS + 40 * i + (i * 7919) % 997 for i in range(25)]
    packets = []
    for i, ms in enumerate(stamps):
        frame = av.VideoFrame.from_ndarray(timecode.encode(ms, noisy_frame(seed=i)), format="bgr24")
        frame.pts = i
        packets += encoder.encode(frame)
    packets += encoder.encode(None)
    frames = [f for p in packets for f in decoder.decode(p)] + list(decoder.decode(None))
    assert [timecode.decode(f.to_ndarray(format="gray")) for f in frames] == stamps


def test_a_damaged_pattern_is_rejected() -> None:
    width = 640
    cell = timecode.cell_size(width)
    base = timecode.encode(NOW_MS, np.full((360, width), 128, np.uint8))
    # One cell inverted: the checksum fails.
    inverted = base.copy()
    inverted[cell : 2 * cell, 3 * cell : 4 * cell] ^= 0xFF
    assert timecode.decode(inverted) is None
    # One cell half-way gray (a torn or half-decoded frame): ambiguous, rejected before the checksum.
    torn = base.copy()
    torn[2 * cell : 3 * cell, 5 * cell : 6 * cell] = 128
    assert timecode.decode(torn) is None
    # No pattern at all.
    assert timecode.decode(np.zeros((360, width), np.uint8)) is None
    assert timecode.decode(np.full((360, width), 255, np.uint8)) is None
    assert timecode.decode(noisy_frame()) is None
    assert timecode.decode(np.zeros((20, 64), np.uint8)) is None  # too small to hold one


def test_random_black_and_white_patterns_are_almost_never_read() -> None:
    """Clean blocks that are not a timecode: only the 16-bit checksum stands between them and a
    wrong time, so about 1 in 65536 passes; none of a few thousand may."""
    rng = np.random.default_rng(21)
    width, cell = 640, timecode.cell_size(640)
    accepted = 0
    for _ in range(2000):
        cells = rng.integers(0, 2, size=(timecode.ROWS, timecode.COLS), dtype=np.uint8) * 255
        band = np.kron(cells, np.ones((cell, cell), np.uint8))
        frame = np.full((360, width), 128, np.uint8)
        frame[: band.shape[0], : band.shape[1]] = band
        accepted += timecode.decode(frame) is not None
    assert accepted == 0


def test_bad_frames_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="at least 128 px wide"):
        timecode.encode(NOW_MS, np.zeros((360, 100), np.uint8))
    with pytest.raises(ValueError, match="at least 160 px high"):
        timecode.encode(NOW_MS, np.zeros((100, 640), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        timecode.encode(NOW_MS, np.zeros((360, 640), np.float32))


def test_decoding_is_cheap() -> None:
    """The browser test decodes a read per half second; a 720p frame must take well under that."""
    frame = timecode.encode(NOW_MS, noisy_frame(1280, 720))
    started = time.perf_counter()
    for _ in range(20):
        assert timecode.decode(frame) == NOW_MS
    assert (time.perf_counter() - started) / 20 < 0.05
