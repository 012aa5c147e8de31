"""Evidence exports: only confirmed face matches, with reason and recipients, faces blurred by default."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from factories import camera, site, stored_face_alert, stored_plate_alert

from safecity.analytics.faces.detector import FaceDetector
from safecity.config import FaceSettings, StoreSettings
from safecity.governance.access import AccessDenied, AccessGate, Caller, ReasonRequired
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.confirmation import Decision, MatchConfirmations, NotConfirmed
from safecity.governance.disclosure import SUMS_FILE, EvidenceExporter, ExportError, sha256_of
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.types import BBox, BGRImage, context_box, probe_face_box

FACE = BBox(160, 137, 216, 216)  # Grace Hopper's face in her portrait
REASON = "case K-7/2026: missing person, prosecutor's request"
TO = "Public Prosecutor's Office, Belgrade"


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector(FaceSettings(upsample=1))


def faces_in(detector: FaceDetector, image: BGRImage) -> list[BBox]:
    return [d.bbox for d in detector.detect(np.ascontiguousarray(image[:, :, ::-1]))]


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


@pytest.fixture
def exporter(sqlite_db: Database, media: MediaStore, detector: FaceDetector) -> EvidenceExporter:
    CameraStore(sqlite_db).save([site()], [camera("cam-1")])
    return EvidenceExporter(
        AccessGate(sqlite_db),
        media,
        find_faces=lambda image: faces_in(detector, image),
        confirmations_required=2,
        snapshot_margin=StoreSettings().snapshot_margin,
        blur_kernel_fraction=0.25,
    )


@pytest.fixture
def investigator(sqlite_db: Database) -> Caller:
    return Caller.of(UserStore(sqlite_db).add("ina", Role.INVESTIGATOR, "a long enough password"))


def confirm(db: Database, alert_id: str) -> None:
    c = MatchConfirmations(AccessGate(db))
    for name in ("ana", "ben"):
        user = UserStore(db).add(name, Role.OPERATOR, "a long enough password")
        c.decide(Caller.of(user), alert_id, Decision.CONFIRM)


def face_alert(db: Database, media: MediaStore, confirmed: bool) -> str:
    alert_id = stored_face_alert(db, media, reference_image("grace_hopper"), FACE)
    if confirmed:
        confirm(db, alert_id)
    return alert_id


def read_jpeg(path: Path) -> BGRImage:
    image = cv2.imread(str(path))
    assert image is not None
    return image


def test_an_unconfirmed_face_match_is_not_exported(
    sqlite_db: Database, media: MediaStore, exporter: EvidenceExporter, investigator: Caller, tmp_path: Path
) -> None:
    alert_id = face_alert(sqlite_db, media, confirmed=False)
    with pytest.raises(NotConfirmed, match="0 of 2"):
        exporter.export_alert(investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO)
    assert not (tmp_path / "out").exists(), "a refused export writes nothing"
    assert AuditLog(sqlite_db).entries(AuditAction.EXPORT) == []


def test_a_confirmed_match_is_exported_with_every_face_blurred(
    sqlite_db: Database,
    media: MediaStore,
    exporter: EvidenceExporter,
    investigator: Caller,
    detector: FaceDetector,
    tmp_path: Path,
) -> None:
    alert_id = face_alert(sqlite_db, media, confirmed=True)
    result = exporter.export_alert(
        investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO
    )
    assert result.files == ("evidence.json", "snapshot.jpg") and not result.unblurred
    stored = read_jpeg(
        media.path(json.loads((result.folder / "evidence.json").read_text())["evidence"]["probe_ref"])
    )
    assert faces_in(detector, stored), "the stored probe shows the face"
    assert faces_in(detector, read_jpeg(result.folder / "snapshot.jpg")) == []


def test_the_export_names_reason_recipients_verifiers_and_its_audit_entry(
    sqlite_db: Database, media: MediaStore, exporter: EvidenceExporter, investigator: Caller, tmp_path: Path
) -> None:
    alert_id = face_alert(sqlite_db, media, confirmed=True)
    result = exporter.export_alert(
        investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO
    )
    manifest = json.loads((result.folder / "evidence.json").read_text())
    (entry,) = AuditLog(sqlite_db).entries(AuditAction.EXPORT)
    assert (entry.justification, entry.recipients, entry.target) == (REASON, TO, alert_id)
    assert manifest["audit"] == {"seq": entry.seq, "hash": entry.hash}
    assert [d["user"] for d in manifest["decisions"]] == ["ana", "ben"]
    assert entry.details["verified_by"] == ["ana", "ben"]
    assert "photo_ref" not in manifest["evidence"]


def test_unblurred_keeps_the_matched_face_and_adds_the_reference_photo(
    sqlite_db: Database,
    media: MediaStore,
    exporter: EvidenceExporter,
    investigator: Caller,
    detector: FaceDetector,
    tmp_path: Path,
) -> None:
    alert_id = face_alert(sqlite_db, media, confirmed=True)
    result = exporter.export_alert(
        investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO, unblurred=True
    )
    assert result.files == ("evidence.json", "snapshot.jpg", "reference.jpg")
    snapshot = read_jpeg(result.folder / "snapshot.jpg")
    (found,) = faces_in(detector, snapshot)
    assert found.iou(probe_face_box(FACE, StoreSettings().snapshot_margin)) > 0.5


def test_a_bystander_stays_blurred_in_an_unblurred_export(
    sqlite_db: Database,
    media: MediaStore,
    exporter: EvidenceExporter,
    investigator: Caller,
    detector: FaceDetector,
    tmp_path: Path,
) -> None:
    scene = reference_image("grace_hopper").copy()
    head = context_box(FACE, scene.shape, 0.3)
    small = cv2.resize(scene[head.y : head.y + head.h, head.x : head.x + head.w], (130, 130))
    scene[360:490, 15:145] = small  # a second, smaller face inside the probe crop, beside the matched one
    alert_id = stored_face_alert(sqlite_db, media, scene, FACE)
    confirm(sqlite_db, alert_id)
    result = exporter.export_alert(
        investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO, unblurred=True
    )
    probe = read_jpeg(
        media.path(json.loads((result.folder / "evidence.json").read_text())["evidence"]["probe_ref"])
    )
    assert len(faces_in(detector, probe)) == 2, "the stored probe shows both faces"
    (visible,) = faces_in(detector, read_jpeg(result.folder / "snapshot.jpg"))
    assert visible.iou(probe_face_box(FACE, StoreSettings().snapshot_margin)) > 0.5


def test_a_plate_alert_is_exported_with_faces_blurred(
    sqlite_db: Database,
    media: MediaStore,
    exporter: EvidenceExporter,
    investigator: Caller,
    detector: FaceDetector,
    tmp_path: Path,
) -> None:
    alert_id = stored_plate_alert(sqlite_db, media, reference_image("grace_hopper"))
    result = exporter.export_alert(
        investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO
    )
    assert result.faces_blurred == 1
    assert faces_in(detector, read_jpeg(result.folder / "snapshot.jpg")) == []


def test_unblurred_is_refused_for_a_plate_alert(
    sqlite_db: Database, media: MediaStore, exporter: EvidenceExporter, investigator: Caller, tmp_path: Path
) -> None:
    alert_id = stored_plate_alert(sqlite_db, media, reference_image("grace_hopper"))
    with pytest.raises(ExportError, match="only a confirmed face match"):
        exporter.export_alert(
            investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO, unblurred=True
        )


@pytest.mark.parametrize(("reason", "to", "missing"), [("", TO, "reason"), (REASON, "", "recipients")])
def test_reason_and_recipients_are_required(
    sqlite_db: Database,
    media: MediaStore,
    exporter: EvidenceExporter,
    investigator: Caller,
    tmp_path: Path,
    reason: str,
    to: str,
    missing: str,
) -> None:
    alert_id = face_alert(sqlite_db, media, confirmed=True)
    with pytest.raises(ReasonRequired, match=missing):
        exporter.export_alert(investigator, alert_id, tmp_path / "out", justification=reason, recipients=to)


def test_an_operator_may_not_export(
    sqlite_db: Database, media: MediaStore, exporter: EvidenceExporter, tmp_path: Path
) -> None:
    alert_id = face_alert(sqlite_db, media, confirmed=True)
    operator = Caller.of(UserStore(sqlite_db).add("olga", Role.OPERATOR, "a long enough password"))
    with pytest.raises(AccessDenied, match="export"):
        exporter.export_alert(operator, alert_id, tmp_path / "out", justification=REASON, recipients=TO)


def test_an_existing_export_folder_is_not_overwritten(
    sqlite_db: Database, media: MediaStore, exporter: EvidenceExporter, investigator: Caller, tmp_path: Path
) -> None:
    alert_id = face_alert(sqlite_db, media, confirmed=True)
    exporter.export_alert(investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO)
    with pytest.raises(ExportError, match="exists already"):
        exporter.export_alert(investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO)
    assert len(AuditLog(sqlite_db).entries(AuditAction.EXPORT)) == 1


def test_the_package_lists_each_files_sha256_and_the_audit_entry_holds_them(
    sqlite_db: Database, media: MediaStore, exporter: EvidenceExporter, investigator: Caller, tmp_path: Path
) -> None:
    alert_id = face_alert(sqlite_db, media, confirmed=True)
    result = exporter.export_alert(
        investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO
    )
    sums = dict(
        reversed(line.split("  ", 1)) for line in (result.folder / SUMS_FILE).read_text().splitlines()
    )
    assert set(sums) == set(result.files)
    assert all(sums[name] == sha256_of(result.folder / name) for name in result.files)
    assert {f.name: f.sha256 for f in result.manifest} == sums
    entry = next(e for e in AuditLog(sqlite_db).entries(AuditAction.EXPORT) if e.seq == result.audit_seq)
    media_files = {n: h for n, h in sums.items() if n != "evidence.json"}
    assert entry.details["sha256"] == media_files and entry.hash == result.audit_hash


def test_the_zip_holds_the_files_and_their_sums(
    sqlite_db: Database, media: MediaStore, exporter: EvidenceExporter, investigator: Caller, tmp_path: Path
) -> None:
    alert_id = face_alert(sqlite_db, media, confirmed=True)
    result = exporter.export_alert(
        investigator, alert_id, tmp_path / "out", justification=REASON, recipients=TO
    )
    result.write_zip(tmp_path / "package.zip")
    with zipfile.ZipFile(tmp_path / "package.zip") as archive:
        assert sorted(archive.namelist()) == sorted(result.package_files)
        assert archive.read(SUMS_FILE) == (result.folder / SUMS_FILE).read_bytes()
