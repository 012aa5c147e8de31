"""Image files built byte by byte for tests: bombs (small files that declare huge images) and broken headers.

`png_bomb` is a well-formed PNG (signature, IHDR, one IDAT, IEND, every CRC right) of a 1-bit
grey image of zeros, the kind the issue sent: 20000x20000 is 49 KB, 50000x50000 is 309 KB, and
its zlib stream inflates to exactly the declared size. The stream is built without compressing
hundreds of megabytes: after a full flush deflate forgets its history, so every further
megabyte of zeros compresses to the same bytes, which are repeated; the Adler-32 of n zeros is
(n mod 65521) << 16 | 1. `jpeg_declaring` patches the frame header of a real small JPEG.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

import cv2
import numpy as np

_BLOCK = 1 << 20


def _zeros_zlib(n: int) -> bytes:
    """A zlib stream of `n` zero bytes."""
    if n < _BLOCK:
        return zlib.compress(bytes(n), 9)
    block = bytes(_BLOCK)
    c = zlib.compressobj(9)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    repeated = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    whole, tail = divmod(n, _BLOCK)
    last = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: continues the stream after the flush
    body = first + repeated * (whole - 1) + last.compress(bytes(tail)) + last.flush()
    return body + struct.pack(">I", ((n % 65521) << 16) | 1)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of zeros, `width` x `height`."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = (1 + (width + 7) // 8) * height  # each row: a filter byte, then the packed bits
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", _zeros_zlib(rows))
        + _chunk(b"IEND", b"")
    )


def encoded(suffix: str, width: int = 31, height: int = 17, *params: int) -> bytes:
    """A small real image of that format, encoded by OpenCV."""
    image = np.full((height, width, 3), 120, np.uint8)
    ok, data = cv2.imencode(suffix, image, list(params))
    assert ok
    return bytes(data.tobytes())


def jpeg(width: int = 31, height: int = 17, *, progressive: bool = False) -> bytes:
    return encoded(".jpg", width, height, *((cv2.IMWRITE_JPEG_PROGRESSIVE, 1) if progressive else ()))


def jpeg_declaring(width: int, height: int, *, progressive: bool = False) -> bytes:
    """A small JPEG whose frame header (SOF0, or SOF2 when progressive) declares `width` x `height`."""
    data = bytearray(jpeg(progressive=progressive))
    at = data.index(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def with_app_segment(data: bytes, size: int) -> bytes:
    """A JPEG with an APP1 segment of `size` bytes (as a large EXIF block) before its other segments."""
    payload = b"Exif\x00\x00" + bytes(size - 6)
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


def bmp_declaring(width: int, height: int) -> bytes:
    """A small BMP whose header declares `width` x `height` (its pixel data is not that long)."""
    data = bytearray(encoded(".bmp"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)
