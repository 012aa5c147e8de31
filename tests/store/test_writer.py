"""The observation writer: every kind stored, batches land whole or not at all, errors surface."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from factories import camera, face_sighting, line_crossing, motion_track, plate_read, site
from sqlalchemy import func, select

from safecity.config import StoreSettings
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import OBSERVATION_TABLES, FaceVectorRow, PlateReadRow
from safecity.store.observations import ObservationQueries
from safecity.store.writer import ObservationWriter, WriterError, write_batch


@pytest.fixture
def registered(db: Database) -> Database:
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2")])
    return db


def total_rows(db: Database) -> int:
    with db.session() as s:
        return sum(int(s.scalar(select(func.count()).select_from(t)) or 0) for t in OBSERVATION_TABLES)


def test_write_batch_stores_every_kind(registered: Database) -> None:
    batch = [motion_track(), plate_read(), face_sighting(), line_crossing()]
    assert write_batch(registered, batch) == 4
    assert ObservationQueries(registered).counts_by_camera() == {
        "cam-1": {"motion_tracks": 1, "plate_reads": 1, "face_sightings": 1, "line_crossings": 1}
    }


def test_motion_track_round_trips(registered: Database) -> None:
    track = motion_track()
    write_batch(registered, [track])
    assert ObservationQueries(registered).motion_tracks("cam-1") == [track]


def test_plate_read_keeps_candidates_and_normalised_form(registered: Database) -> None:
    read = plate_read()
    write_batch(registered, [read])
    with registered.session() as s:
        row = s.get(PlateReadRow, read.id)
        assert row is not None
        assert (row.normalised, row.candidates) == ("BG123AB", [["BG123AB", 0.95], ["BG128AB", 0.4]])


def test_face_embedding_is_stored_as_float32(registered: Database) -> None:
    sighting = face_sighting()
    write_batch(registered, [sighting])
    with registered.session() as s:
        embedding = s.scalar(select(FaceVectorRow.embedding).where(FaceVectorRow.sighting_id == sighting.id))
        assert embedding is not None and len(embedding) == 128 * 4


def test_face_sighting_with_an_embedding_writes_one_vector_row(registered: Database) -> None:
    sighting = face_sighting()
    write_batch(registered, [sighting, motion_track()])
    with registered.session() as s:
        rows = s.execute(select(FaceVectorRow.sighting_id, FaceVectorRow.camera_id, FaceVectorRow.ts)).all()
    assert [tuple(r) for r in rows] == [(sighting.id, "cam-1", sighting.timestamp)]


def test_face_sighting_without_an_embedding_writes_no_vector_row(registered: Database) -> None:
    write_batch(registered, [replace(face_sighting(), embedding=None)])
    with registered.session() as s:
        assert s.scalar(select(func.count()).select_from(FaceVectorRow)) == 0


def test_face_sightings_round_trip_with_and_without_embedding(registered: Database) -> None:
    kept = face_sighting()
    bare = replace(face_sighting(), embedding=None, timestamp=kept.timestamp + timedelta(seconds=1))
    write_batch(registered, [bare, kept])
    assert ObservationQueries(registered).face_sightings("cam-1") == [kept, bare]


def test_a_malformed_embedding_rejects_the_whole_batch(registered: Database) -> None:
    with pytest.raises(ValueError, match="128 values"):
        write_batch(registered, [motion_track(), replace(face_sighting(), embedding=(0.1, 0.2, 0.3))])
    assert total_rows(registered) == 0


def test_batch_with_a_bad_row_lands_not_at_all(registered: Database) -> None:
    batch = [motion_track("cam-1"), plate_read("cam-2"), motion_track("no-such-camera")]
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        write_batch(registered, batch)
    assert total_rows(registered) == 0


def test_an_observation_written_again_is_stored_once(registered: Database) -> None:
    """A retried batch (or a recording analysed again after a restart) doubles nothing."""
    track, read = motion_track(), plate_read()
    write_batch(registered, [track, read])
    write_batch(registered, [motion_track(offset_s=5), track, read])
    assert total_rows(registered) == 3


def test_a_sighting_written_again_keeps_one_vector(registered: Database) -> None:
    sighting = face_sighting()
    write_batch(registered, [sighting])
    write_batch(registered, [sighting])
    with registered.session() as s:
        assert s.scalar(select(func.count()).select_from(FaceVectorRow)) == 1


def test_writer_commits_in_batches(registered: Database) -> None:
    with ObservationWriter(registered, StoreSettings(batch_size=10, flush_interval_s=60)) as writer:
        writer.submit_many([motion_track(offset_s=i) for i in range(25)])
        writer.flush()
        assert total_rows(registered) == 25
    assert writer.stats.batches == 3


def test_writer_close_flushes_pending(registered: Database) -> None:
    writer = ObservationWriter(registered, StoreSettings(batch_size=1000, flush_interval_s=60))
    writer.submit(motion_track())
    writer.close()
    assert total_rows(registered) == 1


def test_writer_failure_is_raised_to_the_caller(registered: Database) -> None:
    writer = ObservationWriter(registered, StoreSettings(batch_size=1000, flush_interval_s=60))
    writer.submit(motion_track("no-such-camera"))
    with pytest.raises(WriterError, match="observation writer stopped"):
        writer.flush()
    with pytest.raises(WriterError):
        writer.submit(motion_track())


def test_plate_read_round_trips(registered: Database) -> None:
    read = plate_read()
    write_batch(registered, [read])
    assert ObservationQueries(registered).plate_reads("cam-1") == [read]
