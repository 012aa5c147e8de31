"""Snapshot files: where they go, atomic writes, deletion that leaves no empty folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from factories import T0

from safecity.store.media import MediaStore
from safecity.types import BBox


def test_snapshot_is_stored_under_camera_and_date(tmp_path: Path) -> None:
    media = MediaStore(tmp_path)
    ref = media.save_snapshot("cam-1", T0, "abc", np.zeros((40, 60, 3), np.uint8), BBox(10, 10, 20, 20))
    assert ref == "cam-1/2026/03/02/abc.jpg" and media.path(ref).is_file()


def test_delete_removes_emptied_folders(tmp_path: Path) -> None:
    media = MediaStore(tmp_path / "media")
    ref = media.save_snapshot("cam-1", T0, "abc", np.zeros((40, 60, 3), np.uint8))
    assert media.delete(ref)
    assert list((tmp_path / "media").iterdir()) == []


def test_reference_outside_the_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside the media store"):
        MediaStore(tmp_path).path("../../etc/passwd")
