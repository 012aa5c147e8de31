"""The single observation writer: batches observations and commits each batch in one transaction.

Analysers hand observations to `ObservationWriter.submit`; a background thread commits them in
batches of `batch_size` or after `flush_interval_s`, whichever comes first. A batch lands whole
or not at all.

Writes are idempotent: observation ids follow from what was observed (`types.observation_id`)
and rows are inserted or ignored, so a batch written twice (a retry whose first commit did land
after all, a cluster actor re-analysing a recording after a restart) is stored once.

Snapshot files can travel with the observations (`submit_many(..., files=)`, the JPEGs that
`media.StagedSnapshots` kept): the writer writes a batch's files just before its transaction
and deletes the ones it created when the batch fails, so no file is left without its row
(a crash between the two leaves files that the retention sweep removes as orphans).

When the database goes away (a PostgreSQL restart, a network cut) the writer keeps the batch
and tries it again with capped exponential backoff for up to `store.write_retry_give_up_s`;
observations handed over meanwhile wait in its queue. Any other failure, or an outage longer
than that, stops the writer and the error is raised to the caller on the next `submit`,
`flush` or `close`, so no failure passes silently.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from safecity.config import StoreSettings
from safecity.sources.backoff import Backoff
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.observations import RowTable, group_rows
from safecity.types import Observation

log = logging.getLogger(__name__)


class WriterError(RuntimeError):
    """A batch could not be committed; nothing of that batch is in the store."""


def write_batch(db: Database, observations: Sequence[Observation]) -> int:
    """Commit observations in one transaction; returns how many were written.

    One executemany per table; a face sighting's embedding goes to face_vectors in the same
    transaction, after the sightings it refers to (see `group_rows`). Rows already stored (same
    id) are left as they are: writing a batch again changes nothing.
    """
    if not observations:
        return 0
    grouped = group_rows(observations)
    with db.session() as session:
        for table, rows in grouped.items():
            session.execute(insert_or_ignore(db, table), rows)
    return len(observations)


def insert_or_ignore(db: Database, table: RowTable) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING` for the database's dialect (SQLite and PostgreSQL both have it)."""
    dialect = postgresql if not db.is_sqlite else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def is_disconnect(db: Database, exc: BaseException) -> bool:
    """True when the error says the server could not be reached, not that the batch was refused.

    SQLite is a local file: its operational errors (no such table, disk full) do not pass by
    waiting, so only a server database's are worth a retry.
    """
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or (
        not db.is_sqlite and isinstance(exc, OperationalError | InterfaceError)
    )


@dataclass
class WriterStats:
    written: int = 0
    batches: int = 0
    failed_batches: int = 0
    retries: int = 0
    """Tries of a batch that failed because the database was unreachable and were made again."""


_Queued = tuple[Observation, bytes | None]
"""An observation on the writer's queue, with the snapshot JPEG to write with it (if any)."""
_STOP = object()
_FLUSH = "flush"


class ObservationWriter:
    """One writer thread per process; the only code path that inserts observations."""

    def __init__(self, db: Database, settings: StoreSettings, *, media: MediaStore | None = None) -> None:
        self.db = db
        self.media = media
        self.batch_size = settings.batch_size
        self.flush_interval_s = settings.flush_interval_s
        cap_s = max(settings.write_retry_cap_s, settings.write_retry_initial_s)
        self.backoff = Backoff(settings.write_retry_initial_s, 2.0, cap_s)
        self.give_up_s = settings.write_retry_give_up_s
        self.stats = WriterStats()
        self._queue: queue.Queue[object] = queue.Queue()
        self._error: BaseException | None = None
        self._flushed = threading.Condition()
        self._flush_requests = 0
        self._flushes_done = 0
        self._thread = threading.Thread(target=self._run, name="observation-writer", daemon=True)
        self._thread.start()

    def submit(self, observation: Observation) -> None:
        self._raise_if_failed()
        self._queue.put((observation, None))

    def submit_many(
        self, observations: Sequence[Observation], files: Mapping[str, bytes] | None = None
    ) -> None:
        """Queue observations; `files` are snapshot JPEGs by reference, written with the rows that
        name them (bytes no observation names are dropped)."""
        self._raise_if_failed()
        if files and self.media is None:
            raise ValueError("snapshot files were handed to a writer without a media store")
        for obs in observations:
            self._queue.put((obs, files.get(obs.snapshot) if files and obs.snapshot else None))

    def flush(self) -> None:
        """Block until everything submitted so far is committed (or has failed)."""
        with self._flushed:
            self._flush_requests += 1
            ticket = self._flush_requests
            self._queue.put(_FLUSH)
            self._flushed.wait_for(lambda: self._flushes_done >= ticket or not self._thread.is_alive())
        self._raise_if_failed()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._raise_if_failed()

    def __enter__(self) -> ObservationWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise WriterError(f"observation writer stopped: {self._error}") from self._error

    def _write_files(self, batch: list[Observation], files: dict[str, bytes]) -> list[str]:
        """Write the batch's snapshot files; the references of files created (not rewritten).

        A file that cannot be written loses its reference (the row is kept without a snapshot)
        rather than the batch: a full disk must not stop storing observations.
        """
        created: list[str] = []
        if not files or self.media is None:
            return created
        failed: set[str] = set()
        for ref, data in files.items():
            try:
                if self.media.write(ref, data):
                    created.append(ref)
            except (OSError, ValueError) as exc:
                log.error(
                    "snapshot %s could not be written; its observations are stored without: %s", ref, exc
                )
                failed.add(ref)
        if failed:
            batch[:] = [replace(o, snapshot="") if o.snapshot in failed else o for o in batch]
        return created

    def _remove_files(self, refs: Sequence[str]) -> None:
        if self.media is None:  # no media store: `_write_files` wrote nothing
            return
        for ref in refs:
            try:
                self.media.delete(ref)
            except (OSError, ValueError) as exc:  # left to the retention sweep's orphan pass
                log.warning("snapshot %s of a failed batch could not be removed: %s", ref, exc)

    def _commit(self, batch: list[Observation], files: dict[str, bytes] | None = None) -> None:
        if not batch or self._error is not None:
            batch.clear()
            if files is not None:
                files.clear()
            return
        # Files just before the rows: a snapshot never exists without its row, except for the
        # moment before the commit (and after a crash in that moment, until retention's orphan pass).
        created = self._write_files(batch, files or {})
        if files is not None:
            files.clear()
        failures = 0
        started = time.monotonic()
        while True:
            try:
                self.stats.written += write_batch(self.db, batch)
                self.stats.batches += 1
                break
            except Exception as exc:  # the error is re-raised to the submitter, see _raise_if_failed
                if is_disconnect(self.db, exc) and time.monotonic() - started < self.give_up_s:
                    delay = self.backoff.delay(failures, random.random())
                    failures += 1
                    self.stats.retries += 1
                    log.warning(
                        "database unreachable, %d observations kept; try %d in %.1f s: %s",
                        len(batch),
                        failures + 1,
                        delay,
                        getattr(exc, "orig", exc),
                    )
                    time.sleep(delay)
                    continue
                self.stats.failed_batches += 1
                self._error = exc
                self._remove_files(created)
                break
        batch.clear()

    def _run(self) -> None:
        batch: list[Observation] = []
        files: dict[str, bytes] = {}
        deadline = time.monotonic() + self.flush_interval_s
        while True:
            timeout = max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._commit(batch, files)
                deadline = time.monotonic() + self.flush_interval_s
                continue
            if item is _STOP:
                self._commit(batch, files)
                with self._flushed:
                    self._flushes_done = self._flush_requests
                    self._flushed.notify_all()
                return
            if item == _FLUSH:
                self._commit(batch, files)
                with self._flushed:
                    self._flushes_done += 1
                    self._flushed.notify_all()
                deadline = time.monotonic() + self.flush_interval_s
                continue
            obs, data = cast(_Queued, item)
            batch.append(obs)
            if data is not None:
                files[obs.snapshot] = data
            if len(batch) >= self.batch_size:
                self._commit(batch, files)
                deadline = time.monotonic() + self.flush_interval_s
