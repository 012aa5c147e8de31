"""Migration 0003 (faces) up and down on both backends: embeddings move to face_vectors and back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from factories import T0, camera, face_sighting, site
from sqlalchemy import delete, inspect, select, text

from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import FaceSightingRow, FaceVectorRow
from safecity.store.observations import ObservationQueries
from safecity.store.writer import write_batch
from safecity.types import FaceSighting

FACE_TABLES = {"authorisations", "watchlist_photos", "face_vectors"}


@pytest.fixture
def registered(db: Database) -> Database:
    CameraStore(db).save([site()], [camera("cam-1")])
    return db


def columns(db: Database, table: str) -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def sightings() -> list[FaceSighting]:
    kept = replace(
        face_sighting(), embedding=tuple(float(v) for v in np.linspace(-1, 1, 128, dtype=np.float32))
    )
    bare = replace(face_sighting(), embedding=None, timestamp=T0 + timedelta(seconds=1))
    return [kept, bare]


def test_downgrade_moves_embeddings_back_to_face_sightings(registered: Database) -> None:
    kept, bare = sightings()
    write_batch(registered, [kept, bare])
    registered.downgrade("0002")
    with registered.engine.connect() as conn:
        rows = {r[0]: r[1] for r in conn.execute(text("SELECT id, embedding FROM face_sightings"))}
    assert rows[bare.id] is None
    assert np.array_equal(np.frombuffer(rows[kept.id], "<f4"), np.asarray(kept.embedding, np.float32))


def test_downgrade_removes_the_face_schema(registered: Database) -> None:
    registered.downgrade("0002")
    assert not FACE_TABLES & set(inspect(registered.engine).get_table_names())
    assert "authorisation_id" not in columns(registered, "watchlists")
    assert "template" not in columns(registered, "watchlist_entries")
    assert "retain_face_vectors" not in columns(registered, "cameras")


def test_round_trip_keeps_every_sighting_and_embedding(registered: Database) -> None:
    batch = sightings()
    write_batch(registered, batch)
    registered.downgrade("0002")
    registered.upgrade()
    assert ObservationQueries(registered).face_sightings() == batch
    assert "embedding" not in columns(registered, "face_sightings")


def test_upgrade_moves_embeddings_written_at_0002(registered: Database) -> None:
    registered.downgrade("0002")
    blob = np.arange(128, dtype="<f4").tobytes()
    with registered.engine.begin() as conn:
        for i, emb in enumerate([blob, None]):
            conn.execute(
                text(
                    "INSERT INTO face_sightings (id, camera_id, ts, x, y, w, h, confidence, track_id, "
                    "snapshot, quality, embedding) "
                    "VALUES (:id, 'cam-1', :ts, 0, 0, 40, 40, 0.9, NULL, '', 0.7, :emb)"
                ),
                {"id": f"s{i}", "ts": T0.replace(tzinfo=None) + timedelta(seconds=i), "emb": emb},
            )
    registered.upgrade()
    with registered.session() as s:
        rows = s.execute(
            select(FaceVectorRow.sighting_id, FaceVectorRow.camera_id, FaceVectorRow.embedding)
        ).all()
    assert [tuple(r) for r in rows] == [("s0", "cam-1", blob)]


def test_upgrade_keeps_existing_watchlist_entries(registered: Database) -> None:
    """SQLite: the columns are added in place, so no cascade from a rebuilt watchlists table."""
    registered.downgrade("0002")
    with registered.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO watchlists (id, name, kind, description, version, created_by, created_at) "
                "VALUES ('w1', 'plates', 'plate', '', 1, '', :ts)"
            ),
            {"ts": T0.replace(tzinfo=None)},
        )
        conn.execute(
            text(
                "INSERT INTO watchlist_entries (id, watchlist_id, label, plate_normalised, note, created_at) "
                "VALUES ('e1', 'w1', 'van', 'BG123AB', '', :ts)"
            ),
            {"ts": T0.replace(tzinfo=None)},
        )
    registered.upgrade()
    registered.downgrade("0002")
    with registered.engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(text("SELECT id, watchlist_id FROM watchlist_entries"))] == [
            ("e1", "w1")
        ]


def test_face_vector_keys_are_never_reused(registered: Database) -> None:
    first, second = face_sighting(), face_sighting()
    write_batch(registered, [first, second])
    with registered.session() as s:
        s.execute(delete(FaceSightingRow).where(FaceSightingRow.id == second.id))
    write_batch(registered, [face_sighting()])
    with registered.session() as s:
        keys = list(s.scalars(select(FaceVectorRow.key).order_by(FaceVectorRow.key)))
    assert len(keys) == 2 and keys[1] > keys[0] + 1


def test_deleting_a_sighting_deletes_its_vector(registered: Database) -> None:
    sighting = face_sighting()
    write_batch(registered, [sighting])
    with registered.session() as s:
        s.execute(delete(FaceSightingRow))
    with registered.session() as s:
        assert s.scalar(select(FaceVectorRow.key)) is None
