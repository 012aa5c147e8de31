"""Serbian licence plates for the synthetic city: random valid plate strings and plate images.

Images follow the 2011 Serbian layout at 1 px per millimetre (520 x 112): white plate with a
black border, blue band on the left with "SRB", the registration-area code, the small shield
with the code in Cyrillic below it, then "123-AB". Text uses matplotlib's bundled DejaVu Sans
Bold (a real TrueType font that ships with a dependency; the real plates use FE-Schrift).
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import cv2
import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from safecity.analytics.plates.formats import SERBIA, SERBIAN_ASCII_LETTERS
from safecity.types import BGRImage

PLATE_SIZE_MM = (520, 112)
"""Width and height of a Serbian plate (520.5 x 112.9 mm), rendered at 1 px per mm."""
PLATE_WIDTH_M = 0.52
PLATE_HEIGHT_M = 0.112

# Registration areas the sim draws from, with their weights: mostly Belgrade, some visitors.
# Only codes without diacritics, so every plate uses the ASCII letters the OCR tests expect.
SIM_CITY_WEIGHTS: dict[str, float] = {
    "BG": 0.78,
    "NS": 0.04,
    "NI": 0.03,
    "KG": 0.02,
    "PA": 0.02,
    "SM": 0.02,
    "VA": 0.02,
    "SD": 0.02,
    "KV": 0.01,
    "PO": 0.01,
    "SU": 0.01,
    "UE": 0.01,
    "ZR": 0.01,
}
FOUR_DIGIT_SHARE = 0.25
"""Share of sim plates with four digits (Belgrade has issued four-digit serials for years)."""

_BLUE_BGR = (153, 51, 0)  # the EU-style band blue, RGB (0, 51, 153)
_WHITE_BGR = (250, 250, 250)
_INK_BGR = (20, 20, 20)
_SHIELD_RED_BGR = (40, 30, 190)
_CROWN_BGR = (40, 150, 200)

# Layout in millimetres: (left, top, right, bottom) boxes on the 520 x 112 plate.
_BAND_BOX = (3, 3, 42, 109)
_CITY_BOX = (48, 20, 130, 92)
_SHIELD_BOX = (137, 16, 165, 62)
_CYRILLIC_BOX = (135, 70, 167, 82)
_SERIAL_BOX = (172, 20, 510, 92)
_SRB_BOX = (8, 86, 37, 98)
_CONDENSE = 0.86
"""Horizontal squeeze of DejaVu glyphs so they resemble the narrower plate font."""

_LATIN_TO_CYRILLIC = str.maketrans(
    {
        "A": "А",
        "B": "Б",
        "C": "Ц",
        "Č": "Ч",
        "Ć": "Ћ",
        "D": "Д",
        "Đ": "Ђ",
        "E": "Е",
        "F": "Ф",
        "G": "Г",
        "H": "Х",
        "I": "И",
        "J": "Ј",
        "K": "К",
        "L": "Л",
        "M": "М",
        "N": "Н",
        "O": "О",
        "P": "П",
        "R": "Р",
        "S": "С",
        "Š": "Ш",
        "T": "Т",
        "U": "У",
        "V": "В",
        "Z": "З",
        "Ž": "Ж",
    }
)


def font_path() -> Path:
    """DejaVu Sans Bold as shipped inside matplotlib."""
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"


def random_plate(rng: np.random.Generator) -> str:
    """A random valid Serbian plate as printed, e.g. "BG 123-AB" (ASCII letters only)."""
    codes = list(SIM_CITY_WEIGHTS)
    weights = np.array([SIM_CITY_WEIGHTS[c] for c in codes])
    city = codes[int(rng.choice(len(codes), p=weights / weights.sum()))]
    if rng.random() < FOUR_DIGIT_SHARE:
        digits = str(int(rng.integers(1000, 10000)))
    else:
        digits = str(int(rng.integers(100, 1000)))
    letters = "".join(SERBIAN_ASCII_LETTERS[int(i)] for i in rng.integers(0, len(SERBIAN_ASCII_LETTERS), 2))
    plate = f"{city} {digits}-{letters}"
    if not SERBIA.validate(plate):  # pragma: no cover - guards the tables above
        raise AssertionError(f"generated an invalid plate {plate!r}")
    return plate


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), size)


@functools.lru_cache(maxsize=512)
def _text_mask(text: str) -> tuple[np.ndarray, float, float]:
    """Ink mask (float32, 0..1) of `text` cropped to its ink; its baseline row and cap height.

    Letters are sized by the cap height of "H", so a J's descender or a caron on Š stick out of
    the box a little instead of shrinking the whole text.
    """
    font = _font(160)
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    cap_top = font.getbbox("H", anchor="ls")[1]
    pad = 6
    img = Image.new("L", (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad), 0)
    origin = (pad - left, pad - top)
    ImageDraw.Draw(img).text(origin, text, font=font, fill=255, anchor="ls")
    arr = np.asarray(img, dtype=np.float32) / 255.0
    ys, xs = np.nonzero(arr > 0.05)
    y0 = int(ys.min())
    mask = arr[y0 : ys.max() + 1, xs.min() : xs.max() + 1]
    baseline = float(origin[1] - y0)
    return mask, baseline, float(-cap_top)


def _put_text(
    plate: np.ndarray,
    text: str,
    box: tuple[int, int, int, int],
    colour: tuple[int, int, int],
    *,
    condense: float = _CONDENSE,
) -> None:
    """Draw `text` with its cap height filling the height of `box`, centred in it.

    The text is narrowed when it would be wider than the box; ink outside the plate is dropped.
    """
    mask, baseline, cap = _text_mask(text)
    x0, y0, x1, y1 = box
    box_w, box_h = x1 - x0, y1 - y0
    scale = box_h / cap
    w = round(min(mask.shape[1] * scale * condense, box_w))
    h = max(1, round(mask.shape[0] * scale))
    scaled = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)
    top = round(y1 - baseline * scale)
    left = x0 + (box_w - w) // 2
    ph, _pw = plate.shape[:2]
    sy0, sy1 = max(0, -top), min(h, ph - top)
    if sy1 <= sy0:
        return
    a = scaled[sy0:sy1, :, None]
    roi = plate[top + sy0 : top + sy1, left : left + w].astype(np.float32)
    ink = np.array(colour, np.float32)
    plate[top + sy0 : top + sy1, left : left + w] = (roi * (1 - a) + ink * a).astype(np.uint8)


def _draw_shield(plate: np.ndarray) -> None:
    """The small Serbian coat of arms: a crown over a red shield with a white cross."""
    x0, y0, x1, y1 = _SHIELD_BOX
    crown_h = (y1 - y0) // 4
    crown = np.array(
        [
            [x0 + 3, y0 + crown_h],
            [x0 + 3, y0 + 2],
            [x0 + 8, y0 + 6],
            [(x0 + x1) // 2, y0],
            [x1 - 8, y0 + 6],
            [x1 - 3, y0 + 2],
            [x1 - 3, y0 + crown_h],
        ],
        np.int32,
    )
    cv2.fillPoly(plate, [crown], _CROWN_BGR, lineType=cv2.LINE_AA)
    top = y0 + crown_h + 2
    mid = (x0 + x1) // 2
    shield = np.array([[x0, top], [x1, top], [x1, y1 - 12], [mid, y1], [x0, y1 - 12]], np.int32)
    cv2.fillPoly(plate, [shield], _SHIELD_RED_BGR, lineType=cv2.LINE_AA)
    arm = 2
    cv2.rectangle(plate, (mid - arm, top + 3), (mid + arm, y1 - 6), _WHITE_BGR, -1)
    cross_y = top + (y1 - top) * 2 // 5
    cv2.rectangle(plate, (x0 + 3, cross_y - arm), (x1 - 3, cross_y + arm), _WHITE_BGR, -1)


_RENDER_LOCK = threading.Lock()
"""Clips render in threads; one FreeType face is not to be used by two threads at once."""


def render_plate(text: str) -> BGRImage:
    """The plate image (112 x 520 BGR, read-only) for a valid Serbian plate; ValueError otherwise."""
    with _RENDER_LOCK:
        return _render_plate(text)


@functools.lru_cache(maxsize=256)
def _render_plate(text: str) -> BGRImage:
    m = SERBIA.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a valid Serbian plate")
    city, digits, letters = m.group("city"), m.group("digits"), m.group("letters")
    w, h = PLATE_SIZE_MM
    plate = np.full((h, w, 3), _WHITE_BGR, np.uint8)
    cv2.rectangle(plate, (1, 1), (w - 2, h - 2), _INK_BGR, 3, lineType=cv2.LINE_AA)
    bx0, by0, bx1, by1 = _BAND_BOX
    cv2.rectangle(plate, (bx0, by0), (bx1, by1), _BLUE_BGR, -1)
    _put_text(plate, "SRB", _SRB_BOX, _WHITE_BGR, condense=1.0)
    _put_text(plate, city, _CITY_BOX, _INK_BGR)
    _draw_shield(plate)
    _put_text(plate, city.translate(_LATIN_TO_CYRILLIC), _CYRILLIC_BOX, _INK_BGR, condense=1.0)
    _put_text(plate, f"{digits}-{letters}", _SERIAL_BOX, _INK_BGR)
    plate.flags.writeable = False
    return plate
