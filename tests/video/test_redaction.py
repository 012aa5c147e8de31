"""Exported clips: every face blurred (found by the real HOG detector), except a confirmed match's
face when it may stay visible; a face the detector misses is blurred where the sighting says it is."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from factories import T0, camera, site, stored_face_alert
from videos import faces_clip, indexed_segment

from safecity.analytics.faces.detector import FaceDetector
from safecity.config import Settings
from safecity.governance.access import AccessGate, Caller
from safecity.governance.confirmation import Decision, MatchConfirmations
from safecity.governance.disclosure import EvidenceExporter, VideoFace
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.models import FaceSightingRow
from safecity.store.recordings import RecordingStore, Segment
from safecity.types import BBox, BGRImage, new_id
from safecity.video.evidence import RecordedEvidence
from safecity.video.redaction import RedactionRules, write_redacted_clip

FPS = 25
SECONDS = 4
GRACE, EILEEN = "grace_hopper", "eileen_collins"


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector(Settings().faces.model_copy(update={"detector": "hog", "upsample": 0}))


def finder(detector: FaceDetector) -> object:
    def find(image: BGRImage) -> list[BBox]:
        return [d.bbox for d in detector.detect(np.ascontiguousarray(image[:, :, ::-1]))]

    return find


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[BBox]]]:
    path = tmp_path_factory.mktemp("faces") / "faces.mp4"
    return path, faces_clip(path, seconds=SECONDS, fps=FPS)


@pytest.fixture
def recorded(
    tmp_path: Path, clip: tuple[Path, dict[str, list[BBox]]]
) -> Iterator[tuple[RecordingStore, Segment]]:
    db = Database.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store = RecordingStore(db, tmp_path / "recordings")
    segment = indexed_segment(store, "cam-1", T0, clip[0], SECONDS, "seg-1")
    yield store, segment
    db.close()


def frames(path: Path, every: int = 10) -> list[BGRImage]:
    with av.open(str(path)) as container:
        return [
            np.ascontiguousarray(f.to_ndarray(format="bgr24"))
            for i, f in enumerate(container.decode(video=0))
            if i % every == 0
        ]


def sharpness(image: BGRImage, box: BBox) -> float:
    """Variance of the Laplacian inside `box`: a face has detail, a blurred one hardly any."""
    patch = cv2.cvtColor(image[box.y : box.y + box.h, box.x : box.x + box.w], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(patch, cv2.CV_64F).var())


def found(detector: FaceDetector, images: Sequence[BGRImage]) -> list[list[BBox]]:
    return [[d.bbox for d in detector.detect(np.ascontiguousarray(i[:, :, ::-1]))] for i in images]


def export(
    recorded: tuple[RecordingStore, Segment],
    out: Path,
    find: object,
    *,
    keep: VideoFace | None = None,
    subject: VideoFace | None = None,
    seen: Sequence[VideoFace] = (),
    every: int = 5,
) -> object:
    store, segment = recorded
    return write_redacted_clip(
        store,
        [segment],
        T0,
        T0 + timedelta(seconds=SECONDS),
        out,
        find_faces=find,  # type: ignore[arg-type]
        rules=RedactionRules(detect_every=every),
        keep=keep,
        subject=subject,
        seen=seen,
    )


def test_the_source_has_two_faces_the_detector_finds(
    clip: tuple[Path, dict[str, list[BBox]]], detector: FaceDetector
) -> None:
    assert all(len(faces) == 2 for faces in found(detector, frames(clip[0])))


def test_a_blurred_export_shows_no_face_in_any_frame(
    recorded: tuple[RecordingStore, Segment], detector: FaceDetector, tmp_path: Path
) -> None:
    out = tmp_path / "clip.mp4"
    result = export(recorded, out, finder(detector))
    assert result.frames == FPS * SECONDS and result.kept_looks == 0  # type: ignore[attr-defined]
    assert result.faces_blurred >= 2 * (FPS * SECONDS // 5)  # type: ignore[attr-defined]
    assert all(faces == [] for faces in found(detector, frames(out, every=1)))


def test_a_kept_face_stays_visible_and_the_other_is_blurred(
    recorded: tuple[RecordingStore, Segment],
    clip: tuple[Path, dict[str, list[BBox]]],
    detector: FaceDetector,
    tmp_path: Path,
) -> None:
    at = 50  # the sighting's frame
    keep = VideoFace(T0 + timedelta(seconds=at / FPS), clip[1][GRACE][at])
    out = tmp_path / "clip.mp4"
    result = export(recorded, out, finder(detector), keep=keep)
    looks = FPS * SECONDS // 5 + 1  # every fifth frame, and the last
    assert result.kept_looks == looks  # type: ignore[attr-defined]  # followed throughout
    for i, faces in enumerate(found(detector, frames(out))):
        assert len(faces) == 1, f"frame {i * 10}"
        assert faces[0].iou(clip[1][GRACE][i * 10]) > 0.5
    images = frames(out)
    assert max(sharpness(img, clip[1][EILEEN][i * 10]) for i, img in enumerate(images)) < 20


def test_a_kept_face_where_no_face_is_keeps_nothing(
    recorded: tuple[RecordingStore, Segment], detector: FaceDetector, tmp_path: Path
) -> None:
    keep = VideoFace(T0 + timedelta(seconds=2), BBox(250, 250, 60, 60))  # empty background
    out = tmp_path / "clip.mp4"
    assert export(recorded, out, finder(detector), keep=keep).kept_looks == 0  # type: ignore[attr-defined]
    assert all(faces == [] for faces in found(detector, frames(out)))


def test_a_subject_the_detector_misses_is_still_blurred_around_its_time(
    recorded: tuple[RecordingStore, Segment], clip: tuple[Path, dict[str, list[BBox]]], tmp_path: Path
) -> None:
    at = 50
    subject = VideoFace(T0 + timedelta(seconds=at / FPS), clip[1][GRACE][at])
    out = tmp_path / "clip.mp4"
    export(recorded, out, lambda image: [], subject=subject)  # a detector that finds nothing
    images = frames(out, every=1)
    assert sharpness(images[at], clip[1][GRACE][at]) < 20
    assert sharpness(images[0], clip[1][GRACE][0]) > 50  # far from its time, nothing said where it is


def test_the_alerts_clip_of_a_camera_that_recorded_nothing_is_none(
    recorded: tuple[RecordingStore, Segment], detector: FaceDetector, tmp_path: Path
) -> None:
    evidence = RecordedEvidence(Settings(), recorded[0], finder(detector))  # type: ignore[arg-type]
    assert evidence("cam-2", T0, tmp_path / "clip.mp4", keep=None, subject=None) is None
    part = evidence("cam-1", T0 + timedelta(seconds=2), tmp_path / "clip.mp4", keep=None, subject=None)
    assert part is not None and part.frames == FPS * SECONDS  # the span is wider than the recording


@pytest.mark.parametrize(
    ("field", "value"),
    [("detect_every", 0), ("follow_iou", 0.0), ("follow_iou", 1.5), ("motion_margin", -0.1)],
)
def test_rules_refuse_nonsense(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        RedactionRules(**{field: value})  # type: ignore[arg-type]


# ---------------------------------------------------------------- through the evidence exporter


def _exported(
    recorded: tuple[RecordingStore, Segment],
    clip: tuple[Path, dict[str, list[BBox]]],
    detector: FaceDetector,
    tmp_path: Path,
    *,
    unblurred: bool,
) -> Path:
    store = recorded[0]
    db = store.db
    CameraStore(db).save([site()], [camera("cam-1")])
    media = MediaStore(tmp_path / "media")
    alert_id = stored_face_alert(db, media, frames(clip[0], every=1000)[0], clip[1][GRACE][0])  # seen at T0
    confirmations = MatchConfirmations(AccessGate(db))
    for name in ("ana", "ben"):
        user = UserStore(db).add(name, Role.OPERATOR, "a long enough password")
        confirmations.decide(Caller.of(user), alert_id, Decision.CONFIRM)
    find = finder(detector)
    exporter = EvidenceExporter(
        AccessGate(db),
        media,
        find_faces=find,  # type: ignore[arg-type]
        confirmations_required=2,
        snapshot_margin=0.3,
        blur_kernel_fraction=0.25,
        video=RecordedEvidence(Settings(), store, find),  # type: ignore[arg-type]
    )
    investigator = Caller.of(UserStore(db).add("ina", Role.INVESTIGATOR, "a long enough password"))
    result = exporter.export_alert(
        investigator,
        alert_id,
        tmp_path / "out",
        justification="case K-7/2026: missing person",
        recipients="Public Prosecutor's Office",
        unblurred=unblurred,
    )
    assert "clip.mp4" in result.files
    manifest = json.loads((result.folder / "evidence.json").read_text())
    assert manifest["clip"]["frames"] == FPS * SECONDS
    return result.folder / "clip.mp4"


def test_an_exported_face_match_clip_blurs_every_face(
    recorded: tuple[RecordingStore, Segment],
    clip: tuple[Path, dict[str, list[BBox]]],
    detector: FaceDetector,
    tmp_path: Path,
) -> None:
    out = _exported(recorded, clip, detector, tmp_path, unblurred=False)
    assert all(faces == [] for faces in found(detector, frames(out)))


def test_an_unblurred_export_of_a_confirmed_match_shows_only_the_matched_face(
    recorded: tuple[RecordingStore, Segment],
    clip: tuple[Path, dict[str, list[BBox]]],
    detector: FaceDetector,
    tmp_path: Path,
) -> None:
    out = _exported(recorded, clip, detector, tmp_path, unblurred=True)
    for i, faces in enumerate(found(detector, frames(out))):
        assert [f.iou(clip[1][GRACE][i * 10]) > 0.5 for f in faces] == [True], f"frame {i * 10}"


# ---------------------------------------------------------------- faces the analysis saw


def test_faces_the_analysis_saw_are_blurred_even_where_the_detector_finds_none(
    recorded: tuple[RecordingStore, Segment], clip: tuple[Path, dict[str, list[BBox]]], tmp_path: Path
) -> None:
    seen = [VideoFace(T0 + timedelta(seconds=i / FPS), clip[1][EILEEN][i]) for i in (20, 60)]
    out = tmp_path / "clip.mp4"
    export(recorded, out, lambda image: [], subject=None, seen=seen)  # a detector that finds nothing
    images = frames(out, every=1)
    for i in (20, 60):
        assert sharpness(images[i], clip[1][EILEEN][i]) < 20, f"frame {i}"
        assert sharpness(images[i], clip[1][GRACE][i]) > 50, f"frame {i}: nobody saw Grace there"


def _sighting(db: Database, frame: int, box: BBox, track_id: int) -> None:
    with db.session() as session:
        session.add(
            FaceSightingRow(
                id=new_id(), camera_id="cam-1", ts=T0 + timedelta(seconds=frame / FPS), x=box.x, y=box.y,
                w=box.w, h=box.h, confidence=0.9, quality=0.8, track_id=track_id, snapshot="",
            )
        )  # fmt: skip


def test_the_sightings_blurred_are_everybody_but_the_kept_persons_track(
    recorded: tuple[RecordingStore, Segment], clip: tuple[Path, dict[str, list[BBox]]], tmp_path: Path
) -> None:
    store = recorded[0]
    CameraStore(store.db).save([site()], [camera("cam-1")])
    for frame in (10, 50, 90):
        _sighting(store.db, frame, clip[1][GRACE][frame], track_id=1)
        _sighting(store.db, frame, clip[1][EILEEN][frame], track_id=2)
    evidence = RecordedEvidence(Settings(), store, lambda image: [])
    keep = VideoFace(T0 + timedelta(seconds=50 / FPS), clip[1][GRACE][50], track_id=1)
    out = tmp_path / "clip.mp4"
    part = evidence("cam-1", T0, out, keep=keep, subject=None)
    assert part is not None and part.faces_blurred == 3  # Eileen's three sightings
    images = frames(out, every=1)
    for frame in (10, 50, 90):
        assert sharpness(images[frame], clip[1][EILEEN][frame]) < 20
        assert sharpness(images[frame], clip[1][GRACE][frame]) > 50
