"""Wake-ups for new alerts from PostgreSQL's LISTEN/NOTIFY (migration 0009's trigger).

`AlertListener` holds one connection that LISTENs on `CHANNEL` in a thread of its own and calls
`on_alert` for every notification, so that several API replicas push an alert as soon as any
process commits it. When the connection drops (the server restarts), it reconnects with backoff
and calls `on_alert` once on reconnecting: whatever was stored meanwhile is then read by the
feeds, which follow `alerts.raised_at` and never rely on the notification's payload. On SQLite
it does nothing: there the feeds poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from safecity.store.database import Database

log = logging.getLogger(__name__)

CHANNEL = "safecity_alerts"
_WAIT_S = 1.0
"""How long one wait for notifications lasts before the stop flag is looked at again."""
_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)


class AlertListener:
    """LISTEN on PostgreSQL in a daemon thread; `on_alert()` is called from that thread."""

    def __init__(self, db: Database, on_alert: Callable[[], None]) -> None:
        self.db = db
        self.on_alert = on_alert
        self.enabled = not db.is_sqlite
        self.notifications = 0
        self.reconnects = 0
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> AlertListener:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="alert-listener", daemon=True)
            self._thread.start()
        return self

    def wait_listening(self, timeout: float) -> bool:
        """True once the LISTEN is in place (always False on SQLite)."""
        return self._listening.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2 * _WAIT_S + 1)

    def _dsn(self) -> str:
        return self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def _run(self) -> None:
        import psycopg

        failures = 0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn(), autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    if failures:
                        self.reconnects += 1
                        self.on_alert()  # catch up with what was stored while the connection was down
                    failures = 0
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=_WAIT_S):
                            self.notifications += 1
                            self.on_alert()
            except Exception as exc:  # the server went away: listen again once it is back
                self._listening.clear()
                delay = _BACKOFF_S[min(failures, len(_BACKOFF_S) - 1)]
                failures += 1
                log.warning("alert listener: %s; listening again in %.1f s", exc, delay)
                self._stop.wait(delay)
