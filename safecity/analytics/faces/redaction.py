"""Face redaction in images: blur a face so that neither a person nor a network recognises it.

Used where faces are stored (snapshots of faces that match nothing) and where they leave the
system (exports: every face blurred unless a confirmed match and a justification allow the one
matched face to stay visible).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2

from safecity.types import BBox, BGRImage, context_box

FACE_GROWTH = 0.15
"""The blurred area reaches this fraction of the face size beyond the box: hairline and chin."""
DEFAULT_KERNEL_FRACTION = 0.25


def blur_face(image: BGRImage, face: BBox, kernel_fraction: float = DEFAULT_KERNEL_FRACTION) -> BGRImage:
    """A copy of `image` with the face box (grown a little, to take the hairline and chin) blurred."""
    return blur_faces(image, [face], kernel_fraction)


def blur_faces(
    image: BGRImage, faces: Sequence[BBox], kernel_fraction: float = DEFAULT_KERNEL_FRACTION
) -> BGRImage:
    """A copy of `image` with every box in `faces` blurred."""
    out = image.copy()
    for face in faces:
        region = context_box(face, image.shape, FACE_GROWTH)
        if region.w == 0 or region.h == 0:
            continue
        k = max(3, int(region.w * kernel_fraction) | 1)
        patch = out[region.y : region.y + region.h, region.x : region.x + region.w]
        # Two passes: one wide Gaussian still lets a face be recognised by a network, two do not.
        blurred = cv2.GaussianBlur(cv2.GaussianBlur(patch, (k, k), 0), (k, k), 0)
        out[region.y : region.y + region.h, region.x : region.x + region.w] = blurred
    return out
