"""The face search index: exact and filtered search, sync with the database, persistence, IVF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from factories import camera, site
from sqlalchemy import delete, select

from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.face_index import FaceIndex, FaceIndexError
from safecity.store.models import FaceSightingRow, FaceVectorRow
from safecity.store.observations import ObservationQueries
from safecity.store.writer import write_batch
from safecity.types import BBox, FaceSighting, new_id

T0 = datetime(2026, 3, 2, tzinfo=UTC)
STEP = timedelta(minutes=30)
CAMERAS = ("cam-1", "cam-2", "cam-3")


@pytest.fixture
def registered(db: Database) -> Database:
    CameraStore(db).save([site()], [camera(c) for c in CAMERAS])
    return db


def write(db: Database, vectors: npt.NDArray[np.float32], start: int = 0) -> list[FaceSighting]:
    """One sighting per vector, cameras in turn, every half hour from T0 (offset by `start`)."""
    batch = [
        FaceSighting(
            id=new_id(),
            camera_id=CAMERAS[(start + i) % len(CAMERAS)],
            timestamp=T0 + (start + i) * STEP,
            bbox=BBox(10, 20, 40, 40),
            confidence=0.9,
            quality=0.8,
            track_id=start + i,
            embedding=tuple(float(v) for v in vec),
            snapshot=f"snap-{start + i}.jpg",
        )
        for i, vec in enumerate(vectors)
    ]
    write_batch(db, batch)
    return batch


def random_vectors(n: int, seed: int = 0) -> npt.NDArray[np.float32]:
    return np.random.default_rng(seed).normal(0, 0.1, (n, 128)).astype(np.float32)


def clustered(
    people: int, per_person: int, seed: int = 0
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Face-like data: people's centres ~0.9 apart, their sightings ~0.4 from each other."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 0.056, (people, 128)).astype(np.float32)
    noise = rng.normal(0, 0.025, (people * per_person, 128)).astype(np.float32)
    return centres, (np.repeat(centres, per_person, axis=0) + noise).astype(np.float32)


def brute_force(
    db: Database,
    query: npt.NDArray[np.float32],
    k: int,
    camera_ids: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[tuple[str, float]]:
    """(sighting id, distance) of the k nearest stored sightings, by numpy over every stored vector."""
    rows = [
        s
        for s in ObservationQueries(db).face_sightings()
        if s.embedding is not None
        and (camera_ids is None or s.camera_id in camera_ids)
        and (since is None or s.timestamp >= since)
        and (until is None or s.timestamp < until)
    ]
    if not rows:
        return []
    vectors = np.array([s.embedding for s in rows], np.float64)
    distances = np.sqrt(((vectors - query.astype(np.float64)) ** 2).sum(axis=1))
    order = np.argsort(distances, kind="stable")[:k]
    return [(rows[i].id, float(distances[i])) for i in order]


def found(
    index: FaceIndex, query: npt.NDArray[np.float32], k: int, **filters: object
) -> list[tuple[str, float]]:
    return [(h.sighting_id, h.distance) for h in index.search(query, k, **filters)]  # type: ignore[arg-type]


def same(ours: list[tuple[str, float]], theirs: list[tuple[str, float]]) -> bool:
    return [i for i, _ in ours] == [i for i, _ in theirs] and np.allclose(
        [d for _, d in ours], [d for _, d in theirs], atol=1e-6
    )


def open_index(db: Database, tmp_path: Path, **settings: int) -> FaceIndex:
    values = {"ivf_min_vectors": 10_000, "nprobe": 4, "oversample": 4}
    values.update(settings)
    return FaceIndex(db, tmp_path / "faces.idx", **values)


def test_flat_search_equals_brute_force(registered: Database, tmp_path: Path) -> None:
    write(registered, random_vectors(300))
    index = open_index(registered, tmp_path)
    index.sync()
    for query in random_vectors(5, seed=1):
        assert same(found(index, query, 10), brute_force(registered, query, 10))


def test_hits_describe_the_sighting(registered: Database, tmp_path: Path) -> None:
    vectors = random_vectors(20)
    sightings = write(registered, vectors)
    index = open_index(registered, tmp_path)
    index.sync()
    [hit] = index.search(vectors[7], 1)
    s = sightings[7]
    assert (hit.sighting_id, hit.camera_id, hit.timestamp, hit.snapshot, hit.bbox, hit.track_id) == (
        s.id,
        s.camera_id,
        s.timestamp,
        s.snapshot,
        s.bbox,
        s.track_id,
    )
    assert hit.distance == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "filters",
    [
        {"camera_ids": ["cam-2"]},
        {"camera_ids": ["cam-1", "cam-3"]},
        {"since": T0 + 40 * STEP},
        {"until": T0 + 40 * STEP},
        {"since": T0 + 48 * STEP, "until": T0 + 96 * STEP},
        {"camera_ids": ["cam-2"], "since": T0 + 48 * STEP, "until": T0 + 96 * STEP},
    ],
    ids=["one camera", "two cameras", "since", "until", "one day", "camera and day"],
)
@pytest.mark.parametrize("exact_max", [100_000, 0], ids=["numpy", "faiss selector"])
def test_filtered_search_equals_brute_force(
    registered: Database, tmp_path: Path, filters: dict[str, object], exact_max: int
) -> None:
    write(registered, random_vectors(300))
    index = open_index(registered, tmp_path, exact_max=exact_max)
    index.sync()
    for query in random_vectors(3, seed=2):
        assert same(found(index, query, 10, **filters), brute_force(registered, query, 10, **filters))  # type: ignore[arg-type]


def test_until_is_exclusive_and_since_inclusive(registered: Database, tmp_path: Path) -> None:
    vectors = random_vectors(10)
    sightings = write(registered, vectors)
    index = open_index(registered, tmp_path)
    index.sync()
    hits = index.search(vectors[0], 10, since=sightings[3].timestamp, until=sightings[5].timestamp)
    assert sorted(h.sighting_id for h in hits) == sorted(s.id for s in sightings[3:5])


def test_an_unknown_camera_finds_nothing(registered: Database, tmp_path: Path) -> None:
    write(registered, random_vectors(30))
    index = open_index(registered, tmp_path)
    index.sync()
    assert index.search(random_vectors(1)[0], 5, camera_ids=["cam-9"]) == []


def test_an_empty_index_finds_nothing(registered: Database, tmp_path: Path) -> None:
    index = open_index(registered, tmp_path)
    assert (index.sync().added, index.search(random_vectors(1)[0], 5)) == (0, [])


def test_sync_adds_only_new_rows(registered: Database, tmp_path: Path) -> None:
    write(registered, random_vectors(50))
    index = open_index(registered, tmp_path)
    first = index.sync()
    write(registered, random_vectors(20, seed=3), start=50)
    second = index.sync()
    third = index.sync()
    assert (first.added, second.added, third.added, len(index)) == (50, 20, 0, 70)
    assert not (first.rebuilt or second.rebuilt or third.rebuilt)


def test_sync_skips_sightings_without_embedding(registered: Database, tmp_path: Path) -> None:
    write(registered, random_vectors(5))
    bare = FaceSighting(new_id(), "cam-1", T0, BBox(0, 0, 9, 9), 0.9, 0.5)
    write_batch(registered, [bare])
    index = open_index(registered, tmp_path)
    assert index.sync().added == 5


def test_remove_drops_vectors_from_results(registered: Database, tmp_path: Path) -> None:
    vectors = random_vectors(40)
    sightings = write(registered, vectors)
    index = open_index(registered, tmp_path)
    index.sync()
    with registered.session() as s:
        key = s.scalar(select(FaceVectorRow.key).where(FaceVectorRow.sighting_id == sightings[4].id))
    assert index.remove([key, 10**9]) == 1
    assert sightings[4].id not in [h.sighting_id for h in index.search(vectors[4], 5)]
    assert len(index) == 39


def delete_sightings(db: Database, sightings: Sequence[FaceSighting]) -> None:
    with db.session() as s:
        s.execute(delete(FaceSightingRow).where(FaceSightingRow.id.in_([x.id for x in sightings])))


def test_deleted_rows_are_never_returned_even_before_sync(registered: Database, tmp_path: Path) -> None:
    vectors = random_vectors(40)
    sightings = write(registered, vectors)
    index = open_index(registered, tmp_path)
    index.sync()
    delete_sightings(registered, sightings[:3])
    hits = index.search(vectors[0], 5)
    assert len(hits) == 5 and not {h.sighting_id for h in hits} & {s.id for s in sightings[:3]}


def test_sync_removes_rows_deleted_without_remove(registered: Database, tmp_path: Path) -> None:
    sightings = write(registered, random_vectors(40))
    index = open_index(registered, tmp_path)
    index.sync()
    delete_sightings(registered, sightings[10:15])
    result = index.sync()
    assert (result.removed, result.added, result.rebuilt, len(index)) == (5, 0, False, 35)


def test_saved_index_reloads_as_it_was(registered: Database, tmp_path: Path) -> None:
    write(registered, random_vectors(100))
    index = open_index(registered, tmp_path)
    index.sync()
    index.save()
    query = random_vectors(1, seed=5)[0]
    reopened = open_index(registered, tmp_path)
    assert (reopened.recovered, reopened.stats) == (None, index.stats)
    assert found(reopened, query, 10) == found(index, query, 10)
    assert reopened.sync().added == 0


def test_corrupt_index_file_raises_a_clear_error(registered: Database, tmp_path: Path) -> None:
    write(registered, random_vectors(30))
    index = open_index(registered, tmp_path)
    index.sync()
    index.save()
    index.index_path.write_bytes(b"not an index" * 100)
    with pytest.raises(FaceIndexError, match=r"faces\.idx is corrupt or unreadable"):
        index.load()


def test_corrupt_index_file_is_rebuilt_from_the_database(registered: Database, tmp_path: Path) -> None:
    write(registered, random_vectors(30))
    index = open_index(registered, tmp_path)
    index.sync()
    index.save()
    query = random_vectors(1, seed=6)[0]
    index.index_path.write_bytes(index.index_path.read_bytes()[:500])
    reopened = open_index(registered, tmp_path)
    assert reopened.recovered is not None and "corrupt" in reopened.recovered
    assert found(reopened, query, 10) == found(index, query, 10)
    assert open_index(registered, tmp_path).recovered is None  # the rebuilt index was saved


@pytest.mark.parametrize("damage", ["missing", "garbage", "other save"])
def test_a_bad_sidecar_rebuilds_the_index(registered: Database, tmp_path: Path, damage: str) -> None:
    write(registered, random_vectors(30))
    index = open_index(registered, tmp_path)
    index.sync()
    index.save()
    if damage == "missing":
        index.sidecar_path.unlink()
    elif damage == "garbage":
        index.sidecar_path.write_text("{")
    else:
        sidecar = index.sidecar_path.read_text()
        index.save()
        index.sidecar_path.write_text(sidecar)
    reopened = open_index(registered, tmp_path)
    assert reopened.recovered is not None and len(reopened) == 30


def test_ivf_finds_the_nearest_person_in_a_clustered_set(registered: Database, tmp_path: Path) -> None:
    centres, vectors = clustered(people=40, per_person=15)
    sightings = write(registered, vectors)
    index = open_index(registered, tmp_path, ivf_min_vectors=200)
    index.sync()
    assert index.stats.kind == "ivf" and index.stats.nlist > 1
    probes = centres + np.random.default_rng(9).normal(0, 0.025, centres.shape).astype(np.float32)
    person = {s.id: i // 15 for i, s in enumerate(sightings)}
    for who, probe in enumerate(probes):
        hits = index.search(probe, 5)
        assert [person[h.sighting_id] for h in hits] == [who] * 5
        assert same(found(index, probe, 1), brute_force(registered, probe, 1))


def test_ivf_filtered_search_is_exact_when_the_filter_is_selective(
    registered: Database, tmp_path: Path
) -> None:
    centres, vectors = clustered(people=20, per_person=15)
    write(registered, vectors)
    index = open_index(registered, tmp_path, ivf_min_vectors=200)
    index.sync()
    day = {"since": T0 + 48 * STEP, "until": T0 + 96 * STEP, "camera_ids": ["cam-3"]}
    for probe in centres[:5]:
        assert same(found(index, probe, 10, **day), brute_force(registered, probe, 10, **day))  # type: ignore[arg-type]


def test_ivf_filtered_search_over_fetches_when_the_filter_is_broad(
    registered: Database, tmp_path: Path
) -> None:
    centres, vectors = clustered(people=20, per_person=15)
    write(registered, vectors)
    index = open_index(registered, tmp_path, ivf_min_vectors=200, exact_max=0)
    index.sync()
    for probe in centres[:5]:
        hits = found(index, probe, 3, camera_ids=["cam-1"])
        assert same(hits, brute_force(registered, probe, 3, camera_ids=["cam-1"]))


def test_sync_switches_to_ivf_when_the_store_grows(registered: Database, tmp_path: Path) -> None:
    _, vectors = clustered(people=20, per_person=15)
    write(registered, vectors[:100])
    index = open_index(registered, tmp_path, ivf_min_vectors=200)
    index.sync()
    write(registered, vectors[100:], start=100)
    result = index.sync()
    assert (result.rebuilt, index.stats.kind, len(index)) == (True, "ivf", 300)


def test_saved_ivf_index_reloads_as_it_was(registered: Database, tmp_path: Path) -> None:
    centres, vectors = clustered(people=20, per_person=15)
    write(registered, vectors)
    index = open_index(registered, tmp_path, ivf_min_vectors=200)
    index.sync()
    index.save()
    reopened = open_index(registered, tmp_path, ivf_min_vectors=200)
    assert (reopened.recovered, reopened.stats) == (None, index.stats)
    assert found(reopened, centres[0], 10) == found(index, centres[0], 10)


@pytest.mark.parametrize(
    ("vector", "k", "message"),
    [
        (np.zeros(128), 0, "k must be at least 1"),
        (np.zeros(64), 5, "128 finite values"),
        ([np.nan] * 128, 5, "finite"),
    ],
)
def test_search_refuses_bad_queries(
    registered: Database, tmp_path: Path, vector: npt.NDArray[np.float64], k: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        open_index(registered, tmp_path).search(vector, k)
