"""The image header reader: the size each format declares, read without decoding, and the limit on it."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest
from image_files import (
    bmp_declaring,
    encoded,
    jpeg,
    jpeg_declaring,
    png_bomb,
    with_app_segment,
)

from safecity.analytics.image_header import (
    MAX_JPEG_SEGMENTS,
    ImageHeader,
    ImageLimits,
    ImageTooLarge,
    UnreadableImage,
    check_image,
    check_image_file,
    header_of,
)

LIMITS = ImageLimits(max_pixels=40_000_000, max_side=16_384)

READABLE = [
    ("png", encoded(".png"), ImageHeader("PNG", 31, 17)),
    ("jpeg baseline", jpeg(), ImageHeader("JPEG", 31, 17)),
    ("jpeg progressive", jpeg(progressive=True), ImageHeader("JPEG", 31, 17)),
    ("jpeg with a 60 KB APP1 first", with_app_segment(jpeg(), 60_000), ImageHeader("JPEG", 31, 17)),
    ("jpeg with fill bytes", jpeg()[:2] + b"\xff\xff\xff" + jpeg()[2:], ImageHeader("JPEG", 31, 17)),
    ("bmp", encoded(".bmp"), ImageHeader("BMP", 31, 17)),
    ("webp", encoded(".webp"), ImageHeader("WEBP", 31, 17)),
    ("tiff", encoded(".tiff"), ImageHeader("TIFF", 31, 17)),
    ("png bomb", png_bomb(50_000, 50_000), ImageHeader("PNG", 50_000, 50_000)),
    ("jpeg bomb", jpeg_declaring(60_000, 60_000), ImageHeader("JPEG", 60_000, 60_000)),
    (
        "progressive jpeg bomb",
        jpeg_declaring(60_000, 60_000, progressive=True),
        ImageHeader("JPEG", 60_000, 60_000),
    ),
]


@pytest.mark.parametrize(("data", "header"), [c[1:] for c in READABLE], ids=[c[0] for c in READABLE])
def test_the_declared_size_is_read_from_the_header(data: bytes, header: ImageHeader) -> None:
    assert header_of(data) == header


def _jpeg_sos_first() -> bytes:
    data = jpeg()
    return data[:2] + b"\xff\xda\x00\x02" + data[2:]


def _png_without_ihdr() -> bytes:
    data = encoded(".png")
    return data[:12] + b"IHDX" + data[16:]


UNREADABLE = [
    ("empty", b"", "no complete header of a known format"),
    ("text", b"hello, this is not an image at all", "no complete header of a known format"),
    ("gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "no complete header of a known format"),
    ("png signature only", encoded(".png")[:8], "ends inside the PNG header"),
    ("png cut inside IHDR", encoded(".png")[:20], "ends inside the PNG header"),
    ("png whose first chunk is not IHDR", _png_without_ihdr(), "IHDR"),
    ("png declaring 0 pixels wide", png_bomb(8, 8)[:16] + struct.pack(">I", 0) + png_bomb(8, 8)[20:], "0x8"),
    ("jpeg SOI only", b"\xff\xd8", "ends before its frame header"),
    ("jpeg cut before its frame header", jpeg()[:30], "ends"),
    (
        "jpeg cut inside its frame header",
        jpeg()[: jpeg().index(b"\xff\xc0") + 6],
        "inside the JPEG frame header",
    ),
    ("jpeg scan before frame header", _jpeg_sos_first(), "no frame header before marker 0xFFDA"),
    ("jpeg with a DNL height", jpeg_declaring(100, 0), "DNL"),
    ("jpeg of endless segments", b"\xff\xd8" + b"\xff\xfe\x00\x02" * (MAX_JPEG_SEGMENTS + 1), "segments"),
    ("bmp cut short", encoded(".bmp")[:10], "no complete header"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE])
def test_a_missing_or_broken_header_is_unreadable(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableImage, match="not a readable image") as caught:
        check_image(data, LIMITS, "the photo")
    assert message in str(caught.value) and str(caught.value).startswith("the photo ")


TOO_LARGE = [
    (
        "png 20000 square",
        png_bomb(20_000, 20_000),
        "20000x20000 pixels (400.0 megapixels)",
        "api.max_image_pixels",
    ),
    ("jpeg 60000 square", jpeg_declaring(60_000, 60_000), "60000x60000", "api.max_image_pixels"),
    ("panorama", jpeg_declaring(20_000, 100), "20000x100", "api.max_image_side"),
    (
        "bmp 30000 square",
        bmp_declaring(30_000, 30_000),
        "more than 178,956,970 pixels",
        "api.max_image_pixels",
    ),
    ("bmp 7000 square", bmp_declaring(7_000, 7_000), "7000x7000", "api.max_image_pixels"),
]


@pytest.mark.parametrize(
    ("data", "size", "setting"), [c[1:] for c in TOO_LARGE], ids=[c[0] for c in TOO_LARGE]
)
def test_an_image_over_the_limits_is_refused_naming_the_setting(data: bytes, size: str, setting: str) -> None:
    with pytest.raises(ImageTooLarge) as caught:
        check_image(data, LIMITS, "the photo")
    assert size in str(caught.value) and setting in str(caught.value)


def test_an_image_at_the_limits_passes() -> None:
    assert check_image(jpeg_declaring(16_384, 2_441), LIMITS) == ImageHeader("JPEG", 16_384, 2_441)


def test_a_file_is_checked_from_its_header_and_named(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb(50_000, 50_000))
    with pytest.raises(ImageTooLarge, match=r"bomb\.png declares 50000x50000"):
        check_image_file(path, LIMITS)
    with pytest.raises(UnreadableImage, match=r"nope\.jpg: no such file"):
        check_image_file(tmp_path / "nope.jpg", LIMITS)


def test_a_file_of_garbage_is_walked_fast() -> None:
    """Ten megabytes with no marker after the start of image: one pass of bytes.find, no byte loop."""
    started = time.monotonic()
    with pytest.raises(UnreadableImage):
        header_of(b"\xff\xd8" + bytes(10 << 20))
    assert time.monotonic() - started < 0.5
