"""From decided face passages to stored sightings and watchlist matches, with the privacy rules applied.

- A passage that matches a template in scope yields a sighting that keeps its embedding and an
  unblurred snapshot (the probe crop an operator must judge), plus a `FaceMatchEvent` for the alert.
- A passage that matches nothing keeps its embedding only when the camera's policy
  `retain_face_vectors` says so (off by default: passers-by are not enrolled in a searchable
  index by walking past), and its snapshot has the face blurred (`faces.blur_unmatched`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from safecity.analytics.faces.passages import DecidedFace
from safecity.analytics.faces.redaction import blur_face
from safecity.config import Settings
from safecity.pipeline.sinks import SnapshotStore
from safecity.types import PROBE_EXTRA_MARGIN, Camera, FaceSighting, context_box
from safecity.watch.faces import FaceMatcher, FaceMatchEvent

CONFIDENCE_SCALE = 2.0
"""dlib detector scores are margins (HOG ~0.5-3); score / this, capped at 1, is the stored confidence."""


def face_observations(
    decided: Sequence[DecidedFace],
    camera: Camera,
    settings: Settings,
    *,
    matcher: FaceMatcher | None,
    snapshots: SnapshotStore | None,
    now: datetime | None = None,
) -> tuple[list[FaceSighting], list[FaceMatchEvent]]:
    sightings: list[FaceSighting] = []
    events: list[FaceMatchEvent] = []
    for d in decided:
        at = now or datetime.now(UTC)
        match = matcher.match(camera.id, d.timestamp, d.embedding, at) if matcher is not None else None
        keep_vector = match is not None or camera.retain_face_vectors
        snapshot = ""
        if snapshots is not None:
            image = d.frame
            if match is None and settings.faces.blur_unmatched:
                image = blur_face(image, d.bbox, settings.faces.blur_kernel_fraction)
            crop = context_box(d.bbox, image.shape, settings.store.snapshot_margin + PROBE_EXTRA_MARGIN)
            snapshot = snapshots.save_snapshot(camera.id, d.timestamp, d.sighting_id, image, crop)
        sighting = FaceSighting(
            id=d.sighting_id,
            camera_id=camera.id,
            timestamp=d.timestamp,
            bbox=d.bbox,
            confidence=float(np.clip(d.detection_score / CONFIDENCE_SCALE, 0.0, 1.0)),
            quality=d.quality,
            track_id=d.track_id,
            embedding=tuple(float(v) for v in d.embedding) if keep_vector else None,
            snapshot=snapshot,
        )
        sightings.append(sighting)
        if match is not None:
            events.append(FaceMatchEvent(sighting, match, snapshot))
    return sightings, events
