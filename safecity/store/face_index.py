"""Retrospective face search: a FAISS index over `face_vectors`, persisted beside the database.

The database is the record; this index is a cache of it that can always be rebuilt. Its ids are
`face_vectors.key`, an integer the database never reuses, so `sync` adds exactly the rows above
its watermark (the largest key it has seen).

What is held in memory
    - the FAISS index: below `ivf_min_vectors` an exact `IndexFlatL2` in an `IndexIDMap2`; from
      there on an `IndexIVFFlat` (nlist ~ 4 sqrt(n), at most `nlist_max` = 1024, k-means on a
      sample of 40 vectors per list, 10 iterations). The cap keeps building 1 M vectors from the
      database at ~20 s on 2 cores (assigning each vector costs nlist distances); with nprobe 32
      a query then reads ~3% of the vectors. It serves unfiltered searches.
    - a table in key order: key, camera (as a small code), time (µs since 1970) and the vector.
      It serves filtered searches and exact distances. For the IVF index this holds every vector
      a second time (1 M faces: 2 x 512 MB in memory, 1 GB on disk): the price of filtered
      results that are exact, filtered without a database round trip per query.

Search (FAISS on the calling thread only, see `_one_thread`)
    - Unfiltered: FAISS. Exact with the flat index. With IVF only `nprobe` of the lists are read.
      On clustered face-like data (bench/bench_face_search.py, 1 M faces, nprobe 32) recall@10 is
      ~0.99; at 100 k it is 0.78, because there a query's top 10 are mostly strangers ~0.75 away,
      all about equally far, and which of them come back hardly matters. What a search is for,
      the sightings of the same person (within ~0.6), comes back 0.99 of the time at both sizes.
      Raise nprobe for more (it costs linearly), or raise `ivf_min_vectors`: the flat index
      answers 100 k in ~6 ms and stays under 20 ms to ~300 k on 2 cores.
      When the probed lists hold fewer than k vectors, nprobe is doubled until they do.
    - Filtered (cameras and/or since <= ts < until): the filter runs on the in-memory table
      (~1 ms for 1 M rows). When at most `exact_max` vectors pass, which covers "one camera" or
      "one day" at 1 M faces, those vectors are gathered and scored exactly (no recall loss);
      gathering scattered rows is the cost (~12 ms for 50 k on 2 cores). Larger candidate sets
      are searched by FAISS: the flat index with an id selector (exact); the IVF index by asking
      for k x `oversample` candidates and keeping those that pass, asking for `oversample` times
      more (and probing more lists once those are exhausted) until k pass. That path has the
      IVF's recall; a filter that broad is close to an unfiltered search anyway.
    - Distances are Euclidean (not squared), recomputed in float64 for the hits.
    - Hits are read from the database (sighting, snapshot, box). A key whose row has gone
      (deleted since the last `sync`, e.g. by a retention sweep) is dropped from the index and
      the search is repeated, so a deleted sighting is never returned.

Persistence
    `index_path` is a NumPy .npz archive: the serialized FAISS index (IVF only; a flat index is
    rebuilt from the table in milliseconds) and the table. A JSON sidecar (`<index_path>.json`)
    holds the count, the watermark, the index kind and a token that must equal the archive's.
    Both are written to a temporary file and renamed (`os.replace`), the sidecar last, so a crash
    leaves either the old pair or a mismatch that is detected. A missing, corrupt or mismatched
    pair raises `FaceIndexError` from `load`; constructing a `FaceIndex` then rebuilds from the
    database (nothing is lost) and says so in `recovered`.

Consistency with the database (`sync`)
    - Rows above the watermark are added.
    - If the number of rows at or below the watermark differs from the index's (rows deleted
      without `remove`, or on PostgreSQL a transaction that committed a lower key late), the two
      key sets are compared and the index is corrected both ways; no full rebuild is needed.
    - If the row at the watermark belongs to another sighting, the index was built from another
      database: it is rebuilt.
    - Crossing `ivf_min_vectors` (or falling below half of it), or growing to 4x the size the
      IVF was trained for, rebuilds the index with a newly trained IVF.

Thread safety: every public method takes the instance's lock, so searches run one at a time.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, bindparam, func, select

from safecity.store.database import Database
from safecity.store.models import FaceSightingRow, FaceVectorRow
from safecity.store.observations import VECTOR_BYTES
from safecity.types import FACE_EMBEDDING_DIM, BBox, FaceSearchHit

log = logging.getLogger(__name__)

FORMAT = 1
DIM = FACE_EMBEDDING_DIM
IVF_TRAIN_PER_LIST = 40
"""Training vectors per IVF list: FAISS wants at least 39; more costs k-means time for little gain."""
IVF_TRAIN_ITERATIONS = 10
RETRAIN_GROWTH = 4
"""An IVF index is retrained once the store holds this many times the vectors it was trained on."""
READ_CHUNK = 50_000
IN_CHUNK = 10_000
"""Keys per `IN (...)` list: SQLite allows 32,766 bound parameters per statement."""
MAX_STALE_RETRIES = 3
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)

Kind = Literal["flat", "ivf"]
FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


class FaceIndexError(RuntimeError):
    """The index files cannot be used (missing, corrupt, from another build); rebuild from the database."""


@dataclass(frozen=True, slots=True)
class SyncResult:
    added: int = 0
    removed: int = 0
    rebuilt: bool = False


@dataclass(frozen=True, slots=True)
class IndexStats:
    vectors: int
    kind: Kind
    nlist: int
    """IVF lists (0 for the flat index)."""
    watermark: int


def _micros(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise ValueError(f"naive datetime {ts!r} given to the face index; use timezone-aware UTC times")
    return (ts - EPOCH) // ONE_US


class _Table:
    """Keys (ascending), camera codes, times and vectors of every indexed face."""

    def __init__(self) -> None:
        self.keys: IntArray = np.zeros(0, np.int64)
        self.cams: npt.NDArray[np.int32] = np.zeros(0, np.int32)
        self.ts: IntArray = np.zeros(0, np.int64)
        self.vectors: FloatArray = np.zeros((0, DIM), np.float32)
        self.camera_names: list[str] = []
        self.camera_codes: dict[str, int] = {}

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    def codes(self, cameras: Sequence[str]) -> npt.NDArray[np.int32]:
        return np.array([self.camera_codes.setdefault(c, len(self.camera_codes)) for c in cameras], np.int32)

    def set_camera_names(self, names: Sequence[str]) -> None:
        self.camera_names = list(names)
        self.camera_codes = {n: i for i, n in enumerate(self.camera_names)}

    def append(self, keys: IntArray, cams: Sequence[str], ts: IntArray, vectors: FloatArray) -> None:
        """Add rows; kept in key order (new rows normally come above every key held)."""
        codes = self.codes(cams)
        self.camera_names = list(self.camera_codes)
        in_order = (
            len(self) == 0
            or len(keys) == 0
            or (keys[0] > self.keys[-1] and bool(np.all(keys[1:] > keys[:-1])))
        )
        self.keys = np.concatenate([self.keys, keys])
        self.cams = np.concatenate([self.cams, codes])
        self.ts = np.concatenate([self.ts, ts])
        self.vectors = np.concatenate([self.vectors, vectors])
        if not in_order:
            self._keep(np.argsort(self.keys, kind="stable"))

    def remove(self, keys: IntArray) -> IntArray:
        """Drop these keys; returns those that were held."""
        held = np.isin(self.keys, keys)
        gone = self.keys[held]
        if len(gone):
            self._keep(np.flatnonzero(~held))
        return gone

    def positions(self, keys: IntArray) -> npt.NDArray[np.intp]:
        return np.searchsorted(self.keys, keys)

    def mask(
        self, cameras: Sequence[str] | None, since_us: int | None, until_us: int | None
    ) -> npt.NDArray[np.bool_]:
        mask = np.ones(len(self), bool)
        if cameras is not None:
            codes = [self.camera_codes[c] for c in cameras if c in self.camera_codes]
            if len(codes) == 1:
                mask &= self.cams == codes[0]
            else:
                mask &= np.isin(self.cams, np.array(codes, np.int32))
        if since_us is not None:
            mask &= self.ts >= since_us
        if until_us is not None:
            mask &= self.ts < until_us
        return mask

    def _keep(self, rows: npt.NDArray[np.intp]) -> None:
        self.keys = self.keys[rows]
        self.cams = self.cams[rows]
        self.ts = self.ts[rows]
        self.vectors = np.ascontiguousarray(self.vectors[rows])


@dataclass(frozen=True, slots=True)
class _Rows:
    """A chunk of face_vectors rows as arrays."""

    keys: IntArray
    cams: list[str]
    ts: IntArray
    vectors: FloatArray
    last_sighting: str


def _rows(chunk: Sequence[Any]) -> _Rows:
    blobs = [bytes(r.embedding) for r in chunk]
    for r, blob in zip(chunk, blobs, strict=True):
        if len(blob) != VECTOR_BYTES:
            raise FaceIndexError(
                f"face_vectors row {r.key} holds {len(blob)} bytes; expected {VECTOR_BYTES} ({DIM} float32)"
            )
    vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, DIM).astype(np.float32)
    return _Rows(
        keys=np.array([r.key for r in chunk], np.int64),
        cams=[r.camera_id for r in chunk],
        ts=np.array([_micros(r.ts) for r in chunk], np.int64),
        vectors=vectors,
        last_sighting=str(chunk[-1].sighting_id) if chunk else "",
    )


_ROW_COLUMNS = (
    FaceVectorRow.key,
    FaceVectorRow.sighting_id,
    FaceVectorRow.camera_id,
    FaceVectorRow.ts,
    FaceVectorRow.embedding,
)


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run FAISS on the calling thread only, for one query.

    One query has nothing to split, and FAISS's OpenMP workers, when the cores are busy (the
    pipeline decoding video beside the API), wait for their turn: 0.4 ms became 30 ms at p95 on
    the 2-core development machine. OpenMP's thread count is per calling thread, so training
    and bulk adds elsewhere keep every core.
    """
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _ivf_params(nprobe: int) -> Any:
    params = faiss.SearchParametersIVF()
    params.nprobe = nprobe
    return params


def _selector_params(selector: Any) -> Any:
    params = faiss.SearchParameters()
    params.sel = selector
    return params


# Built once: constructing a SQLAlchemy statement costs more than running this one on SQLite.
_HIT_QUERY = (
    select(
        FaceVectorRow.key,
        FaceSightingRow.id,
        FaceSightingRow.camera_id,
        FaceSightingRow.ts,
        FaceSightingRow.snapshot,
        FaceSightingRow.x,
        FaceSightingRow.y,
        FaceSightingRow.w,
        FaceSightingRow.h,
        FaceSightingRow.track_id,
    )
    .join(FaceSightingRow, FaceSightingRow.id == FaceVectorRow.sighting_id)
    .where(FaceVectorRow.key.in_(bindparam("keys", expanding=True)))
)


class FaceIndex:
    """FAISS index of the stored face vectors, with filtered and exact search; see the module docstring."""

    def __init__(
        self,
        db: Database,
        index_path: Path,
        *,
        ivf_min_vectors: int = 50_000,
        nprobe: int = 32,
        oversample: int = 8,
        exact_max: int = 50_000,
        nlist_max: int = 1024,
    ) -> None:
        if ivf_min_vectors < 1 or nprobe < 1 or oversample < 2 or exact_max < 0 or nlist_max < 1:
            raise ValueError(
                "face index settings out of range: ivf_min_vectors, nprobe, nlist_max >= 1, oversample >= 2, "
                "exact_max >= 0"
            )
        self.db = db
        self.index_path = Path(index_path)
        self.sidecar_path = self.index_path.with_name(self.index_path.name + ".json")
        self.ivf_min_vectors = ivf_min_vectors
        self.nprobe = nprobe
        self.oversample = oversample
        self.exact_max = exact_max
        self.nlist_max = nlist_max
        self.recovered: str | None = None
        """Why the files on disk were not usable and the index was rebuilt on opening (None: they were)."""
        self._lock = threading.RLock()
        self._reset()
        if self.index_path.exists() or self.sidecar_path.exists():
            try:
                self.load()
            except FaceIndexError as exc:
                log.warning("%s; rebuilding it from the database", exc)
                self.recovered = str(exc)
                self.rebuild()
                self.save()

    # ------------------------------------------------------------ state

    @property
    def stats(self) -> IndexStats:
        with self._lock:
            nlist = int(self._index.nlist) if self._kind == "ivf" else 0
            return IndexStats(
                vectors=len(self._table), kind=self._kind, nlist=nlist, watermark=self._watermark
            )

    def __len__(self) -> int:
        return len(self._table)

    def _reset(self) -> None:
        self._table = _Table()
        self._kind: Kind = "flat"
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatL2(DIM))
        self._trained_for = 0
        self._watermark = 0
        self._watermark_sighting = ""

    # ------------------------------------------------------------ database to index

    def sync(self) -> SyncResult:
        """Bring the index up to date with face_vectors (see the module docstring)."""
        with self._lock, self.db.read_connection() as conn:
            total = int(conn.scalar(select(func.count()).select_from(FaceVectorRow)) or 0)
            if self._watermark:
                owner = conn.scalar(
                    select(FaceVectorRow.sighting_id).where(FaceVectorRow.key == self._watermark)
                )
                if owner is not None and owner != self._watermark_sighting:
                    log.warning("face index %s was built from another database; rebuilding", self.index_path)
                    return self._rebuild(conn)
            if self._wants_rebuild(total):
                return self._rebuild(conn)
            removed = added = 0
            held = int(
                conn.scalar(
                    select(func.count())
                    .select_from(FaceVectorRow)
                    .where(FaceVectorRow.key <= self._watermark)
                )
                or 0
            )
            if held != len(self._table):
                removed, added = self._reconcile(conn)
            rows = self._read(conn, FaceVectorRow.key > self._watermark)
            self._add(rows)
            return SyncResult(added=added + len(rows.keys), removed=removed)

    def rebuild(self) -> SyncResult:
        """Rebuild the index from face_vectors, retraining the IVF when there are enough vectors."""
        with self._lock, self.db.read_connection() as conn:
            return self._rebuild(conn)

    def remove(self, keys: Sequence[int] | IntArray) -> int:
        """Drop vectors from the index (after their rows were deleted); returns how many it held."""
        with self._lock:
            return self._remove(np.asarray(keys, dtype=np.int64))

    def _wants_rebuild(self, total: int) -> bool:
        if self._kind == "flat":
            return total >= self.ivf_min_vectors
        return total < self.ivf_min_vectors // 2 or total >= RETRAIN_GROWTH * self._trained_for

    def _rebuild(self, conn: Connection) -> SyncResult:
        # Built aside and swapped in at the end: a failure leaves the current index as it was.
        before = len(self._table)
        rows = self._read(conn, None)
        table = _Table()
        table.append(rows.keys, rows.cams, rows.ts, rows.vectors)
        kind: Kind = "ivf" if len(table) >= self.ivf_min_vectors else "flat"
        if kind == "ivf":
            index = self._train_ivf(table.vectors, table.keys)
        else:
            index = faiss.IndexIDMap2(faiss.IndexFlatL2(DIM))
            index.add_with_ids(table.vectors, table.keys)
        self._table, self._index, self._kind = table, index, kind
        self._trained_for = len(table) if kind == "ivf" else 0
        self._watermark = int(table.keys[-1]) if len(table) else 0
        self._watermark_sighting = rows.last_sighting
        log.info("face index rebuilt: %d vectors, %s", len(table), kind)
        return SyncResult(added=len(table), removed=before, rebuilt=True)

    def _train_ivf(self, vectors: FloatArray, keys: IntArray) -> Any:
        n = len(keys)
        nlist = max(1, min(self.nlist_max, int(4 * math.sqrt(n)), n // IVF_TRAIN_PER_LIST))
        quantizer = faiss.IndexFlatL2(DIM)
        index = faiss.IndexIVFFlat(quantizer, DIM, nlist, faiss.METRIC_L2)
        index.cp.niter = IVF_TRAIN_ITERATIONS
        # A fixed seed: the same vectors give the same lists, so rebuilds are reproducible.
        sample = np.random.default_rng(0).choice(n, size=min(n, IVF_TRAIN_PER_LIST * nlist), replace=False)
        index.train(np.ascontiguousarray(vectors[np.sort(sample)]))
        index.add_with_ids(vectors, keys)
        return index

    def _reconcile(self, conn: Connection) -> tuple[int, int]:
        """Compare key sets at or below the watermark and correct the index both ways."""
        db_keys = np.fromiter(
            conn.scalars(select(FaceVectorRow.key).where(FaceVectorRow.key <= self._watermark)), np.int64
        )
        removed = self._remove(np.setdiff1d(self._table.keys, db_keys, assume_unique=True))
        missing = np.setdiff1d(db_keys, self._table.keys, assume_unique=True)
        added = 0
        for start in range(0, len(missing), IN_CHUNK):
            part = [int(k) for k in missing[start : start + IN_CHUNK]]
            rows = self._read(conn, FaceVectorRow.key.in_(part))
            self._add(rows, track_watermark=False)
            added += len(rows.keys)
        if removed or added:
            log.info("face index reconciled with the database: %d removed, %d added", removed, added)
        return removed, added

    def _read(self, conn: Connection, where: Any) -> _Rows:
        """The face_vectors rows matching `where` (all if None), in key order, read in chunks."""
        query = select(*_ROW_COLUMNS).order_by(FaceVectorRow.key)
        if where is not None:
            query = query.where(where)
        result = conn.execution_options(yield_per=READ_CHUNK).execute(query)
        chunks = [_rows(chunk) for chunk in result.partitions()]
        if len(chunks) == 1:
            return chunks[0]
        # Joined once at the end: appending chunk by chunk would copy the table once per chunk.
        return _Rows(
            keys=np.concatenate([c.keys for c in chunks]) if chunks else np.zeros(0, np.int64),
            cams=[cam for c in chunks for cam in c.cams],
            ts=np.concatenate([c.ts for c in chunks]) if chunks else np.zeros(0, np.int64),
            vectors=np.concatenate([c.vectors for c in chunks]) if chunks else np.zeros((0, DIM), np.float32),
            last_sighting=chunks[-1].last_sighting if chunks else "",
        )

    def _add(self, rows: _Rows, *, track_watermark: bool = True) -> None:
        if not len(rows.keys):
            return
        self._table.append(rows.keys, rows.cams, rows.ts, rows.vectors)
        self._index.add_with_ids(rows.vectors, rows.keys)
        if track_watermark and int(rows.keys[-1]) > self._watermark:
            self._watermark = int(rows.keys[-1])
            self._watermark_sighting = rows.last_sighting

    def _remove(self, keys: IntArray) -> int:
        if not len(keys):
            return 0
        gone = self._table.remove(keys)
        if len(gone):
            self._index.remove_ids(np.ascontiguousarray(gone, dtype=np.int64))
        return len(gone)

    # ------------------------------------------------------------ files

    def save(self) -> None:
        """Write the index and its sidecar, each to a temporary file renamed into place."""
        with self._lock:
            self.index_path.parent.mkdir(parents=True, exist_ok=True)
            token = uuid.uuid4().hex
            table = self._table
            arrays: dict[str, Any] = {
                "token": np.array(token),
                "keys": table.keys,
                "cams": table.cams,
                "ts": table.ts,
                "vectors": table.vectors,
                "camera_names": np.array(table.camera_names, dtype=str),
            }
            if self._kind == "ivf":
                arrays["faiss"] = faiss.serialize_index(self._index)
            tmp = self.index_path.with_name(self.index_path.name + ".tmp")
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.index_path)
            sidecar = {
                "format": FORMAT,
                "dim": DIM,
                "token": token,
                "count": len(table),
                "watermark": self._watermark,
                "watermark_sighting": self._watermark_sighting,
                "kind": self._kind,
                "trained_for": self._trained_for,
            }
            tmp_sidecar = self.sidecar_path.with_name(self.sidecar_path.name + ".tmp")
            tmp_sidecar.write_text(json.dumps(sidecar, indent=1))
            os.replace(tmp_sidecar, self.sidecar_path)

    def load(self) -> None:
        """Replace the in-memory index with the saved one; FaceIndexError if the files cannot be used."""
        with self._lock:
            meta = self._read_sidecar()
            try:
                with np.load(self.index_path, allow_pickle=False) as data:
                    if str(data["token"]) != meta["token"]:
                        raise FaceIndexError(
                            f"face index {self.index_path} and its sidecar {self.sidecar_path.name} are from "
                            "different saves"
                        )
                    table = _Table()
                    table.keys = np.asarray(data["keys"], np.int64)
                    table.cams = np.asarray(data["cams"], np.int32)
                    table.ts = np.asarray(data["ts"], np.int64)
                    table.vectors = np.ascontiguousarray(data["vectors"], np.float32)
                    table.set_camera_names([str(c) for c in data["camera_names"]])
                    blob = data["faiss"] if meta["kind"] == "ivf" else None
                    index = faiss.deserialize_index(blob) if blob is not None else None
            except FaceIndexError:
                raise
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, RuntimeError) as exc:
                raise FaceIndexError(f"face index {self.index_path} is corrupt or unreadable: {exc}") from exc
            n = len(table)
            shapes_ok = (
                table.vectors.shape == (n, DIM)
                and table.cams.shape == table.ts.shape == (n,)
                and (n == 0 or int(table.cams.max()) < len(table.camera_names))
            )
            if not shapes_ok or n != meta["count"] or (index is not None and index.ntotal != n):
                raise FaceIndexError(
                    f"face index {self.index_path} does not hold the {meta['count']} vectors it should"
                )
            if n and (int(table.keys[-1]) > meta["watermark"] or bool(np.any(np.diff(table.keys) <= 0))):
                raise FaceIndexError(
                    f"face index {self.index_path} has keys out of order or above its watermark"
                )
            if index is None:
                index = faiss.IndexIDMap2(faiss.IndexFlatL2(DIM))
                index.add_with_ids(table.vectors, table.keys)
            self._table = table
            self._index = index
            self._kind = meta["kind"]
            self._trained_for = meta["trained_for"]
            self._watermark = meta["watermark"]
            self._watermark_sighting = meta["watermark_sighting"]

    def _read_sidecar(self) -> dict[str, Any]:
        try:
            meta = json.loads(self.sidecar_path.read_text())
        except FileNotFoundError:
            raise FaceIndexError(f"face index sidecar {self.sidecar_path} is missing") from None
        except (OSError, ValueError) as exc:
            raise FaceIndexError(f"face index sidecar {self.sidecar_path} is unreadable: {exc}") from exc
        expected = {
            "format": int,
            "dim": int,
            "token": str,
            "count": int,
            "watermark": int,
            "watermark_sighting": str,
            "kind": str,
            "trained_for": int,
        }
        if not isinstance(meta, dict) or any(not isinstance(meta.get(k), t) for k, t in expected.items()):
            raise FaceIndexError(f"face index sidecar {self.sidecar_path} lacks fields or has wrong types")
        if meta["format"] != FORMAT or meta["dim"] != DIM or meta["kind"] not in ("flat", "ivf"):
            raise FaceIndexError(
                f"face index sidecar {self.sidecar_path} is format {meta['format']}, {meta['dim']}-d, "
                f"{meta['kind']}; this code reads format {FORMAT}, {DIM}-d"
            )
        return meta

    # ------------------------------------------------------------ search

    def search(
        self,
        vector: Sequence[float] | npt.NDArray[np.floating],
        k: int,
        camera_ids: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        exclude_keys: Sequence[int] = (),
    ) -> list[FaceSearchHit]:
        """The k stored sightings nearest to `vector`, nearest first; filters: cameras, since <= ts < until,
        and not the vectors of `exclude_keys` (kept for a reason that has ended, not yet swept).

        Unknown cameras match nothing; an empty index or filter gives no hits.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if query.shape != (DIM,) or not np.isfinite(query).all():
            raise ValueError(f"a face search needs {DIM} finite values, got shape {np.asarray(vector).shape}")
        if isinstance(camera_ids, str):
            raise ValueError("camera_ids must be a list of camera ids, not one string")
        since_us = None if since is None else _micros(since)
        until_us = None if until is None else _micros(until)
        excluded = np.asarray(exclude_keys, dtype=np.int64)
        filtered = camera_ids is not None or since_us is not None or until_us is not None or len(excluded) > 0
        with self._lock, _one_thread():
            hits: list[FaceSearchHit] = []
            for _ in range(MAX_STALE_RETRIES + 1):
                if filtered:
                    mask = self._table.mask(camera_ids, since_us, until_us)
                    if len(excluded):
                        mask &= ~np.isin(self._table.keys, excluded)
                    keys = self._filtered(query, k, mask)
                else:
                    keys = self._unfiltered(query, k)
                hits, stale = self._hits(query, keys, k)
                if not len(stale):
                    break
                # Deleted from the database since the last sync: drop them and ask again.
                self._remove(stale)
            return hits

    def _unfiltered(self, query: FloatArray, k: int) -> IntArray:
        n = len(self._table)
        if n == 0:
            return np.zeros(0, np.int64)
        want = min(k, n)
        if self._kind == "flat":
            _, ids = self._index.search(query[None, :], want)
            return np.asarray(ids[0][ids[0] >= 0], np.int64)
        nlist = int(self._index.nlist)
        nprobe = min(self.nprobe, nlist)
        while True:
            _, ids = self._index.search(query[None, :], want, params=_ivf_params(nprobe))
            found = ids[0][ids[0] >= 0]
            if len(found) >= want or nprobe >= nlist:
                return np.asarray(found, np.int64)
            nprobe = min(nlist, nprobe * 2)

    def _filtered(self, query: FloatArray, k: int, mask: npt.NDArray[np.bool_]) -> IntArray:
        table = self._table
        rows = np.flatnonzero(mask)
        if len(rows) == 0:
            return np.zeros(0, np.int64)
        if len(rows) <= self.exact_max:
            # Selective filter: score every candidate exactly. FAISS's brute force on the gathered
            # rows runs on this thread with SIMD; numpy's matrix product would hand 2 cores to BLAS
            # threads, which wait for their turn when the cores are busy (8 ms instead of 2).
            # The best 2k go to `_hits`, which measures them again in float64.
            _, found = faiss.knn(query[None, :], table.vectors[rows], min(len(rows), 2 * k))
            best = np.asarray(found[0], np.int64)
            return table.keys[rows[best[best >= 0]]]
        if self._kind == "flat":
            # A hash set of the passing keys; the scan skips every other vector without scoring it.
            passing = np.ascontiguousarray(table.keys[rows])
            selector = faiss.IDSelectorBatch(len(passing), faiss.swig_ptr(passing))
            _, ids = self._index.search(query[None, :], min(k, len(rows)), params=_selector_params(selector))
            return np.asarray(ids[0][ids[0] >= 0], np.int64)
        return self._ivf_filtered(query, k, mask)

    def _ivf_filtered(self, query: FloatArray, k: int, mask: npt.NDArray[np.bool_]) -> IntArray:
        """Over-fetch from the IVF and keep what passes the filter, widening until k pass."""
        table = self._table
        n = len(table)
        nlist = int(self._index.nlist)
        nprobe = min(self.nprobe, nlist)
        fetch = min(n, k * self.oversample)
        while True:
            params = _ivf_params(nprobe)
            _, ids = self._index.search(query[None, :], fetch, params=params)
            found = np.asarray(ids[0][ids[0] >= 0], np.int64)
            passing = found[mask[table.positions(found)]]
            if len(passing) >= k:
                return passing[:k]
            if len(found) < fetch:  # the probed lists are exhausted: read more of them
                if nprobe >= nlist:
                    return passing
                nprobe = min(nlist, nprobe * 2)
            elif fetch >= n:
                return passing
            else:
                fetch = min(n, fetch * self.oversample)

    def _hits(self, query: FloatArray, keys: IntArray, k: int) -> tuple[list[FaceSearchHit], IntArray]:
        """Hits of `keys` (exact distances, nearest first, at most k) and the keys gone from the database."""
        if not len(keys):
            return [], np.zeros(0, np.int64)
        table = self._table
        rows = table.positions(keys)
        diff = table.vectors[rows].astype(np.float64) - query.astype(np.float64)
        distances = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        order = np.lexsort((keys, distances))[:k]
        chosen = [int(keys[i]) for i in order]
        with self.db.read_connection() as conn:
            found = {int(r.key): r for r in conn.execute(_HIT_QUERY, {"keys": chosen})}
        hits = [
            FaceSearchHit(
                sighting_id=r.id,
                camera_id=r.camera_id,
                timestamp=r.ts,
                distance=float(distances[i]),
                snapshot=r.snapshot,
                bbox=BBox(r.x, r.y, r.w, r.h),
                track_id=r.track_id,
            )
            for i in order
            if (r := found.get(int(keys[i]))) is not None
        ]
        stale = np.array([key for key in chosen if key not in found], np.int64)
        return hits, stale
