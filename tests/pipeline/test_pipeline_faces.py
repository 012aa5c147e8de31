"""The privacy rules applied to decided passages: vectors kept only on a match or by camera policy,
crops of unmatched faces blurred, a match event for every match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from safecity.analytics.faces.passages import DecidedFace
from safecity.analytics.faces.quality import sharpness
from safecity.analytics.faces.redaction import blur_face
from safecity.config import Settings
from safecity.pipeline.faces import face_observations
from safecity.sim.faces import reference_image
from safecity.store.media import MediaStore
from safecity.types import Authorisation, AuthorisationPurpose, BBox, Camera, FaceTemplate
from safecity.watch.face_decision import OpenSetRule
from safecity.watch.faces import FaceMatcher

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
FACE = BBox(160, 137, 216, 216)  # Grace Hopper's face in her portrait
VECTOR = np.full(128, 0.05, np.float32)


def camera(retain: bool = False) -> Camera:
    return Camera("cam-1", "Kerb", "site-1", 44.8, 20.4, retain_face_vectors=retain)


def decided(vector: np.ndarray = VECTOR) -> DecidedFace:
    return DecidedFace(
        sighting_id="s1",
        camera_id="cam-1",
        track_id=1,
        timestamp=T0,
        bbox=FACE,
        detection_score=1.5,
        quality=0.8,
        embedding=vector,
        faces_seen=4,
        faces_embedded=4,
        first_seen=T0,
        last_seen=T0,
        frame=reference_image("grace_hopper"),
    )


def matcher() -> FaceMatcher:
    auth = Authorisation(
        "auth-1",
        "Court",
        "K-1",
        AuthorisationPurpose.MISSING_PERSON,
        ("cam-1",),
        T0 - timedelta(days=1),
        T0 + timedelta(days=1),
        T0 + timedelta(days=2),
        "inv",
        T0,
    )
    t = FaceTemplate("e1", "wl-1", "missing", 3, "Person A", tuple(float(v) for v in VECTOR), "p.jpg", auth)
    return FaceMatcher([t], OpenSetRule.fixed_distance(0.4))


def run(tmp_path: Path, vector: np.ndarray, retain: bool = False):  # type: ignore[no-untyped-def]
    media = MediaStore(tmp_path)
    return media, face_observations(
        [decided(vector)], camera(retain), Settings(), matcher=matcher(), snapshots=media, now=T0
    )


def stored_face_sharpness(media: MediaStore, ref: str) -> float:
    image = cv2.imread(str(media.path(ref)))
    h, w = image.shape[:2]
    centre = image[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3]
    return sharpness(cv2.resize(cv2.cvtColor(centre, cv2.COLOR_BGR2RGB), (150, 150)))


def test_unmatched_face_keeps_no_vector(tmp_path: Path) -> None:
    _, (sightings, events) = run(tmp_path, -VECTOR)
    assert sightings[0].embedding is None
    assert events == []


def test_camera_policy_keeps_vectors_of_unmatched_faces(tmp_path: Path) -> None:
    _, (sightings, _) = run(tmp_path, -VECTOR, retain=True)
    assert sightings[0].embedding is not None


def test_matched_face_keeps_its_vector_and_raises_an_event(tmp_path: Path) -> None:
    _, (sightings, events) = run(tmp_path, VECTOR)
    assert sightings[0].embedding == pytest.approx(tuple(VECTOR))
    assert len(events) == 1
    assert events[0].match.template.label == "Person A"
    assert events[0].probe_ref == sightings[0].snapshot


def test_unmatched_face_is_stored_blurred(tmp_path: Path) -> None:
    media, (unmatched, _) = run(tmp_path / "a", -VECTOR)
    media2, (matched, _) = run(tmp_path / "b", VECTOR)
    assert (
        stored_face_sharpness(media, unmatched[0].snapshot)
        < stored_face_sharpness(media2, matched[0].snapshot) / 5
    )


def test_blur_leaves_the_input_frame_untouched() -> None:
    frame = reference_image("grace_hopper")
    before = frame.copy()
    out = blur_face(frame, FACE, 0.25)
    assert np.array_equal(frame, before)
    assert not np.array_equal(out, before)


def test_blurred_face_is_no_longer_found_by_the_detector(tmp_path: Path) -> None:
    from safecity.analytics.faces.detector import FaceDetector
    from safecity.config import FaceSettings

    media, (sightings, _) = run(tmp_path, -VECTOR)
    stored = cv2.cvtColor(cv2.imread(str(media.path(sightings[0].snapshot))), cv2.COLOR_BGR2RGB)
    detector = FaceDetector(FaceSettings(upsample=1))
    assert detector.detect(np.ascontiguousarray(stored)) == []
