"""Egress guard: which network destinations the configuration allows, and what the process really contacts.

This module owns three things:

* `allowed_destinations`: every host and port the configuration names — the database server,
  each enabled camera's stream, the Ray cluster's head when analysis runs on a cluster, and the
  listening address of `safecity serve`'s /metrics and
  /status endpoint. Nothing else may be contacted: no telemetry, no update or licence check, no
  model download.
* `EgressRecorder`: records every outbound attempt made through Python's `socket` module in this
  process (connect, sendto, name lookup) with an audit hook (`sys.addaudithook`, PEP 578).
* `check`: the recorded attempts that no allowed destination covers.

Limits, stated plainly: audit hooks see Python-level sockets only. Connections opened inside C
libraries (libpq under psycopg, FFmpeg under PyAV for RTSP) do not raise audit events; those go
only to the database and stream URLs they are given, which `allowed_destinations` lists. Worker
processes are separate interpreters with their own (absent) hooks, so an in-process recording
covers the code paths the workers run, not the workers themselves.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from safecity.config import Settings, redact_url
from safecity.types import Camera

STREAM_DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
"""Port a stream URL uses when it names none (IANA assignments)."""

DATABASE_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "mssql": 1433, "oracle": 1521}
"""Port a database URL uses when it names none, by SQLAlchemy backend name."""

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "::1"})


class EgressConfigError(ValueError):
    """A configured URL whose network destination cannot be worked out."""


@dataclass(frozen=True, slots=True)
class Destination:
    """One host and port the configuration names, and why; `listen` marks a socket we serve on."""

    host: str
    port: int
    why: str
    listen: bool = False

    def __str__(self) -> str:
        direction = "listen on" if self.listen else "connect to"
        return f"{direction} {_host_port(self.host, self.port)}  ({self.why})"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One recorded network attempt: `kind` is connect, sendto or resolve; `host` a name or address.

    `unix` marks a Unix-domain socket (a local file, not the network); its path is in `host`.
    """

    kind: str
    host: str
    port: int
    unix: bool = False

    def __str__(self) -> str:
        if self.unix:
            return f"{self.kind} unix:{self.host}"
        return f"{self.kind} {_host_port(self.host, self.port)}"


# ---------------------------------------------------------------------------------------------
# What the configuration allows


def allowed_destinations(settings: Settings, cameras: Iterable[Camera]) -> list[Destination]:
    """The destinations `settings` and the camera register name, in that order, without duplicates.

    SQLite (a local file) adds none; `file:` stream URLs add none; disabled cameras add none
    (they are not contacted). Raises `EgressConfigError` for a URL that names a network host
    without a port this module knows a default for.
    """
    found: list[Destination] = []
    database = _database_destination(settings.effective_database_url)
    if database is not None:
        found.append(database)
    for camera in cameras:
        if not camera.enabled or not camera.stream_url:
            continue
        stream = _stream_destination(camera)
        if stream is not None:
            found.append(stream)
    try:
        head = settings.cluster.head()
    except ValueError as exc:
        raise EgressConfigError(str(exc)) from exc
    if head is not None:  # Ray's nodes talk among themselves on the cluster's own network
        found.append(Destination(*head, "Ray cluster head (cluster.address)"))
    found.append(
        Destination(
            settings.streams.http_host,
            settings.streams.http_port,
            "/metrics and /status of safecity serve",
            listen=True,
        )
    )
    found.append(
        Destination(settings.api.host, settings.api.port, "API and web UI of safecity serve", listen=True)
    )
    unique: dict[tuple[str, int, bool], Destination] = {}
    for destination in found:
        unique.setdefault((destination.host.lower(), destination.port, destination.listen), destination)
    return list(unique.values())


def _database_destination(url: str) -> Destination | None:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise EgressConfigError(f"database URL {redact_url(url)} cannot be parsed: {error}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite" or not parsed.host:
        # SQLite is a file; a PostgreSQL URL without host goes through the local Unix socket.
        return None
    port = parsed.port or DATABASE_DEFAULT_PORTS.get(backend)
    if port is None:
        raise EgressConfigError(
            f"database URL {redact_url(url)} names no port and {backend!r} has no known default; "
            "give the port in the URL"
        )
    return Destination(parsed.host, port, f"database ({backend}) {redact_url(url)}")


def _stream_destination(camera: Camera) -> Destination | None:
    parts = urlsplit(camera.stream_url)
    scheme = parts.scheme.lower()
    if scheme == "file" or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        raise EgressConfigError(
            f"camera {camera.id}: stream URL {redact_url(camera.stream_url)} has an invalid port"
        ) from None
    if port is None:
        port = STREAM_DEFAULT_PORTS.get(scheme)
    if port is None:
        raise EgressConfigError(
            f"camera {camera.id}: stream URL {redact_url(camera.stream_url)} names no port and "
            f"scheme {scheme!r} has no known default"
        )
    return Destination(parts.hostname, port, f"stream of camera {camera.id} {redact_url(camera.stream_url)}")


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# ---------------------------------------------------------------------------------------------
# What the process does


class EgressRecorder:
    """Process-wide recorder of socket attempts; get it with `EgressRecorder.instance()`.

    An audit hook cannot be removed once added, so there is one hook and one recorder per
    process, installed on first `start` and switched on and off after that. While off, the hook
    returns at once (audit hooks run on every audited event: imports, opens, ...).
    """

    _instance: ClassVar[EgressRecorder | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._on = False
        self._hooked = False
        self._attempts: list[Attempt] = []

    @classmethod
    def instance(cls) -> EgressRecorder:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    @property
    def recording(self) -> bool:
        return self._on

    def start(self) -> None:
        """Switch recording on (installing the hook the first time); keeps what was recorded."""
        if not self._hooked:
            sys.addaudithook(self._hook)
            self._hooked = True
        self._on = True

    def stop(self) -> None:
        self._on = False

    def clear(self) -> None:
        self._attempts = []

    def attempts(self) -> list[Attempt]:
        """What was recorded so far, in order (a copy)."""
        return list(self._attempts)

    @contextmanager
    def session(self) -> Iterator[EgressRecorder]:
        """Clear, record for the duration of the block, then stop; read `attempts()` afterwards."""
        self.clear()
        self.start()
        try:
            yield self
        finally:
            self.stop()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Suspend recording (for our own look-ups while checking), then restore the previous state."""
        was_on = self._on
        self._on = False
        try:
            yield
        finally:
            self._on = was_on

    def _hook(self, event: str, args: tuple[object, ...]) -> None:
        if not self._on or not event.startswith("socket."):
            return
        try:
            attempt = _attempt(event, args)
        except Exception:  # an audit hook that raises would break the caller's socket call
            return
        if attempt is not None:
            self._attempts.append(attempt)  # list.append is atomic under the GIL; no lock needed


def _attempt(event: str, args: tuple[object, ...]) -> Attempt | None:
    if event in ("socket.connect", "socket.sendto"):
        sock, address = args[0], args[1]
        kind = "connect" if event == "socket.connect" else "sendto"
        family = getattr(sock, "family", None)
        if family == socket.AF_UNIX:
            path = address.decode(errors="replace") if isinstance(address, bytes) else str(address)
            return Attempt(kind, path, 0, unix=True)
        if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            return Attempt(kind, str(address[0]), int(address[1]))
        return None  # netlink, packet and other local families are not network egress
    if event == "socket.getaddrinfo":
        host, port = args[0], args[1]
        if host is None:
            return None  # a lookup for binding (passive), not a name sent to a resolver
        name = host.decode(errors="replace") if isinstance(host, bytes) else str(host)
        number = int(port) if isinstance(port, int) or (isinstance(port, str) and port.isdigit()) else 0
        return Attempt("resolve", name, number)
    return None


# ---------------------------------------------------------------------------------------------
# Judging


def check(recorded: Sequence[Attempt], allowed: Sequence[Destination]) -> list[str]:
    """The recorded attempts no allowed destination covers, one message each (first occurrence).

    A connect or sendto is allowed when its address is an allowed destination's host (or one of
    the addresses that host resolves to) and the port is that destination's port. Loopback is
    judged like any other address: a connection to a local port nobody configured is reported.
    A name lookup is allowed when the name (or the address) is an allowed host. Unix-domain
    sockets are local files, not egress, and are ignored.
    """
    recorder = EgressRecorder.instance()
    with recorder.paused():  # resolving the allowed hosts must not record itself
        endpoints = {(address, d.port) for d in allowed for address in _addresses(d.host)}
        hosts = {address for d in allowed for address in _addresses(d.host)} | {
            d.host.lower() for d in allowed
        }
    problems: list[str] = []
    seen: set[str] = set()
    for attempt in recorded:
        if attempt.unix:
            continue
        if attempt.kind == "resolve":
            # Compared as written, never looked up: checking must not itself ask a resolver.
            name = _normal_ip(attempt.host)
            ok = name in hosts or (name in _LOOPBACK_NAMES and bool(hosts & _LOOPBACK_ADDRESSES))
        else:
            ok = any((_normal_ip(attempt.host), attempt.port) == e for e in endpoints)
        if ok:
            continue
        message = f"{attempt}: not a destination the configuration names"
        if message not in seen:
            seen.add(message)
            problems.append(message)
    return problems


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _normal_ip(text: str) -> str:
    """Canonical text of an address (drops an IPv6 zone; maps ::ffff:a.b.c.d to a.b.c.d)."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text.lower()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _addresses(host: str) -> set[str]:
    """The addresses `host` stands for: itself if an address, loopback for localhost, else DNS."""
    if _is_ip(host):
        address = _normal_ip(host)
        if address in ("0.0.0.0", "::"):
            # A listener on every interface is reached locally through loopback.
            return {address, "127.0.0.1", "::1"}
        return {address}
    if host.lower() in _LOOPBACK_NAMES:
        return set(_LOOPBACK_ADDRESSES) | {host.lower()}
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:  # unresolvable here: only the name itself can match
        return {host.lower()}
    return {_normal_ip(str(info[4][0])) for info in infos} | {host.lower()}
