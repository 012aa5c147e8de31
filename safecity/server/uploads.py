"""Uploaded files: read with a size limit, and checked to be the kind of image they claim to be.

Shared by the API (face search, enrolment, register import) and the web pages, so that every
upload path refuses the same things with the same messages: over `api.max_upload_bytes`
(`PayloadTooLarge`, 413), a header declaring more than `api.max_image_pixels` or
`api.max_image_side` (413, read from the header before anything decodes it: a small file can
declare a huge image) and not a decodable JPEG/PNG (`UnsupportedMedia`, 415).
"""

from __future__ import annotations

from typing import BinaryIO

import cv2
import numpy as np

from safecity.analytics.image_header import (
    ImageHeader,
    ImageLimits,
    ImageTooLarge,
    UnreadableImage,
    check_image,
)
from safecity.server.problems import PayloadTooLarge, UnsupportedMedia

IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png"}
"""Accepted photo types and the suffix a temporary copy gets."""
CHUNK = 64 * 1024


def read_upload(upload: BinaryIO, max_bytes: int, what: str = "the upload") -> bytes:
    """The upload's bytes, read in chunks; PayloadTooLarge as soon as it passes `max_bytes`."""
    upload.seek(0)
    parts: list[bytes] = []
    size = 0
    while chunk := upload.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"{what} is larger than {max_bytes:,} bytes (api.max_upload_bytes)")
        parts.append(chunk)
    return b"".join(parts)


def check_photo(data: bytes, limits: ImageLimits, what: str = "the photo") -> ImageHeader:
    """The header of an uploaded image, before anything decodes it: PayloadTooLarge (413) past
    `limits`, UnsupportedMedia (415) when no header of an accepted format can be read."""
    try:
        return check_image(data, limits, what)
    except ImageTooLarge as exc:
        raise PayloadTooLarge(str(exc)) from None
    except UnreadableImage as exc:
        raise UnsupportedMedia(str(exc)) from None


def image_suffix(content_type: str | None, data: bytes, limits: ImageLimits, what: str = "the photo") -> str:
    """The file suffix of an upload that is a JPEG or PNG image within `limits`; PayloadTooLarge or
    UnsupportedMedia otherwise (see `check_photo`)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in IMAGE_TYPES:
        raise UnsupportedMedia(f"{what} must be image/jpeg or image/png, not {kind or 'an unnamed type'}")
    check_photo(data, limits, what)
    try:
        decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:  # the header was checked; whatever else the decoder refuses is the file's fault
        decoded = None
    if decoded is None:
        raise UnsupportedMedia(f"{what} is not a readable {kind} image")
    return IMAGE_TYPES[kind]
