"""Opening the database: engine per URL (SQLite in WAL mode or PostgreSQL), sessions and migrations.

The schema is owned by Alembic; `Database.open` brings an embedded SQLite file up to date on its
own so that `make demo` needs no separate step, while a shared PostgreSQL is migrated explicitly
with `safecity db upgrade` (several replicas must not race to migrate it).

Transactions on SQLite are real and serialised. Python's sqlite3 driver by default opens a
transaction only at the first INSERT/UPDATE/DELETE, so a read-then-write (the audit chain reads the
last hash, then appends) runs its read outside any lock and two writers fork the chain; and a
deferred transaction that read first fails with "database is locked" when it tries to write after
another writer committed. So the driver's own transaction handling is switched off and every
`session()` starts with `BEGIN IMMEDIATE`: it takes SQLite's write lock up front and waits for it
(`store.sqlite_busy_timeout_ms`), in turn behind a lock per process so threads queue in order
instead of polling. Pure reads use `read_session()`: a plain `BEGIN`, a consistent snapshot that
never waits for writers (WAL). PostgreSQL needs neither; its writers that must be serialised take
advisory locks (the audit log).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from safecity.config import StoreSettings, redact_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class StoreError(Exception):
    """The database cannot be opened, reached or migrated; the message says which and why."""


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs (psycopg2 is not a dependency)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL {redact_url(url)!r}: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        # WAL lets readers (API, CLI) work while the single writer commits batches.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()
        # The driver must not open (or fail to open) transactions behind our back: `_sqlite_begin` does.
        dbapi_conn.isolation_level = None

    return on_connect


READ_ONLY = "safecity_read_only"
"""Execution option of `Database.read_session()` connections: begin a deferred (snapshot) transaction."""


def _sqlite_begin(conn: Any) -> None:
    """Start every SQLite transaction explicitly: IMMEDIATE (the write lock) unless marked read-only."""
    read_only = bool(conn.get_execution_options().get(READ_ONLY))
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_db_engine(url: str, settings: StoreSettings | None = None) -> Engine:
    settings = settings or StoreSettings()
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas(settings.sqlite_busy_timeout_ms))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            url, pool_pre_ping=True, pool_size=settings.pg_pool_size, max_overflow=settings.pg_max_overflow
        )
    raise StoreError(f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql")


def alembic_config(engine: Engine) -> Config:
    # Alembic is imported only when the schema is touched: it costs a quarter second at start-up.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


@dataclass
class Database:
    """An engine plus its session factory; the one handle every store module takes."""

    engine: Engine
    sessions: sessionmaker[Session]
    settings: StoreSettings = field(default_factory=StoreSettings)
    readers: sessionmaker[Session] | None = None
    """Sessions for pure reads (deferred transactions on SQLite); None: the same as `sessions`."""
    _write_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @classmethod
    def connect(cls, url: str, settings: StoreSettings | None = None) -> Database:
        settings = settings or StoreSettings()
        engine = create_db_engine(url, settings)
        readers = sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
        return cls(
            engine=engine,
            sessions=sessionmaker(engine, expire_on_commit=False),
            settings=settings,
            readers=readers,
        )

    @classmethod
    def reach(cls, url: str, settings: StoreSettings | None = None) -> Database:
        """Connect and check that the server answers; StoreError with the (redacted) URL if not."""
        db = cls.connect(url, settings)
        try:
            with db.engine.connect():
                pass
        except OperationalError as exc:
            db.close()
            raise StoreError(f"cannot reach database {redact_url(url)}: {exc.orig}") from exc
        return db

    @classmethod
    def open(cls, url: str, settings: StoreSettings | None = None, *, migrate: bool = True) -> Database:
        """Connect and check the server answers; a SQLite file is migrated to head when `migrate` is set.

        PostgreSQL is never migrated here: a shared database may serve several processes, so it is
        migrated once, explicitly, with `safecity db upgrade`; a schema behind the code is refused.
        """
        db = cls.reach(url, settings)
        if migrate and db.is_sqlite:
            db.upgrade()
        elif db.current_revision() != db.head_revision():
            current = db.current_revision() or "empty"
            db.close()
            raise StoreError(
                f"database {redact_url(url)} is at revision {current}, code expects "
                f"{db.head_revision()}; run `safecity db upgrade`"
            )
        return db

    @property
    def is_sqlite(self) -> bool:
        return self.engine.url.get_backend_name() == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction that may write: committed on success, rolled back on any error.

        On SQLite it holds the write lock from its start (see the module docstring), so keep it short.
        """
        depth: int = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            if self.is_sqlite and depth:
                # Opened inside another write session of this thread (a store helper called within
                # a gated read): it cannot have the write lock its caller holds, so it is a reader;
                # what must be written whatever the outer transaction does goes `after_transaction`.
                with self.read_session() as session:
                    yield session
            elif self.is_sqlite:
                with self._write_lock, self.sessions.begin() as session:
                    yield session
            else:
                with self.sessions.begin() as session:
                    yield session
        finally:
            self._local.depth = depth
            if depth == 0:
                self._run_after_transaction()

    def read_connection(self) -> Connection:
        """A connection for reads only (deferred transactions on SQLite, see `read_session`)."""
        return self.engine.execution_options(**{READ_ONLY: True}).connect()

    def after_transaction(self, work: Callable[[], object]) -> None:
        """Run `work` once this thread's open write session has ended (committed or rolled back), or now.

        For what must be written whatever becomes of the transaction around it: the record of a
        refusal raised from inside a read, whose transaction is then rolled back.
        """
        if getattr(self._local, "depth", 0):
            pending: list[Callable[[], object]] = self._local.__dict__.setdefault("pending", [])
            pending.append(work)
        else:
            work()

    def _run_after_transaction(self) -> None:
        pending: list[Callable[[], object]] = self._local.__dict__.pop("pending", [])
        for work in pending:
            work()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reads only: one consistent snapshot that never waits for a writer.

        Writing in it may fail on SQLite ("database is locked") when another writer committed since
        it began: anything that writes uses `session()`.
        """
        with (self.readers or self.sessions).begin() as session:
            yield session

    def upgrade(self, revision: str = "head") -> None:
        """Migrate up, then (PostgreSQL) create the coming months' observation partitions; one transaction."""
        from alembic import command

        from safecity.store.partitions import ensure_partitions

        with self.engine.begin() as conn:
            cfg = alembic_config(self.engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            ensure_partitions(conn, self.settings.partition_months_ahead)

    def downgrade(self, revision: str = "base") -> None:
        from alembic import command

        with self.engine.begin() as conn:
            cfg = alembic_config(self.engine)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(alembic_config(self.engine)).get_current_head()

    def close(self) -> None:
        self.engine.dispose()
