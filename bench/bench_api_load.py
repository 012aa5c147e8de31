"""Many people on one installation: the API under concurrent users, SQLite beside PostgreSQL.

A `safecity api` process (its own interpreter, real HTTP on 127.0.0.1, real argon2 logins) over
a database holding two cameras and 5,000 plate reads. Users run a mix for each concurrency:
one in ten requests a login, half plate searches (exact and wildcard, each with its reason and
audit entry), the rest alert lists, while `--live` browsers hold the live WebSocket feed open.
Each row is `--requests` requests; the naive baseline is the same mix one request at a time
(concurrency 1), and the ratio is throughput against it. Errors: 5xx answers, connection resets
and other transport errors (all must be 0), and other unexpected statuses. After each database
the audit chain is verified.

    .venv/bin/python bench/bench_api_load.py [--requests 200] [--concurrency 1,4,20] [--live 5]
        [--postgres URL]   (default $SAFECITY_TEST_POSTGRES_URL or the test server; skipped if unreachable)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import websockets

from safecity.config import Settings
from safecity.governance.audit import AuditLog
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.scratch import scratch_database
from safecity.store.writer import write_batch
from safecity.types import BBox, Camera, Capability, PlateRead, Site, new_id

PASSWORD = "a long enough password for the bench"
USERS = 20
DEFAULT_PG = "postgresql+psycopg://safecity:safecity@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Row:
    database: str
    concurrency: int
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    server_errors: int
    resets: int
    unexpected: int
    live_messages: int

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


def seed(url: str, data_dir: Path) -> dict[str, str]:
    """Cameras, plate reads and users (one token each); returns the tokens by username."""
    settings = Settings(data_dir=data_dir, database_url=url)
    db = Database.connect(settings.effective_database_url, settings.store)
    db.upgrade()
    plates = frozenset({Capability.PLATES})
    CameraStore(db).save(
        [Site("s-1", "Bulevar", 44.80, 20.47)],
        [
            Camera(f"cam-{i}", f"Camera {i}", "s-1", 44.80, 20.47 + i / 1000, capabilities=plates)
            for i in (1, 2)
        ],
    )
    start = datetime(2026, 3, 2, 7, tzinfo=UTC)
    reads = [
        PlateRead(new_id(), f"cam-{1 + i % 2}", start + timedelta(seconds=i), BBox(1, 2, 120, 30), 0.9,
                  f"BG{i % 997:03d}AB", f"BG{i % 997:03d}AB", "RS")
        for i in range(5000)
    ]  # fmt: skip
    write_batch(db, reads)
    users, tokens = UserStore(db), {}
    for i in range(USERS):
        name = f"user-{i}"
        users.add(name, Role.INVESTIGATOR if i % 2 else Role.OPERATOR, PASSWORD)
        tokens[name] = users.issue_token(name, timedelta(hours=2)).secret
    db.close()
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def api_process(url: str, data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "SAFECITY_DATA_DIR": str(data_dir), "SAFECITY_DATABASE_URL": url}
    safecity = Path(sys.executable).with_name("safecity")
    proc = subprocess.Popen(
        [str(safecity), "api", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"safecity api did not start: {proc.stderr.read() if proc.stderr else ''}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def request(client: httpx.Client, base: str, tokens: dict[str, str], i: int) -> tuple[int, bool]:
    """One request of the mix; (status, whether that status is the expected one)."""
    name = f"user-{i % USERS}"
    headers = {"Authorization": f"Bearer {tokens[name]}"}
    kind = i % 10
    if kind == 0:
        r = client.post(f"{base}/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        client.cookies.clear()
        return r.status_code, r.status_code == 200
    if kind <= 5:
        query = f"BG{i % 997:03d}AB" if kind % 2 else f"BG{i % 10}*"
        body = {"query": query, "reason": "bench: case 2026/17, a stolen van", "limit": 50}
        r = client.post(f"{base}/api/v1/search/plates", json=body, headers=headers)
        return r.status_code, r.status_code == 200
    r = client.get(f"{base}/api/v1/alerts", headers=headers)
    return r.status_code, r.status_code == 200


def live_watchers(
    base: str, tokens: dict[str, str], count: int, stop: threading.Event
) -> tuple[threading.Thread, list[int]]:
    """`count` live-feed sockets held open until `stop`; the list fills with messages received."""
    received = [0]

    async def watch(token: str) -> None:
        url = base.replace("http", "ws", 1) + f"/api/v1/live?token={token}"
        async with websockets.connect(url) as socket_:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(socket_.recv(), timeout=0.5)
                    received[0] += 1
                except TimeoutError:
                    continue

    async def all_of() -> None:
        await asyncio.gather(*(watch(tokens[f"user-{i % USERS}"]) for i in range(count)))

    thread = threading.Thread(target=lambda: asyncio.run(all_of()), daemon=True)
    thread.start()
    return thread, received


def run_step(name: str, base: str, tokens: dict[str, str], n: int, concurrency: int, live: int) -> Row:
    local = threading.local()
    clients: list[httpx.Client] = []

    def one(i: int) -> tuple[float, str]:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=120)
            clients.append(local.client)
        t0 = time.perf_counter()
        try:
            status, ok = request(local.client, base, tokens, i)
            outcome = "ok" if ok else ("5xx" if status >= 500 else "unexpected")
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            outcome = "reset"
        except httpx.TransportError:
            outcome = "unexpected"
        return (time.perf_counter() - t0) * 1000, outcome

    stop = threading.Event()
    watcher, received = live_watchers(base, tokens, live, stop) if live else (None, [0])
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(n)))
    seconds = time.perf_counter() - start
    stop.set()
    if watcher is not None:
        watcher.join(timeout=10)
    for client in clients:
        client.close()
    latencies = sorted(ms for ms, _ in results)
    outcomes = Counter(o for _, o in results)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    return Row(
        name, concurrency, n, seconds, statistics.median(latencies), p95,
        outcomes["5xx"], outcomes["reset"], outcomes["unexpected"], received[0],
    )  # fmt: skip


def bench_database(name: str, url: str, args: argparse.Namespace) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix=f"bench-api-{name}-") as tmp:
        data_dir = Path(tmp)
        url = url or f"sqlite:///{data_dir / 'safecity.db'}"
        tokens = seed(url, data_dir)
        rows = []
        with api_process(url, data_dir) as base:
            for concurrency in args.concurrency:
                rows.append(run_step(name, base, tokens, args.requests, concurrency, args.live))
        db = Database.connect(url)
        verification = AuditLog(db).verify()
        db.close()
        print(f"{name}: audit verify {'OK' if verification.ok else 'FAILED: ' + verification.problem}, "
              f"{verification.entries} entries")  # fmt: skip
        return rows


def table(rows: list[Row]) -> str:
    lines = [
        f"{'database':>10} {'users':>5} {'req/s':>7} {'vs 1':>6} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'5xx':>4} {'resets':>6} {'other':>5} {'live msgs':>9}"
    ]
    baseline = {r.database: r.throughput for r in rows if r.concurrency == 1}
    for r in rows:
        ratio = r.throughput / baseline[r.database] if r.database in baseline else float("nan")
        lines.append(
            f"{r.database:>10} {r.concurrency:>5} {r.throughput:>7.1f} {ratio:>5.2f}x {r.p50_ms:>8.1f} "
            f"{r.p95_ms:>8.1f} {r.server_errors:>4} {r.resets:>6} {r.unexpected:>5} {r.live_messages:>9}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 20])
    parser.add_argument("--live", type=int, default=5, help="live-feed sockets held open during each step")
    parser.add_argument("--postgres", default=os.environ.get("SAFECITY_TEST_POSTGRES_URL", DEFAULT_PG))
    args = parser.parse_args()
    rows = bench_database("sqlite", "", args)
    try:
        with scratch_database(args.postgres, "safecity_bench") as pg_url:
            rows += bench_database("postgresql", pg_url, args)
    except Exception as exc:  # a bench reports what it could not measure and goes on
        print(f"postgresql: not measured ({type(exc).__name__}: {exc})")
    print()
    print(table(rows))
    print("vs 1: throughput against the naive baseline, the same mix one request at a time")
    return 1 if any(r.server_errors or r.resets for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
