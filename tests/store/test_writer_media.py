"""Snapshot files are written by the writer with their rows: none on disk without its row.

A worker encodes a snapshot but only stages it (`StagedSnapshots`); the JPEG travels with its
observation to the writer, which writes the file just before the batch's transaction and deletes
it again when the transaction fails (issue 16, item 7: orphaned workers left files behind).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from factories import T0, camera, motion_track, plate_read, site

from safecity.config import StoreSettings
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore, StagedSnapshots
from safecity.store.observations import ObservationQueries
from safecity.store.writer import ObservationWriter, WriterError
from safecity.types import Observation

IMAGE = np.full((16, 16, 3), 128, np.uint8)


@pytest.fixture
def registered(db: Database) -> Database:
    CameraStore(db).save([site()], [camera("cam-1")])
    return db


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


def with_snapshot(obs: Observation, staged: StagedSnapshots) -> Observation:
    return replace(obs, snapshot=staged.save_snapshot(obs.camera_id, T0, obs.id, IMAGE))


def files(media: MediaStore) -> list[Path]:
    return sorted(p for p in media.root.rglob("*") if p.is_file()) if media.root.exists() else []


def test_a_staged_snapshot_is_written_only_with_its_row(registered: Database, media: MediaStore) -> None:
    staged = StagedSnapshots(media)
    read = with_snapshot(plate_read(), staged)
    assert files(media) == []  # staged: encoded, not on disk
    with ObservationWriter(registered, StoreSettings(), media=media) as writer:
        writer.submit_many([read], files=staged.take())
    [row] = ObservationQueries(registered).plate_reads()
    assert row.snapshot == read.snapshot
    assert files(media) == [media.path(read.snapshot)]
    assert media.path(read.snapshot).read_bytes()[:2] == b"\xff\xd8"  # a JPEG


def test_a_batch_whose_insert_fails_leaves_no_snapshot_file(registered: Database, media: MediaStore) -> None:
    staged = StagedSnapshots(media)
    good = with_snapshot(motion_track("cam-1"), staged)
    unknown_camera = with_snapshot(plate_read("cam-nowhere"), staged)  # refused: no such camera
    writer = ObservationWriter(registered, StoreSettings(), media=media)
    writer.submit_many([good, unknown_camera], files=staged.take())
    with pytest.raises(WriterError):
        writer.close()
    assert ObservationQueries(registered).counts_by_camera() == {}
    assert files(media) == []


def test_a_failed_batch_keeps_the_files_of_rows_stored_before(
    registered: Database, media: MediaStore
) -> None:
    staged = StagedSnapshots(media)
    track = with_snapshot(motion_track("cam-1"), staged)
    with ObservationWriter(registered, StoreSettings(), media=media) as writer:
        writer.submit_many([track], files=staged.take())
    again = StagedSnapshots(media)
    retried = with_snapshot(track, again)  # the same track written again (a retry), with a bad one
    refused = with_snapshot(plate_read("cam-nowhere"), again)
    writer = ObservationWriter(registered, StoreSettings(), media=media)
    writer.submit_many([retried, refused], files=again.take())
    with pytest.raises(WriterError):
        writer.close()
    assert files(media) == [media.path(track.snapshot)]
