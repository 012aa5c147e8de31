"""The evidence exporter as the API and the CLI use it: snapshots and the alert's recorded clip, with
faces found by dlib's HOG detector (loaded only when an export gets that far) and blurred.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from safecity.config import Settings
from safecity.governance.access import AccessGate
from safecity.governance.disclosure import EvidenceExporter, VideoFace, VideoPart
from safecity.store.media import MediaStore
from safecity.store.observation_pages import face_boxes
from safecity.store.recordings import RecordingStore
from safecity.types import BBox, BGRImage
from safecity.video.clips import NoVideo
from safecity.video.redaction import FaceFinder, RedactionRules, write_redacted_clip

SIGHTINGS_LIMIT = 20_000
"""Face sightings of one clip looked at, at most (a 15-minute clip of a crowded square)."""
SAME_FACE_IOU = 0.5


class RecordedEvidence:
    """Writes an alert's clip (`recording.pre_s` before to `post_s` after) with faces blurred."""

    def __init__(self, settings: Settings, recordings: RecordingStore, find_faces: FaceFinder) -> None:
        self.settings = settings.recording
        self.recordings = recordings
        self.find_faces = find_faces
        self.rules = RedactionRules(
            detect_every=settings.recording.export_detect_every,
            blur_kernel_fraction=settings.faces.blur_kernel_fraction,
            crf=settings.recording.export_crf,
        )

    def __call__(
        self, camera_id: str, at: datetime, out: Path, *, keep: VideoFace | None, subject: VideoFace | None
    ) -> VideoPart | None:
        since, until = self.settings.alert_span(at)
        segments = self.recordings.segments(camera_id, since, until)
        if not segments:
            return None
        seen = self._sightings(camera_id, since, until, keep)
        try:
            clip = write_redacted_clip(
                self.recordings,
                segments,
                since,
                until,
                out,
                find_faces=self.find_faces,
                rules=self.rules,
                keep=keep,
                subject=subject,
                seen=seen,
            )
        except NoVideo:  # indexed, but the files went (retention) between the query and the read
            out.unlink(missing_ok=True)
            return None
        return VideoPart(clip.start, clip.end, clip.frames, clip.faces_blurred, clip.kept_looks)

    def _sightings(
        self, camera_id: str, since: datetime, until: datetime, keep: VideoFace | None
    ) -> list[VideoFace]:
        """The faces the analysis saw on the camera in the span, but the kept person's."""
        margin = timedelta(seconds=1)
        with self.recordings.db.read_session() as session:
            found = face_boxes(session, camera_id, since - margin, until + margin, limit=SIGHTINGS_LIMIT)
        seen = []
        for at, box, track_id in found:
            face = VideoFace(at, box, track_id)
            if keep is not None and (
                (keep.track_id is not None and face.track_id == keep.track_id)
                or (face.at == keep.at and face.box.iou(keep.box) >= SAME_FACE_IOU)
            ):
                continue
            seen.append(face)
        return seen


def hog_face_finder(settings: Settings) -> FaceFinder:
    """dlib's HOG face detector at `faces.photo_upsample`, built at its first use: a refused export
    costs no model load."""
    built: list[object] = []

    def find_faces(image: BGRImage) -> list[BBox]:
        from safecity.analytics.faces.detector import FaceDetector

        if not built:
            update = {"detector": "hog", "upsample": settings.faces.photo_upsample}
            built.append(FaceDetector(settings.faces.model_copy(update=update)))
        detector = built[0]
        assert isinstance(detector, FaceDetector)
        return [d.bbox for d in detector.detect(np.ascontiguousarray(image[:, :, ::-1]))]

    return find_faces


def evidence_exporter(
    settings: Settings, gate: AccessGate, media: MediaStore, recordings: RecordingStore
) -> EvidenceExporter:
    find_faces = hog_face_finder(settings)
    return EvidenceExporter(
        gate,
        media,
        find_faces=find_faces,
        confirmations_required=settings.governance.confirmations_required,
        snapshot_margin=settings.store.snapshot_margin,
        blur_kernel_fraction=settings.faces.blur_kernel_fraction,
        video=RecordedEvidence(settings, recordings, find_faces),
    )
