"""Image dimensions read from the file header before anything is decoded, and the limit on them.

A small file can declare an enormous image: a 300 KB PNG of compressed zeros declares 50000x50000
pixels, and decoding it costs gigabytes of memory and most of a minute, or makes OpenCV raise.
Every path that decodes a user-supplied photo (API and web uploads, the CLI's photo files) calls
`check_image` / `check_image_file` first, so a decoder only ever sees an image whose size is known
and within `ImageLimits` (`api.max_image_pixels`, `api.max_image_side`).

PNG (the IHDR chunk) and JPEG (the first SOFn marker, found by walking the marker segments the
way libjpeg does) are parsed here; BMP, WebP and TIFF, which OpenCV also decodes, go through
Pillow's `Image.open`, which reads the header and decodes nothing. Anything else, or a header that
is missing, truncated or malformed, is refused: a size that cannot be read cannot be checked.
Memory is bounded (a few small reads, one bounded chunk at a time) and so is time (at most
`MAX_JPEG_SEGMENTS` segments are walked before the frame header).
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from safecity.config import ApiSettings

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
MAX_JPEG_SEGMENTS = 4096
"""Marker segments walked before a JPEG's frame header; real files have tens (an ICC profile split
into APP2 chunks at most 255), and the cap keeps a file of tiny segments from costing seconds."""
_SCAN_CHUNK = 64 * 1024
# Start-of-frame markers: C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, with no length field: TEM and RST0-7.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_SOS, _JPEG_EOI, _JPEG_SOI = 0xDA, 0xD9, 0xD8
# The other formats OpenCV decodes for a photo, read by Pillow (which would otherwise try them all).
_PILLOW_FORMATS = ("BMP", "WEBP", "TIFF")
EXPECTED = "JPEG, PNG, BMP, WebP or TIFF expected"


class ImageRefused(ValueError):
    """An image refused from its header alone: unreadable or too large."""


class UnreadableImage(ImageRefused):
    """No image header could be read: an unknown format, or a header that is cut short or malformed."""


class ImageTooLarge(ImageRefused):
    """An image whose header declares more pixels, or a longer side, than `ImageLimits` allows."""


@dataclass(frozen=True, slots=True)
class ImageHeader:
    format: str
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """The largest image a user may make the server (or the CLI) decode."""

    max_pixels: int
    max_side: int

    @classmethod
    def of(cls, api: ApiSettings) -> ImageLimits:
        return cls(api.max_image_pixels, api.max_image_side)


DEFAULT_LIMITS = ImageLimits.of(ApiSettings())
"""The configured defaults, for callers that were given no settings (the demo, library use)."""


def read_header(source: BinaryIO) -> ImageHeader:
    """The format and size an image stream declares, read from its current position.

    UnreadableImage when the format is not one of those listed in `EXPECTED` or its header is
    truncated or malformed; ImageTooLarge only past Pillow's own limit, which hides the size.
    Reads only the header (for JPEG, the segments before the frame header).
    """
    start = source.tell()
    head = source.read(8)
    source.seek(start)
    if head.startswith(PNG_SIGNATURE):
        header = _png(source)
    elif head.startswith(JPEG_SOI):
        header = _jpeg(source)
    else:
        header = _pillow(source)
    if header.width <= 0 or header.height <= 0:
        raise UnreadableImage(f"the {header.format} header declares {header.width}x{header.height} pixels")
    return header


def header_of(data: bytes) -> ImageHeader:
    """`read_header` of an image held in memory."""
    return read_header(io.BytesIO(data))


def check_header(header: ImageHeader, limits: ImageLimits, what: str) -> ImageHeader:
    """`header` if within `limits`; ImageTooLarge naming the setting it exceeds otherwise."""
    size = f"{header.width}x{header.height} pixels"
    if header.pixels > limits.max_pixels:
        raise ImageTooLarge(
            f"{what} declares {size} ({header.pixels / 1e6:.1f} megapixels), more than "
            f"api.max_image_pixels = {limits.max_pixels:,}; it was not decoded"
        )
    if max(header.width, header.height) > limits.max_side:
        raise ImageTooLarge(
            f"{what} declares {size}, a side longer than api.max_image_side = {limits.max_side:,}; "
            "it was not decoded"
        )
    return header


def check_image(data: bytes, limits: ImageLimits, what: str = "the photo") -> ImageHeader:
    """The header of an image in memory, checked against `limits` before anything decodes it.

    UnreadableImage or ImageTooLarge (both ImageRefused, a ValueError), each naming `what`.
    """
    try:
        header = header_of(data)
    except UnreadableImage as exc:
        raise UnreadableImage(f"{what} is not a readable image: {exc} ({EXPECTED})") from None
    except ImageTooLarge as exc:
        raise _too_large(what, exc, limits) from None
    return check_header(header, limits, what)


def check_image_file(path: Path, limits: ImageLimits) -> ImageHeader:
    """`check_image` for a file, reading only its header; the errors name the file."""
    try:
        with path.open("rb") as f:
            header = read_header(f)
    except FileNotFoundError:
        raise UnreadableImage(f"{path}: no such file") from None
    except OSError as exc:
        raise UnreadableImage(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnreadableImage as exc:
        raise UnreadableImage(f"{path}: not a readable image: {exc} ({EXPECTED})") from None
    except ImageTooLarge as exc:
        raise _too_large(str(path), exc, limits) from None
    return check_header(header, limits, str(path))


def _too_large(what: str, exc: ImageTooLarge, limits: ImageLimits) -> ImageTooLarge:
    return ImageTooLarge(
        f"{what} {exc}, more than api.max_image_pixels = {limits.max_pixels:,}; it was not decoded"
    )


def _read(source: BinaryIO, n: int, what: str) -> bytes:
    data = source.read(n)
    if len(data) < n:
        raise UnreadableImage(f"the file ends inside the {what}")
    return data


def _png(source: BinaryIO) -> ImageHeader:
    """The IHDR chunk, which the PNG specification requires to come first."""
    _read(source, 8, "PNG signature")
    length, kind = struct.unpack(">I4s", _read(source, 8, "PNG header"))
    if kind != b"IHDR" or length != 13:
        raise UnreadableImage("the PNG does not start with its IHDR header chunk")
    width, height = struct.unpack(">II", _read(source, 8, "PNG header"))
    return ImageHeader("PNG", width, height)


def _jpeg(source: BinaryIO) -> ImageHeader:
    """The size in the first start-of-frame marker: the one libjpeg (inside OpenCV) decodes.

    Walked as libjpeg walks it, so that both find the same frame header: bytes that are not a
    marker are skipped up to the next 0xFF, fill bytes (0xFF 0xFF) are skipped, stand-alone markers
    have no length, every other marker's length is skipped over.
    """
    _read(source, 2, "JPEG start marker")
    for _ in range(MAX_JPEG_SEGMENTS):
        marker = _next_marker(source)
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (_JPEG_SOS, _JPEG_EOI, _JPEG_SOI):
            raise UnreadableImage(f"the JPEG has no frame header before marker 0xFF{marker:02X}")
        (length,) = struct.unpack(">H", _read(source, 2, "JPEG segment length"))
        if length < 2:
            raise UnreadableImage(f"a JPEG segment declares a length of {length}")
        if marker in _JPEG_SOF:
            _precision, height, width = struct.unpack(">BHH", _read(source, 5, "JPEG frame header"))
            if height == 0:
                # The height would follow in a DNL marker after the first scan; libjpeg refuses it too.
                raise UnreadableImage("the JPEG frame header leaves its height to a DNL marker")
            return ImageHeader("JPEG", width, height)
        source.seek(length - 2, io.SEEK_CUR)
    raise UnreadableImage(f"the JPEG has more than {MAX_JPEG_SEGMENTS} segments before its frame header")


def _next_marker(source: BinaryIO) -> int:
    """The code of the next marker, skipping stray bytes and 0xFF fill bytes before it."""
    while True:
        chunk = source.read(_SCAN_CHUNK)
        if not chunk:
            raise UnreadableImage("the JPEG ends before its frame header")
        at = chunk.find(b"\xff")
        if at < 0:
            continue
        source.seek(at + 1 - len(chunk), io.SEEK_CUR)
        code = b"\xff"
        while code == b"\xff":
            code = source.read(1)
        if not code:
            raise UnreadableImage("the JPEG ends before its frame header")
        if code != b"\x00":  # 0xFF 0x00 is a stuffed byte, not a marker
            return code[0]


def _pillow(source: BinaryIO) -> ImageHeader:
    """BMP, WebP or TIFF through Pillow's lazy `Image.open`, which parses the header only."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice its own limit, raises) on large images; ours is the limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source, formats=_PILLOW_FORMATS) as image:
                return ImageHeader(str(image.format), image.width, image.height)
    except Image.DecompressionBombError:
        # Pillow's own limit (2 x Image.MAX_IMAGE_PIXELS, about 179 megapixels) hides the size.
        raise ImageTooLarge(f"declares more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels") from None
    except UnidentifiedImageError:
        # Pillow says only this, also for a known format whose header is cut short.
        raise UnreadableImage("no complete header of a known format") from None
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as exc:
        # Pillow's plugins report a malformed header with any of these.
        raise UnreadableImage(f"a malformed header ({exc})") from None
