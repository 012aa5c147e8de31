"""Exports of evidence out of the system: who, why, to whom, and with which faces visible.

An export is a disclosure of personal data, so it passes the access gate with `export`
permission, a justification and the recipients, and is recorded in the audit chain in the same
transaction as the read. What it writes is a folder per alert:

- `evidence.json`: the alert, its evidence, the decisions on it, who exported it, why, to whom,
  and the audit entry (sequence number and hash) that records the export;
- the snapshot (`snapshot.jpg`), with every face in it blurred by default;
- for a face match exported `unblurred`: the matched face left visible (other faces in the
  crop stay blurred) and the enrolled reference photo (`reference.jpg`);
- the recorded video around the alert (`clip.mp4`, `recording.pre_s` before to `post_s` after)
  where the camera recorded it, re-encoded with the same rule: every face blurred, except the
  matched face of a confirmed match exported `unblurred` (`EvidenceVideo`, written by the video
  layer).

Rules (issue 6, items 4 and 6): a face match may be exported only once confirmed by two persons;
an unblurred face only for a confirmed face match, with a justification. Plate and camera-health
alerts carry no matched face, so their faces are always blurred.

Files are written to a hidden temporary folder first and moved into place only after the audit
entry has committed; a failure on either side leaves no half export and no unrecorded one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

import cv2
import numpy as np

from safecity.analytics.faces.redaction import blur_faces
from safecity.governance.access import AccessGate, Caller
from safecity.governance.audit import AuditAction
from safecity.governance.confirmation import decisions_of, require_confirmed
from safecity.governance.permissions import Permission
from safecity.store.media import MediaStore
from safecity.store.models import AlertRow, FaceSightingRow, PlateReadRow
from safecity.types import AlertKind, BBox, BGRImage, probe_face_box

FaceFinder = Callable[[BGRImage], Sequence[BBox]]
"""Finds the faces in a snapshot (a face detector), so that bystanders are blurred too."""


@dataclass(frozen=True, slots=True)
class VideoFace:
    """A face in the camera's frame at a time: the matched face of a face-match alert."""

    at: datetime
    box: BBox
    track_id: int | None = None
    """The pipeline's track of that face: its other sightings are the same person."""


@dataclass(frozen=True, slots=True)
class VideoPart:
    """What an exported clip holds."""

    start: datetime
    end: datetime
    frames: int
    faces_blurred: int
    kept_looks: int
    """Looks at the clip in which the matched face was followed and left visible."""


class EvidenceVideo(Protocol):
    """Writes the recorded clip of an alert to `out` with every face blurred except `keep`, and
    `subject` blurred even where the face detector misses it; None when nothing was recorded."""

    def __call__(
        self, camera_id: str, at: datetime, out: Path, *, keep: VideoFace | None, subject: VideoFace | None
    ) -> VideoPart | None: ...


CLIP_FILE = "clip.mp4"
KEEP_OVERLAP = 0.3
"""A detected face overlapping the matched face by this IoU is the matched face itself."""


class ExportError(ValueError):
    """An export that may not or cannot be made (unknown alert, not confirmed, unblurred not allowed)."""


SUMS_FILE = "SHA256SUMS"
"""A package's file hashes in `sha256sum` format: `sha256sum -c SHA256SUMS` in the unpacked folder
checks every file; the same hashes of the images and clip are in the export's audit entry."""


@dataclass(frozen=True, slots=True)
class ExportedFile:
    name: str
    size: int
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def exported_file(folder: Path, name: str) -> ExportedFile:
    return ExportedFile(name, (folder / name).stat().st_size, sha256_of(folder / name))


@dataclass(frozen=True, slots=True)
class ExportResult:
    folder: Path
    files: tuple[str, ...]
    """What was exported (`evidence.json` first); the package also holds `SHA256SUMS`."""
    audit_seq: int
    unblurred: bool
    faces_blurred: int
    manifest: tuple[ExportedFile, ...] = ()
    """Each exported file with its size and SHA-256, as `SHA256SUMS` lists them."""
    audit_hash: str = ""

    @property
    def package_files(self) -> tuple[str, ...]:
        return (*self.files, SUMS_FILE)

    def write_zip(self, target: Path | IO[bytes]) -> None:
        """The package as one ZIP (the web UI's download, the API's answer): same files, same hashes."""
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in self.package_files:
                archive.write(self.folder / name, arcname=name)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    name: str
    image: BGRImage
    blurred: int


class EvidenceExporter:
    def __init__(
        self,
        gate: AccessGate,
        media: MediaStore,
        *,
        find_faces: FaceFinder,
        confirmations_required: int,
        snapshot_margin: float,
        blur_kernel_fraction: float,
        jpeg_quality: int = 90,
        video: EvidenceVideo | None = None,
    ) -> None:
        self.gate = gate
        self.media = media
        self.find_faces = find_faces
        self.required = confirmations_required
        self.snapshot_margin = snapshot_margin
        self.blur_kernel_fraction = blur_kernel_fraction
        self.jpeg_quality = jpeg_quality
        self.video = video

    def export_alert(
        self,
        caller: Caller,
        alert_id: str,
        out_dir: Path,
        *,
        justification: str,
        recipients: str,
        unblurred: bool = False,
    ) -> ExportResult:
        folder = out_dir / f"alert-{alert_id}"
        if folder.exists():
            raise ExportError(f"{folder} exists already; choose another folder")
        tmp = out_dir / f".alert-{alert_id}.partial"
        try:
            with self.gate.read(
                caller,
                AuditAction.EXPORT,
                Permission.EXPORT,
                justification=justification,
                reason_required=True,
                recipients=recipients,
                recipients_required=True,
                details={"unblurred": unblurred},
            ) as read:
                row = read.session.get(AlertRow, alert_id)
                if row is None:
                    raise ExportError(f"no alert with id {alert_id!r}")
                if not read.visible(row.camera_id):
                    raise self.gate.deny(
                        caller, AuditAction.EXPORT, f"camera {row.camera_id} is outside its limits"
                    )
                is_face = row.kind == AlertKind.FACE_WATCHLIST.value
                if unblurred and not is_face:
                    raise ExportError(
                        f"alert {alert_id} is a {row.kind} alert: only a confirmed face match may be "
                        "exported with a face unblurred"
                    )
                state = require_confirmed(read.session, row, self.required)
                # Only now, with every check passed, is anything written to disk.
                out_dir.mkdir(parents=True, exist_ok=True)
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                files, blurred, clip = self._write(read.session, row, tmp, unblurred)
                hashes = {name: sha256_of(tmp / name) for name in files}
                read.record(
                    [row.id],
                    kind=row.kind,
                    camera_id=row.camera_id,
                    observation_id=row.observation_id,
                    files=list(files),
                    sha256=hashes,
                    faces_blurred=blurred,
                    verified_by=list(state.confirmed_by),
                )
                manifest = self._manifest(row, read.session, caller, justification, recipients, unblurred)
                if clip is not None:
                    manifest["clip"] = {
                        "file": CLIP_FILE,
                        "start": clip.start.isoformat(),
                        "end": clip.end.isoformat(),
                        "frames": clip.frames,
                        "faces_blurred": clip.faces_blurred,
                        "matched_face_visible_in_looks": clip.kept_looks,
                    }
            assert read.entry is not None
            manifest["audit"] = {"seq": read.entry.seq, "hash": read.entry.hash}
            (tmp / "evidence.json").write_text(
                json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
            )
            listed = tuple(exported_file(tmp, name) for name in ("evidence.json", *files))
            sums = "".join(f"{f.sha256}  {f.name}\n" for f in listed)
            (tmp / SUMS_FILE).write_text(sums, encoding="utf-8")
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return ExportResult(
            folder,
            ("evidence.json", *files),
            read.entry.seq,
            unblurred,
            blurred,
            listed,
            read.entry.hash,
        )

    def _write(
        self, session: Any, row: AlertRow, tmp: Path, unblurred: bool
    ) -> tuple[tuple[str, ...], int, VideoPart | None]:
        files: list[str] = []
        evidence = row.evidence or {}
        snapshot = self._snapshot(session, row, unblurred)
        blurred = 0
        if snapshot is not None:
            self._save(tmp / snapshot.name, snapshot.image)
            files.append(snapshot.name)
            blurred = snapshot.blurred
        photo_ref = evidence.get("photo_ref")
        if unblurred and photo_ref:
            reference = self._read(str(photo_ref))
            if reference is not None:
                self._save(tmp / "reference.jpg", reference)
                files.append("reference.jpg")
        clip = self._clip(session, row, tmp / CLIP_FILE, unblurred)
        if clip is not None:
            files.append(CLIP_FILE)
            blurred += clip.faces_blurred
        return tuple(files), blurred, clip

    def _clip(self, session: Any, row: AlertRow, out: Path, unblurred: bool) -> VideoPart | None:
        if self.video is None:
            return None
        face: VideoFace | None = None
        if row.kind == AlertKind.FACE_WATCHLIST.value and row.observation_id is not None:
            sighting = session.get(FaceSightingRow, row.observation_id)
            if sighting is not None:
                box = BBox(sighting.x, sighting.y, sighting.w, sighting.h)
                face = VideoFace(sighting.ts, box, sighting.track_id)
        kept = face if unblurred else None
        return self.video(row.camera_id, row.ts, out, keep=kept, subject=None if unblurred else face)

    def _snapshot(self, session: Any, row: AlertRow, unblurred: bool) -> _Snapshot | None:
        ref, matched = self._snapshot_ref(session, row)
        if not ref:
            return None
        image = self._read(ref)
        if image is None:
            return None
        found = list(self.find_faces(image))
        if matched is not None and unblurred:
            faces = [f for f in found if f.iou(matched) < KEEP_OVERLAP]
        else:
            faces = found + ([matched] if matched is not None else [])
        return _Snapshot("snapshot.jpg", blur_faces(image, faces, self.blur_kernel_fraction), len(faces))

    def _snapshot_ref(self, session: Any, row: AlertRow) -> tuple[str, BBox | None]:
        """The alert's snapshot and, for a face match, where the matched face lies in it."""
        if row.observation_id is None:
            return "", None
        if row.kind == AlertKind.FACE_WATCHLIST.value:
            sighting = session.get(FaceSightingRow, row.observation_id)
            probe = str((row.evidence or {}).get("probe_ref") or (sighting.snapshot if sighting else ""))
            if sighting is None:
                return probe, None
            face = BBox(sighting.x, sighting.y, sighting.w, sighting.h)
            return probe, probe_face_box(face, self.snapshot_margin)
        read = session.get(PlateReadRow, row.observation_id)
        return (read.snapshot if read is not None else ""), None

    def _read(self, ref: str) -> BGRImage | None:
        path = self.media.path(ref)
        if not path.is_file():
            return None
        image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)
        return None if image is None else np.ascontiguousarray(image, dtype=np.uint8)

    def _save(self, path: Path, image: BGRImage) -> None:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise ExportError(f"could not encode {path.name}")
        path.write_bytes(buf.tobytes())

    def _manifest(
        self,
        row: AlertRow,
        session: Any,
        caller: Caller,
        justification: str,
        recipients: str,
        unblurred: bool,
    ) -> dict[str, Any]:
        evidence = dict(row.evidence or {})
        if not unblurred:
            # The reference photo is not in a blurred export; neither is where it is stored.
            evidence.pop("photo_ref", None)
        return {
            "format": "safecity-evidence/1",
            "alert": {
                "id": row.id,
                "kind": row.kind,
                "camera_id": row.camera_id,
                "time": row.ts.isoformat(),
                "message": row.message,
                "observation_id": row.observation_id,
                "watchlist_id": row.watchlist_id,
                "score": row.score,
                "status": row.status,
            },
            "evidence": evidence,
            "decisions": [
                {"user": d.username, "role": d.role, "decision": str(d.decision), "time": d.ts.isoformat()}
                for d in decisions_of(session, row.id)
            ],
            "exported_by": {"user": caller.username, "role": caller.role},
            "justification": justification.strip(),
            "recipients": recipients.strip(),
            "faces": "matched face visible, others blurred" if unblurred else "all blurred",
        }
