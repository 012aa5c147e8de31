"""Scratch PostgreSQL databases for tests and benchmarks: create a uniquely named one, drop it after.

Dropping retries briefly: right after a bulk load, PostgreSQL's autovacuum may be working in the
database, and a non-superuser may not terminate that worker (DROP ... WITH (FORCE) refuses).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError

DROP_ATTEMPTS = 40
DROP_RETRY_S = 0.25


@contextmanager
def scratch_database(admin_url: str, prefix: str = "safecity_scratch") -> Iterator[str]:
    """Create an empty database next to `admin_url`'s, yield its URL, drop it on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            _drop(admin_url, name)
    finally:
        admin.dispose()


def server_answers(url: str) -> bool:
    """True when a database server accepts a connection at `url` (benchmarks skip it otherwise)."""
    engine = create_engine(url)
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def _drop(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(DROP_ATTEMPTS):
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                return
            except DBAPIError:
                if attempt == DROP_ATTEMPTS - 1:
                    raise
                time.sleep(DROP_RETRY_S)
    finally:
        admin.dispose()
