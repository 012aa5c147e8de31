"""Media store: snapshots on local disk under <media_dir>/<camera>/<yyyy>/<mm>/<dd>/<id>.jpg.

References stored in the database are paths relative to the media root, so the root can move.
Files are written to a temporary name and renamed, so a crash never leaves half a JPEG behind.
"""

from __future__ import annotations

import os
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
        if crop is not None:
            x0, y0 = max(crop.x, 0), max(crop.y, 0)
            image = image[y0 : crop.y + crop.h, x0 : crop.x + crop.w]
        if image.size == 0:
            raise ValueError(f"empty snapshot for observation {obs_id}")
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise ValueError(f"could not encode snapshot for observation {obs_id}")
        ref = f"{camera_id}/{timestamp:%Y/%m/%d}/{obs_id}.jpg"
        target = self.path(ref)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".jpg.tmp")
        tmp.write_bytes(buf.tobytes())
        os.replace(tmp, target)
        return ref

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
