"""Uploaded files: read with a size limit, and checked to be the kind of image they claim to be.

Shared by the API (face search, enrolment, register import) and the web pages, so that every
upload path refuses the same things with the same messages: over `api.max_upload_bytes`
(`PayloadTooLarge`, 413) and not a decodable JPEG/PNG (`UnsupportedMedia`, 415).
"""

from __future__ import annotations

from typing import BinaryIO

import cv2
import numpy as np

from safecity.api.problems import PayloadTooLarge, UnsupportedMedia

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


def image_suffix(content_type: str | None, data: bytes, what: str = "the photo") -> str:
    """The file suffix of an upload that is a JPEG or PNG image; UnsupportedMedia otherwise."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in IMAGE_TYPES:
        raise UnsupportedMedia(f"{what} must be image/jpeg or image/png, not {kind or 'an unnamed type'}")
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR) if data else None
    if decoded is None:
        raise UnsupportedMedia(f"{what} is not a readable {kind} image")
    return IMAGE_TYPES[kind]
