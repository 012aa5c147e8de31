"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, paths to ../shared/data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from services import need_service
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import OperationalError

from safecity.store.database import Database
from safecity.store.scratch import scratch_database

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_PG_URL = "postgresql+psycopg://safecity:safecity@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get("SAFECITY_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    engine = create_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        need_service(f"PostgreSQL not reachable at {make_url(url).render_as_string()}: {exc.orig}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with scratch_database(postgres_admin_url, "safecity_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL on each backend the store supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'safecity.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A database migrated to head, on each backend."""
    database = Database.connect(database_url)
    database.upgrade()
    yield database
    database.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(f"sqlite:///{tmp_path / 'safecity.db'}")
    yield database
    database.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def cli_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the CLI in `tmp_path` on its own embedded store, whatever the caller's environment says."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAFECITY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("SAFECITY_DATABASE_URL", raising=False)
    monkeypatch.delenv("SAFECITY_CONFIG", raising=False)
    return tmp_path
