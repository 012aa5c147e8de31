"""A wall-clock timestamp burnt into video frames as black and white blocks, and read back.

The clock camera (`clock_camera.py`) writes the time each frame was made into the frame; whoever
shows or decodes the video (a browser, PyAV) reads it back and subtracts it from the time it
shows the frame: the glass-to-glass latency on one machine, one clock.

The pattern: a band across the top of the frame of `ROWS` x `COLS` square cells of
`cell_size(width)` pixels (40 px at 640 wide, 80 px at 1280), each black (0) or white (1), read
left to right, top to bottom: 48 bits of milliseconds since the Unix epoch, most significant
first, then the 16-bit CRC-16/CCITT-FALSE of those six bytes. Cells that large survive H.264 and
JPEG at any sane quality; the reader looks only at the middle half of each cell (block edges
ring), rejects a frame with any cell neither clearly dark nor clearly light (a torn or
half-decoded frame), and rejects a checksum mismatch, so a misread is `None`, not a wrong time.

`scanlines` (pure Python, bytes) is the one definition of the pattern: the clock camera's server
runs under the system Python, which has GStreamer but no numpy, and builds its frames from it;
`encode` and `decode` are the numpy side for tests and benchmarks. numpy is imported where it is
used, so that the server can load this file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

COLS = 16
ROWS = 4
TIME_BITS = 48
CRC_BITS = 16
MIN_CELL = 8
"""Smallest cell in pixels: below it the pattern does not survive compression reliably."""
MAX_MS = 1 << TIME_BITS
DARK = 80
"""A cell whose middle is darker than this (0-255) reads as 0 ..."""
LIGHT = 176
"""... lighter than this as 1; anything between rejects the frame."""


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): catches every 1-, 2- and 3-bit misread."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def bits(ms: int) -> list[int]:
    """The `ROWS * COLS` bits of a timestamp: 48 of milliseconds, then their CRC."""
    if not 0 <= ms < MAX_MS:
        raise ValueError(f"a timestamp must be 0 to 2**{TIME_BITS} - 1 milliseconds, got {ms}")
    word = (ms << CRC_BITS) | crc16(ms.to_bytes(TIME_BITS // 8, "big"))
    return [(word >> (TIME_BITS + CRC_BITS - 1 - i)) & 1 for i in range(TIME_BITS + CRC_BITS)]


def from_bits(values: list[int]) -> int | None:
    """The timestamp the bits carry, or None when their checksum does not match."""
    if len(values) != TIME_BITS + CRC_BITS:
        raise ValueError(f"expected {TIME_BITS + CRC_BITS} bits, got {len(values)}")
    word = 0
    for bit in values:
        word = (word << 1) | (1 if bit else 0)
    ms, crc = word >> CRC_BITS, word & 0xFFFF
    return ms if crc16(ms.to_bytes(TIME_BITS // 8, "big")) == crc else None


def cell_size(width: int) -> int:
    """Cell side in pixels for a frame `width` wide."""
    cell = width // COLS
    if cell < MIN_CELL:
        raise ValueError(f"a frame must be at least {COLS * MIN_CELL} px wide for the timecode, got {width}")
    return cell


def band_height(width: int) -> int:
    """Rows of pixels the pattern takes at the top of a frame `width` wide."""
    return ROWS * cell_size(width)


def scanlines(ms: int, width: int, *, black: int = 16, white: int = 235) -> list[bytes]:
    """One row of 8-bit luma per row of cells (`width` bytes each; right of the pattern is black):
    repeat each `cell_size(width)` times, top to bottom, to draw the band. The defaults are
    video-range luma, what an I420 frame for H.264 holds."""
    if not (0 <= black <= 255 and 0 <= white <= 255):
        raise ValueError(f"black and white must be 0-255, got {black} and {white}")
    cell = cell_size(width)
    values = bits(ms)
    dark, light = bytes([black]) * cell, bytes([white]) * cell
    rest = bytes([black]) * (width - COLS * cell)
    lines = []
    for row in range(ROWS):
        cells = values[row * COLS : (row + 1) * COLS]
        lines.append(b"".join(light if bit else dark for bit in cells) + rest)
    return lines


def encode(ms: int, frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Draw the timestamp into `frame` (gray H x W, or H x W x C with every channel alike), in
    place, full range (0 and 255); returns the frame."""
    import numpy as np

    if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
        raise ValueError(f"a frame must be uint8, H x W or H x W x C, got {frame.dtype} {frame.shape}")
    height, width = frame.shape[:2]
    cell = cell_size(width)
    if height < ROWS * cell:
        raise ValueError(f"a {width} px wide frame must be at least {ROWS * cell} px high, got {height}")
    band = np.frombuffer(b"".join(s * cell for s in scanlines(ms, width, black=0, white=255)), np.uint8)
    band = band.reshape(ROWS * cell, width)
    frame[: ROWS * cell] = band if frame.ndim == 2 else band[:, :, None]
    return frame


def decode(frame: NDArray[Any]) -> int | None:
    """The timestamp in `frame` (gray, or RGB/BGR: channels are averaged), or None when there is
    no readable pattern (an ambiguous cell, a checksum mismatch, too small a frame)."""
    import numpy as np

    if frame.ndim not in (2, 3):
        raise ValueError(f"a frame must be H x W or H x W x C, got shape {frame.shape}")
    height, width = frame.shape[:2]
    if width < COLS * MIN_CELL:
        return None
    cell = width // COLS
    if height < ROWS * cell:
        return None
    band = frame[: ROWS * cell, : COLS * cell].astype(np.float32)
    if band.ndim == 3:
        band = band.mean(axis=2)
    quarter = cell // 4
    cells = band.reshape(ROWS, cell, COLS, cell)[:, quarter : cell - quarter, :, quarter : cell - quarter]
    means = cells.mean(axis=(1, 3)).ravel()
    if bool(np.any((means > DARK) & (means < LIGHT))):
        return None
    return from_bits([int(m >= LIGHT) for m in means])


READ_FRAME_JS = """
(video, frames) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("no video frame presented within 5 s")), 5000);
  let left = frames;
  const next = (now, meta) => {
    if (--left > 0) { video.requestVideoFrameCallback(next); return; }
    clearTimeout(timer);
    // Drawn in the callback: the canvas holds the very frame the metadata describes.
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    const ranges = video.buffered;
    resolve({
      shown: performance.timeOrigin + meta.expectedDisplayTime,
      lag: ranges.length ? ranges.end(ranges.length - 1) - video.currentTime : null,
      png: canvas.toDataURL("image/png"),
    });
  };
  video.requestVideoFrameCallback(next);
})
"""
"""In a browser (Playwright's `evaluate` on a <video>): waits for the `frames`-th next presented
frame, then returns it as PNG with its display time and the player's lag behind its buffer
(`png_frame` and `decode` read it)."""


def png_frame(data_url: str) -> NDArray[Any]:
    """The frame the browser sent back from `READ_FRAME_JS` (a PNG data URL), gray, for `decode`."""
    import base64

    import cv2
    import numpy as np

    raw = base64.b64decode(data_url.split(",", 1)[1])
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError("the page sent an image that is not a PNG")
    return np.asarray(image)
