"""Per-frame face analysis: detect, align, gate on quality, embed on demand; and single-face photos.

Embedding is the costly step, so `analyse` returns gated faces with their chips and leaves the
embedding to the caller (the passage aggregator embeds only a passage's best few faces);
`embed` runs the network on a batch of chips. `single_face` is the enrolment and face-search
path: a photo must hold exactly one face, and the refusal says what was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from safecity.analytics.faces.alignment import FaceAligner, Landmarks
from safecity.analytics.faces.detector import FaceDetector
from safecity.analytics.faces.embedding import FaceEmbedder, make_embedder
from safecity.analytics.faces.model_files import FaceModelFiles, face_model_files
from safecity.analytics.faces.quality import FaceQuality, assess
from safecity.analytics.image_header import DEFAULT_LIMITS, ImageLimits, ImageRefused, check_image_file
from safecity.config import FaceSettings
from safecity.types import BBox, RGBImage

Vector = npt.NDArray[np.float32]


class FacePhotoError(ValueError):
    """A photo that cannot be used as a face reference: no face, several faces, or too poor a face."""


@dataclass(frozen=True, slots=True, eq=False)
class AnalysedFace:
    """One face in one frame: where, how good, the aligned chip, and its embedding once computed."""

    bbox: BBox
    detection_score: float
    landmarks: Landmarks
    quality: FaceQuality
    chip: RGBImage
    embedding: Vector | None = None


@dataclass(frozen=True, slots=True, eq=False)
class ReferenceFace:
    """The face of a reference photo and the image its box refers to (large photos are shrunk)."""

    face: AnalysedFace
    image: RGBImage


class FaceAnalyser:
    """Detector, aligner and embedder loaded once per process."""

    def __init__(
        self,
        settings: FaceSettings,
        cache_dir: Path,
        *,
        embedder: FaceEmbedder | None = None,
        models: FaceModelFiles | None = None,
    ) -> None:
        models = models or face_model_files()
        self.settings = settings
        self.detector = FaceDetector(settings, models)
        self.photo_detector = (
            self.detector
            if settings.photo_upsample == settings.upsample
            else FaceDetector(settings.model_copy(update={"upsample": settings.photo_upsample}), models)
        )
        self.aligner = FaceAligner(models)
        self._cnn: FaceDetector | None = None
        self.embedder = embedder or make_embedder(
            settings.embed_backend, cache_dir, threads=settings.embed_threads
        )

    def analyse(self, image: RGBImage, regions: Sequence[BBox] | None = None) -> list[AnalysedFace]:
        """Faces in the image (or in the moving `regions` of it), not yet embedded."""
        detections = (
            self.detector.detect(image) if regions is None else self.detector.detect_regions(image, regions)
        )
        faces = []
        for d in detections:
            aligned = self.aligner.align(image, d.bbox)
            quality = assess(aligned.landmarks, aligned.chip, self.settings)
            faces.append(AnalysedFace(d.bbox, d.score, aligned.landmarks, quality, aligned.chip))
        return faces

    def embed(self, faces: Sequence[AnalysedFace]) -> list[AnalysedFace]:
        """The same faces with embeddings, computed in one batch.

        With `flip_average` each chip is embedded with its mirror image and the two averaged: a face
        and its mirror are the same person, and the average cancels part of the network's
        sensitivity to pose and lighting (on LFW fold 1: rank-1 0.967 -> 0.974, 10-fold
        verification 0.972 -> 0.980). Each of the two is exactly dlib's embedding of that chip.
        """
        if not faces:
            return []
        chips = np.stack([f.chip for f in faces])
        if self.settings.flip_average:
            chips = np.concatenate([chips, np.ascontiguousarray(chips[:, :, ::-1])])
        vectors = self.embedder.embed(chips)
        if self.settings.flip_average:
            vectors = ((vectors[: len(faces)] + vectors[len(faces) :]) / 2).astype(np.float32)
        return [_with_embedding(f, v) for f, v in zip(faces, vectors, strict=True)]

    def analyse_with(self, detector: FaceDetector, image: RGBImage) -> list[AnalysedFace]:
        """Like `analyse` on the whole image, with another detector (a retry at more cost)."""
        faces = []
        for d in detector.detect(image):
            aligned = self.aligner.align(image, d.bbox)
            quality = assess(aligned.landmarks, aligned.chip, self.settings)
            faces.append(AnalysedFace(d.bbox, d.score, aligned.landmarks, quality, aligned.chip))
        return faces

    def fallback_detector(self) -> FaceDetector | None:
        """The CNN detector for reference photos HOG finds nothing in (loaded on first use)."""
        if not self.settings.cnn_fallback or self.settings.detector == "cnn":
            return None
        if self._cnn is None:
            self._cnn = FaceDetector(self.settings.model_copy(update={"detector": "cnn", "upsample": 0}))
        return self._cnn

    def photo_faces(self, image: RGBImage) -> tuple[list[AnalysedFace], bool]:
        """Faces of a still photo: HOG at `photo_upsample`, then the CNN if HOG finds none.

        Returns the faces and whether only the CNN fallback found them.
        """
        faces = self.analyse_with(self.photo_detector, image)
        fallback = self.fallback_detector() if not faces else None
        if fallback is None:
            return faces, False
        faces = self.analyse_with(fallback, image)
        return faces, bool(faces)

    def single_face(self, image: RGBImage, *, gate: bool = True, what: str = "photo") -> ReferenceFace:
        """The one face of a reference photo, embedded; FacePhotoError if there is not exactly one."""
        image = _shrink(image, self.settings.enrol_max_photo_side)
        faces, _ = self.photo_faces(image)
        if not faces:
            raise FacePhotoError(f"{what}: no face found")
        # A badge, print or patch can look like a weak face beside the strong real one; a second
        # person in the photo scores like the first.
        best = max(f.detection_score for f in faces)
        faces = [f for f in faces if f.detection_score >= self.settings.photo_relative_score * best]
        if len(faces) > 1:
            boxes = ", ".join(f"{f.bbox.w}x{f.bbox.h} at ({f.bbox.x},{f.bbox.y})" for f in faces)
            raise FacePhotoError(f"{what}: {len(faces)} faces found ({boxes}); use a photo of one person")
        face = faces[0]
        if gate and not face.quality.passed:
            raise FacePhotoError(f"{what}: face unusable: {face.quality.reason}")
        return ReferenceFace(self.embed([face])[0], image)


def _with_embedding(face: AnalysedFace, vector: Vector) -> AnalysedFace:
    return AnalysedFace(
        face.bbox,
        face.detection_score,
        face.landmarks,
        face.quality,
        face.chip,
        np.asarray(vector, np.float32),
    )


def _shrink(image: RGBImage, max_side: int) -> RGBImage:
    """Very large photos cost detection time and gain nothing: faces in them are large."""
    side = max(image.shape[:2])
    if side <= max_side:
        return image
    scale = max_side / side
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)


def read_photo(path: Path, limits: ImageLimits = DEFAULT_LIMITS) -> RGBImage:
    """An image file as RGB; FacePhotoError naming the file when it cannot be read, or when its
    header declares more than `limits` (checked before decoding: a small file can declare a huge image)."""
    if not path.is_file():
        raise FacePhotoError(f"{path}: no such file")
    try:
        check_image_file(path, limits)
    except ImageRefused as exc:
        raise FacePhotoError(str(exc)) from None
    data = np.fromfile(str(path), dtype=np.uint8)
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error:  # the size was checked; whatever else the decoder refuses is the file's fault
        image = None
    if image is None:
        raise FacePhotoError(f"{path}: not a readable image (JPEG, PNG, BMP, WebP, TIFF)")
    return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
