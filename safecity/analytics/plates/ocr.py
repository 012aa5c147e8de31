"""The OCR models: PP-OCR text detection and recognition from the `rapidocr` wheel, run by onnxruntime.

Owns loading the two ONNX models (offline by construction: the files are read from the installed
`rapidocr` package and nothing is ever downloaded; a missing file is an `OcrModelError`), text
detection (DB probability map -> rotated text boxes) and recognition restricted to the characters
plates print (CTC decoding that also says where each character sits in the crop).

rapidocr's own pipeline is not used: it can fetch models and character lists from the internet
when a file is missing, and it hides the per-character positions that the reader needs to reject
coats of arms and country bands read as characters.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from safecity.analytics.plates.formats import DIGITS, FORMATS, LATIN
from safecity.types import BGRImage

MODEL_PACKAGE = "rapidocr"
DET_MODEL_FILE = "PP-OCRv6_det_small.onnx"
REC_MODEL_FILE = "PP-OCRv6_rec_small.onnx"

DET_STRIDE = 32
"""The detection network needs input sides that are multiples of this."""
REC_HEIGHT = 48
"""Input height of the recognition network (PP-OCR rec_img_shape)."""
MIN_REC_WIDTH = 16
MIN_DET_BOX_SIDE = 3
"""Detection kernels thinner than this many pixels (at detection scale) are noise."""
SEPARATOR = " "
"""What the decoder writes where the model reads punctuation, a symbol or an emblem."""

FloatArray = npt.NDArray[np.float32]


class OcrModelError(RuntimeError):
    """The OCR model files are not where the installed `rapidocr` package keeps them."""


def model_dir() -> Path:
    """The folder of ONNX models inside the installed `rapidocr` wheel (no download, no cache)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise OcrModelError(f"the {MODEL_PACKAGE!r} package is not installed; it ships the PP-OCR models")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def model_paths() -> tuple[Path, Path]:
    """(detection, recognition) model files from the wheel; OcrModelError naming what is missing."""
    folder = model_dir()
    paths = (folder / DET_MODEL_FILE, folder / REC_MODEL_FILE)
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        present = sorted(p.name for p in folder.glob("*.onnx")) if folder.is_dir() else []
        raise OcrModelError(
            f"OCR model file(s) {missing} not found in {folder} (present: {present}); install the "
            f"{MODEL_PACKAGE} version pinned in pyproject.toml, models are never downloaded"
        )
    return paths


def plate_alphabet() -> frozenset[str]:
    """Every character a known plate format prints: digits, Latin capitals and national letters."""
    letters: set[str] = set(DIGITS | LATIN)
    for fmt in FORMATS.values():
        letters.update(fmt.letters)
    return frozenset(letters)


def _session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


@dataclass(frozen=True, slots=True)
class TextBox:
    """A detected text line: its rotated rectangle in image pixels and the detector's mean score."""

    centre: tuple[float, float]
    size: tuple[float, float]
    """(length along the text, height across it), length >= height."""
    angle: float
    """Degrees, in (-45, 45]: the text direction's tilt."""
    score: float

    @property
    def height(self) -> float:
        return self.size[1]

    @property
    def aspect(self) -> float:
        return self.size[0] / max(self.size[1], 1e-6)

    def corners(self) -> FloatArray:
        """The four corners (top-left, top-right, bottom-right, bottom-left along the text), (4, 2)."""
        return box_corners(self.centre, self.size, self.angle)

    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned (x0, y0, x1, y1) around the rotated box."""
        pts = self.corners()
        return (
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
        )

    def shifted(self, dx: float, dy: float) -> TextBox:
        return TextBox((self.centre[0] + dx, self.centre[1] + dy), self.size, self.angle, self.score)


def text_box(centre: tuple[float, float], size: tuple[float, float], angle: float, score: float) -> TextBox:
    """A TextBox from an OpenCV rotated rectangle, turned so that its length runs along the text."""
    w, h = size
    if w < h:
        w, h = h, w
        angle += 90.0
    angle = (angle + 90.0) % 180.0 - 90.0
    return TextBox((float(centre[0]), float(centre[1])), (float(w), float(h)), float(angle), float(score))


def box_corners(centre: tuple[float, float], size: tuple[float, float], angle: float) -> FloatArray:
    """Corners of a rotated rectangle as top-left, top-right, bottom-right, bottom-left along its text."""
    a = math.radians(angle)
    u = np.array([math.cos(a), math.sin(a)], np.float32) * (size[0] / 2.0)
    v = np.array([-math.sin(a), math.cos(a)], np.float32) * (size[1] / 2.0)
    c = np.array(centre, np.float32)
    return np.array([c - u - v, c + u - v, c + u + v, c - u + v], np.float32)


@dataclass(frozen=True, slots=True)
class Glyph:
    """One decoded character and where the recogniser put it, in crop pixels."""

    char: str
    probability: float
    x0: float
    x1: float

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2.0


@dataclass(frozen=True, slots=True)
class Recognition:
    """A text line read: raw text (separators where the model saw punctuation) and its glyphs."""

    raw: str
    glyphs: tuple[Glyph, ...]

    @property
    def confidence(self) -> float:
        """Mean probability of the plate characters read (0 when none)."""
        if not self.glyphs:
            return 0.0
        return float(np.mean([g.probability for g in self.glyphs]))


class OcrEngine:
    """PP-OCR detection and recognition on CPU with a fixed thread count; one instance per worker."""

    def __init__(self, threads: int = 1) -> None:
        det_path, rec_path = model_paths()
        self.threads = threads
        self._det = _session(det_path, threads)
        self._rec = _session(rec_path, threads)
        self._det_input = self._det.get_inputs()[0].name
        self._rec_input = self._rec.get_inputs()[0].name
        meta = self._rec.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise OcrModelError(f"{rec_path.name} carries no character list in its metadata")
        # CTC classes: 0 is the blank, then the model's dictionary, then a trailing space.
        classes = ["", *meta["character"].splitlines(), " "]
        alphabet = sorted(ch for ch in plate_alphabet() if ch in classes)
        index = {ch: i for i, ch in enumerate(classes)}
        self._plate_chars = alphabet
        self._upper_idx = np.array([index[ch] for ch in alphabet], np.int64)
        lower = [index.get(ch.lower(), -1) if ch.isalpha() else -1 for ch in alphabet]
        self._lower_idx = np.array([max(i, 0) for i in lower], np.int64)
        self._has_lower = np.array([i >= 0 for i in lower], bool)

    @property
    def session_threads(self) -> tuple[int, int]:
        """(intra-op, inter-op) threads the detection and recognition sessions were built with."""
        options = self._rec.get_session_options()
        return int(options.intra_op_num_threads), int(options.inter_op_num_threads)

    # -- detection -------------------------------------------------------------------------------

    def detect(
        self,
        image: BGRImage,
        scale: float,
        *,
        threshold: float = 0.3,
        box_threshold: float = 0.5,
        unclip_ratio: float = 1.6,
    ) -> list[TextBox]:
        """Text lines in `image` run through the detector at `scale`; boxes in `image` pixels."""
        h, w = image.shape[:2]
        rh = max(DET_STRIDE, round(h * scale / DET_STRIDE) * DET_STRIDE)
        rw = max(DET_STRIDE, round(w * scale / DET_STRIDE) * DET_STRIDE)
        interp = cv2.INTER_AREA if rw < w else cv2.INTER_LINEAR
        x = cv2.resize(image, (rw, rh), interpolation=interp).astype(np.float32)
        x = (x * (2.0 / 255.0) - 1.0).transpose(2, 0, 1)[None]
        prob = np.asarray(self._det.run(None, {self._det_input: x})[0])[0, 0]
        mask = (prob > threshold).astype(np.uint8)
        mask = cv2.dilate(mask, np.ones((2, 2), np.uint8))
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        sx, sy = w / rw, h / rh
        boxes: list[TextBox] = []
        for contour in contours:
            bx, by, bw, bh = cv2.boundingRect(contour)
            if min(bw, bh) < MIN_DET_BOX_SIDE:
                continue
            inside = mask[by : by + bh, bx : bx + bw] > 0
            score = float(prob[by : by + bh, bx : bx + bw][inside].mean())
            if score < box_threshold:
                continue
            (cx, cy), (rw_, rh_), angle = cv2.minAreaRect(contour)
            # Grow the shrunk text kernel back to the text outline (DB "unclip", for a rectangle).
            grow = rw_ * rh_ * unclip_ratio / max(2.0 * (rw_ + rh_), 1e-6)
            pts = cv2.boxPoints(((cx, cy), (rw_ + 2 * grow, rh_ + 2 * grow), angle))
            pts[:, 0] *= sx
            pts[:, 1] *= sy
            (fx, fy), (fw, fh), fa = cv2.minAreaRect(pts.astype(np.float32))
            boxes.append(text_box((fx, fy), (fw, fh), fa, score))
        return boxes

    # -- recognition -----------------------------------------------------------------------------

    def recognise(self, crop: BGRImage) -> Recognition:
        """Read one text line: plate characters only, with each character's position in `crop`."""
        h, w = crop.shape[:2]
        width = max(MIN_REC_WIDTH, math.ceil(REC_HEIGHT * w / max(h, 1)))
        interp = cv2.INTER_AREA if h > REC_HEIGHT else cv2.INTER_CUBIC
        x = cv2.resize(crop, (width, REC_HEIGHT), interpolation=interp).astype(np.float32)
        x = (x * (2.0 / 255.0) - 1.0).transpose(2, 0, 1)[None]
        probs = np.asarray(self._rec.run(None, {self._rec_input: x})[0])[0]
        return self._decode(probs, w / probs.shape[0])

    def _decode(self, probs: FloatArray, step_px: float) -> Recognition:
        """Greedy CTC over {blank, other, plate characters}; a letter's lower case counts for it."""
        plate = probs[:, self._upper_idx] + np.where(self._has_lower, probs[:, self._lower_idx], 0.0)
        blank = probs[:, 0]
        other = np.clip(1.0 - blank - plate.sum(axis=1), 0.0, 1.0)
        labels = np.column_stack([blank, other, plate]).argmax(axis=1)
        best = np.column_stack([blank, other, plate]).max(axis=1)
        glyphs: list[Glyph] = []
        raw: list[str] = []
        t = 0
        steps = len(labels)
        while t < steps:
            label = int(labels[t])
            end = t
            while end + 1 < steps and labels[end + 1] == label:
                end += 1
            if label == 1:
                if raw and raw[-1] != SEPARATOR:
                    raw.append(SEPARATOR)
            elif label >= 2:
                ch = self._plate_chars[label - 2]
                raw.append(ch)
                glyphs.append(Glyph(ch, float(best[t : end + 1].max()), t * step_px, (end + 1) * step_px))
            t = end + 1
        return Recognition("".join(raw).strip(), tuple(glyphs))


def warp_box(image: BGRImage, box: TextBox, pad_x: float, pad_y: float) -> BGRImage:
    """The rotated box, grown by pad_x / pad_y pixels on each side, cut out upright."""
    (cx, cy), (w, h) = box.centre, box.size
    pts = box_corners((cx, cy), (w + 2 * pad_x, h + 2 * pad_y), box.angle)
    out_w = max(4, round(w + 2 * pad_x))
    out_h = max(4, round(h + 2 * pad_y))
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], np.float32)
    m = cv2.getPerspectiveTransform(pts, target)
    out = cv2.warpPerspective(
        image, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(out, dtype=np.uint8)


def nms(boxes: Sequence[TextBox], overlap: float) -> list[TextBox]:
    """Boxes best score first, dropping one whose axis-aligned overlap with a kept one is >= `overlap`
    of the smaller box."""
    kept: list[TextBox] = []
    kept_bounds: list[tuple[float, float, float, float]] = []
    for box in sorted(boxes, key=lambda b: -b.score):
        b = box.bounds()
        if any(_overlap_of_smaller(b, k) >= overlap for k in kept_bounds):
            continue
        kept.append(box)
        kept_bounds.append(b)
    return kept


def _overlap_of_smaller(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0
