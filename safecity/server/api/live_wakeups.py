"""The live feeds of one API process waiting for new alerts, and what wakes them.

Each WebSocket feed waits on an `asyncio.Event` of its own for at most `api.live_poll_s`. On
PostgreSQL an `AlertListener` (LISTEN/NOTIFY) sets every feed's event as soon as any process
commits an alert, so an alert reaches the screens of every API replica at once; on SQLite, or
while the listener reconnects, the poll interval alone paces the feeds.
"""

from __future__ import annotations

import asyncio
import threading

from safecity.store.alert_notify import AlertListener
from safecity.store.database import Database


class LiveWakeups:
    """Registers waiting feeds (their event and loop) and wakes them all on a notification."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._waiting: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}
        self._listener: AlertListener | None = None

    @property
    def listener(self) -> AlertListener | None:
        return self._listener

    def register(self) -> asyncio.Event:
        """A new feed's event (call from the feed's event loop); starts the listener on first use."""
        event = asyncio.Event()
        with self._lock:
            self._waiting[event] = asyncio.get_running_loop()
            if self._listener is None and not self._db.is_sqlite:
                self._listener = AlertListener(self._db, self.wake).start()
        return event

    def unregister(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiting.pop(event, None)

    def wake(self) -> None:
        """Set every waiting feed's event (from any thread)."""
        with self._lock:
            waiting = list(self._waiting.items())
        for event, loop in waiting:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def close(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()


async def wait(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait for a wake-up or the timeout; True when woken. The event is cleared for the next wait."""
    try:
        await asyncio.wait_for(event.wait(), timeout=timeout_s)
        woken = True
    except TimeoutError:
        woken = False
    event.clear()
    return woken
