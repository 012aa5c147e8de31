"""Media store: snapshots on local disk under <media_dir>/<camera>/<yyyy>/<mm>/<dd>/<id>.jpg.

References stored in the database are paths relative to the media root, so the root can move.
Files are written to a temporary name and renamed, so a crash never leaves half a JPEG behind.

A snapshot of an observation is written only together with its row: `StagedSnapshots` (what
`serve`'s workers use) encodes the JPEG and keeps it, by reference, until the observation goes
to the writer (store/writer.py), which writes the file just before the row's transaction and
deletes it if that fails. A worker that dies leaves no file behind; what a crash between file
and commit does leave, the retention sweep removes (governance/retention.py, orphan files).
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import cv2

from safecity.types import BBox, BGRImage


class MediaStore:
    def __init__(self, root: Path, jpeg_quality: int = 85) -> None:
        self.root = root
        self.jpeg_quality = jpeg_quality

    def path(self, ref: str) -> Path:
        resolved = (self.root / ref).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise ValueError(f"media reference {ref!r} points outside the media store")
        return resolved

    def save_snapshot(
        self, camera_id: str, timestamp: datetime, obs_id: str, image: BGRImage, crop: BBox | None = None
    ) -> str:
        """Encode and write a snapshot now; its reference."""
        ref, data = self.encode_snapshot(camera_id, timestamp, obs_id, image, crop)
        self.write(ref, data)
        return ref

    def encode_snapshot(
        self, camera_id: str, timestamp: datetime, obs_id: str, image: BGRImage, crop: BBox | None = None
    ) -> tuple[str, bytes]:
        """The reference a snapshot will have and its JPEG bytes; nothing is written."""
        if crop is not None:
            x0, y0 = max(crop.x, 0), max(crop.y, 0)
            image = image[y0 : crop.y + crop.h, x0 : crop.x + crop.w]
        if image.size == 0:
            raise ValueError(f"empty snapshot for observation {obs_id}")
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise ValueError(f"could not encode snapshot for observation {obs_id}")
        return f"{camera_id}/{timestamp:%Y/%m/%d}/{obs_id}.jpg", buf.tobytes()

    def write(self, ref: str, data: bytes) -> bool:
        """Write `data` as the file of `ref`; True when the file did not exist before."""
        target = self.path(ref)
        existed = target.exists()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".jpg.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return not existed

    def delete(self, ref: str) -> bool:
        """Delete a snapshot and the day/month/year/camera folders it leaves empty."""
        path = self.path(ref)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        root = self.root.resolve()
        folder = path.parent
        while folder != root and folder.is_relative_to(root):
            try:
                folder.rmdir()
            except OSError:  # not empty: other snapshots live there
                break
            folder = folder.parent
        return True


class StagedSnapshots:
    """A snapshot store that encodes but does not write: the JPEGs wait here until `take`.

    The pipeline names each observation's snapshot as usual; whoever hands the observations on
    takes the staged bytes with them, so that the writer writes each file together with its row.
    """

    def __init__(self, media: MediaStore) -> None:
        self.media = media
        self._lock = threading.Lock()
        self._staged: dict[str, bytes] = {}

    def save_snapshot(
        self, camera_id: str, timestamp: datetime, obs_id: str, image: BGRImage, crop: BBox | None = None
    ) -> str:
        ref, data = self.media.encode_snapshot(camera_id, timestamp, obs_id, image, crop)
        with self._lock:
            self._staged[ref] = data
        return ref

    def take(self) -> dict[str, bytes]:
        """Every staged JPEG by reference, handed over once (taking all, not just some, means a
        snapshot whose observation never went out cannot pile up here)."""
        with self._lock:
            staged, self._staged = self._staged, {}
        return staged
