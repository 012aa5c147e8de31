"""The people of the synthetic city: two real faces from public-domain photos that packages ship.

- "grace_hopper": Rear Admiral Grace Hopper, official US Navy portrait (public domain), shipped as
  matplotlib's sample image `grace_hopper.jpg`.
- "eileen_collins": astronaut Eileen Collins, NASA portrait (public domain), shipped as
  `skimage.data.astronaut()`.

Each identity is a head crop with an elliptical feathered mask, to be composited onto a
rendered body, and a face box inside the crop that the ground truth reports (brows to chin,
cheek to cheek, roughly what a face detector returns). The full photos are available too, as
the reference pictures an investigator would enrol.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import matplotlib.cbook
import numpy as np
import numpy.typing as npt
import skimage.data

from safecity.types import BGRImage

FACE_WIDTH_M = 0.15
"""Real width of the face box (cheek to cheek): sets how large a face is drawn at a distance."""
FEATHER_FRACTION = 0.08
"""Width of the soft edge of the head mask, as a fraction of the crop width."""


@dataclass(frozen=True, slots=True)
class Identity:
    """A person whose face appears in the sim, with where the face is in the source photo."""

    name: str
    display_name: str
    source: str
    crop: tuple[int, int, int, int]
    """Head crop (x, y, w, h) in the source photo: hair and headwear included."""
    face_box: tuple[int, int, int, int]
    """Face box (x, y, w, h) in the source photo: brows to chin, cheek to cheek."""
    hair_bgr: tuple[int, int, int]
    """Colour of the back of the head, for when the person walks away from a camera."""


GRACE_HOPPER = Identity(
    name="grace_hopper",
    display_name="Grace Hopper",
    source="matplotlib sample data grace_hopper.jpg (US Navy portrait, public domain)",
    # 512x600 portrait: the cap starts near y=25, the chin is at y~338, the ears at x~155 and ~375.
    crop=(128, 38, 274, 330),
    face_box=(160, 118, 210, 222),
    hair_bgr=(40, 30, 28),  # the navy cap seen from behind
)

EILEEN_COLLINS = Identity(
    name="eileen_collins",
    display_name="Eileen Collins",
    source="skimage.data.astronaut() (NASA portrait, public domain)",
    # 512x512 portrait: the hair spans x~153..303 from y~17; the chin is at y~180.
    crop=(148, 12, 160, 192),
    face_box=(178, 70, 96, 110),
    hair_bgr=(45, 85, 125),
)

IDENTITIES: dict[str, Identity] = {i.name: i for i in (GRACE_HOPPER, EILEEN_COLLINS)}

_astronaut: Callable[[], Any] = skimage.data.astronaut


@dataclass(frozen=True, slots=True, eq=False)
class FaceSprite:
    """A head crop ready for compositing: colours, alpha mask and the face box inside it."""

    identity: Identity
    image: npt.NDArray[np.float32]
    """BGR, float32 0..255, shape (h, w, 3)."""
    alpha: npt.NDArray[np.float32]
    """0..1, shape (h, w, 1)."""
    face_box: tuple[int, int, int, int]
    """Face box relative to the crop."""


@functools.lru_cache(maxsize=4)
def reference_image(name: str) -> BGRImage:
    """The whole source photo of an identity (BGR), e.g. to enrol it in a watchlist."""
    if name == GRACE_HOPPER.name:
        path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
        loaded = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if loaded is None:  # pragma: no cover - matplotlib ships the file
            raise FileNotFoundError(f"cannot read {path}")
        image: BGRImage = np.asarray(loaded, dtype=np.uint8)
    elif name == EILEEN_COLLINS.name:
        rgb = np.asarray(_astronaut(), dtype=np.uint8)
        image = np.ascontiguousarray(rgb[:, :, ::-1])
    else:
        raise ValueError(f"unknown identity {name!r}; known: {', '.join(IDENTITIES)}")
    image.flags.writeable = False
    return image


@functools.lru_cache(maxsize=4)
def face_sprite(name: str) -> FaceSprite:
    """The head crop of an identity with its feathered elliptical mask."""
    if name not in IDENTITIES:
        raise ValueError(f"unknown identity {name!r}; known: {', '.join(IDENTITIES)}")
    ident = IDENTITIES[name]
    x, y, w, h = ident.crop
    photo = reference_image(name)
    crop = photo[y : y + h, x : x + w].astype(np.float32)
    mask = np.zeros((h, w), np.float32)
    feather = max(2, round(w * FEATHER_FRACTION))
    cv2.ellipse(mask, (w // 2, h // 2), (w // 2 - feather, h // 2 - feather), 0, 0, 360, 1.0, -1)
    sigma = feather / 2.0
    soft = np.asarray(cv2.GaussianBlur(mask, (0, 0), sigma), dtype=np.float32)
    fx, fy, fw, fh = ident.face_box
    return FaceSprite(ident, crop, soft[..., None], (fx - x, fy - y, fw, fh))
