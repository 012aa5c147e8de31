"""The writer across a PostgreSQL restart: it keeps its batch, retries, and nothing committed is lost.

A private server (tests/pg_server.py) is stopped and started under a steady stream of
observations; the shared test server stays up for everything else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from factories import camera, motion_track, site
from pg_server import PrivatePostgres, binaries
from services import need_service
from sqlalchemy import func, select

from safecity.config import StoreSettings
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import MotionTrackRow
from safecity.store.writer import ObservationWriter, WriterError

RETRY = {"write_retry_initial_s": 0.05, "write_retry_cap_s": 0.3}


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    bin_dir = binaries()
    if bin_dir is None:
        need_service("PostgreSQL binaries not installed (/usr/lib/postgresql/*/bin); see .ci/postgres-up")
        return
    pg = PrivatePostgres(bin_dir)
    pg.start()
    try:
        yield pg
    finally:
        pg.close()


@pytest.fixture
def db(server: PrivatePostgres) -> Iterator[Database]:
    database = Database.connect(server.url)
    database.upgrade()
    CameraStore(database).save([site()], [camera("cam-1")])
    yield database
    database.close()


def stored(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(MotionTrackRow)) or 0)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)  # the writer thread raises no event for a failed try


def test_a_restart_under_load_loses_nothing(server: PrivatePostgres, db: Database) -> None:
    writer = ObservationWriter(db, StoreSettings(batch_size=25, flush_interval_s=0.05, **RETRY))
    done = threading.Event()

    def load() -> None:  # 2,000 observations at a steady pace while the server goes down and up
        for i in range(2000):
            writer.submit(motion_track(offset_s=i))
            if i % 50 == 0:
                time.sleep(0.01)
        done.set()

    producer = threading.Thread(target=load)
    producer.start()
    wait_for(lambda: stored(db) > 200, 60, "observations stored before the restart")
    server.stop()
    wait_for(lambda: writer.stats.retries >= 2, 60, "the writer retrying while the server is down")
    server.start()
    producer.join()
    writer.flush()
    writer.close()
    assert done.is_set()
    assert stored(db) == 2000
    assert writer.stats.failed_batches == 0 and writer.stats.retries >= 2


def test_an_outage_longer_than_the_give_up_time_stops_the_writer_and_keeps_what_was_stored(
    server: PrivatePostgres, db: Database
) -> None:
    settings = StoreSettings(batch_size=10, flush_interval_s=60, write_retry_give_up_s=0.5, **RETRY)
    writer = ObservationWriter(db, settings)
    writer.submit_many([motion_track(offset_s=i) for i in range(10)])
    writer.flush()
    server.stop()
    writer.submit_many([motion_track(offset_s=100 + i) for i in range(10)])
    with pytest.raises(WriterError, match="observation writer stopped"):
        writer.flush()
    server.start()
    assert stored(db) == 10


def test_a_refused_batch_is_not_retried(server: PrivatePostgres, db: Database) -> None:
    """Only an unreachable server is waited out; a batch the database refuses fails at once."""
    writer = ObservationWriter(db, StoreSettings(batch_size=10, flush_interval_s=60, **RETRY))
    writer.submit(motion_track("no-such-camera"))
    with pytest.raises(WriterError, match=r"(?i)foreign key"):
        writer.flush()
    assert writer.stats.retries == 0
