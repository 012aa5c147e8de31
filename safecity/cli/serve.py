"""`safecity serve`, `api` and `status`: analyse the live cameras and serve the API and web UI, serve
the API alone as one more replica, and show a running `serve`'s camera health.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from safecity.cli.common import err, fail, open_db, out, print_alerts, settings
from safecity.cluster.ray_pool import ClusterError, RayWorkers
from safecity.governance.audit import anchorer
from safecity.governance.users import FIRST_ADMIN, ensure_first_admin
from safecity.pipeline.metrics import StatusServer
from safecity.pipeline.workers import is_live
from safecity.runtime.city import Runtime
from safecity.store.cameras import CameraStore
from safecity.store.models import utcnow

# The API server (fastapi, uvicorn) is imported inside `serve` and `api`: `safecity --help` stays
# light.


def serve(
    workers: Annotated[int | None, typer.Option(help="Analysis processes (default streams.workers).")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port of /metrics and /status (default streams.http_port).")
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until SIGTERM or Ctrl-C).")
    ] = None,
    api_port: Annotated[
        int | None, typer.Option(help="Port of the API and web UI (default api.port; 0: any free port).")
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            help="Analyse on a Ray cluster: ray://HOST:10001, HOST:6379, auto or local (default "
            "cluster.address; empty: worker processes here). Needs a database every node reaches."
        ),
    ] = None,
) -> None:
    """Analyse every enabled live camera (rtsp://, http(s)://) until stopped; serve the API and web UI,
    /metrics and /status."""
    s = settings()
    db = open_db(s)
    live = [c for c in CameraStore(db).all() if is_live(c)]
    if not live:
        err.print(
            "note: no enabled camera has an rtsp:// or http(s):// stream URL yet; watching the register"
        )
    if cluster is not None:
        s = s.model_copy(update={"cluster": s.cluster.model_copy(update={"address": cluster})})
    pool = None
    if s.cluster.address:
        if db.is_sqlite and s.cluster.address != "local":
            err.print("note: a SQLite file is reachable only from this machine; use PostgreSQL on a cluster")
        pool = RayWorkers(s)
    runtime = Runtime(s, db, workers=workers, pool=pool)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server = StatusServer(
            s.streams.http_host, s.streams.http_port if port is None else port, runtime.health
        )
    except OSError as exc:
        fail(f"cannot listen on {s.streams.http_host}:{port or s.streams.http_port}: {exc}", code=1)
    from safecity.server.app import create_app
    from safecity.server.runner import ApiServer, ApiServerError
    from safecity.store.recordings import RecordingStore
    from safecity.video.hub import VideoHub

    # Recorders first adopt or delete what a killed recorder left, so the index names every file.
    video = VideoHub(s.recording, RecordingStore(db, s.effective_recordings_dir), clock=utcnow)
    reconciled = video.reconcile()
    if reconciled.adopted or reconciled.deleted_files or reconciled.dropped_rows:
        err.print(
            f"recordings: adopted {len(reconciled.adopted)} segment(s) left by a stop, deleted "
            f"{len(reconciled.deleted_files)} without video, dropped {len(reconciled.dropped_rows)} "
            "whose file was gone"
        )
    api = ApiServer(
        create_app(s, db, camera_health=runtime.health, video=video),
        s.api.host,
        s.api.port if api_port is None else api_port,
    )
    try:
        api.start()
    except ApiServerError as exc:
        server.close()
        fail(str(exc), code=1)
    password = ensure_first_admin(db)
    if password is not None:  # first run: no default credentials, this is shown once
        out.print(f"[bold]first run: created user {FIRST_ADMIN!r} with password {password}[/] (shown once)")
    try:
        runtime.start()
    except ClusterError as exc:
        api.close()
        server.close()
        fail(str(exc), code=1)
    recording = video.record(live)
    for camera_id, problem in sorted(runtime.errors.items()):
        err.print(f"[red]camera {camera_id}: {problem}[/]")
    where = f"on {pool.size} Ray actors at {s.cluster.address}" if pool is not None else "here"
    out.print(
        f"serving {len(live)} live cameras {where}; health at {server.url}/status and {server.url}/metrics"
    )
    out.print(f"API at {api.url}/api/v1 (schema: {api.url}/api/v1/openapi.json)")
    if recording:
        out.print(f"recording {len(recording)} camera(s) to {s.effective_recordings_dir}")
    try:
        runtime.run_until(stop, None if duration is None else time.monotonic() + duration)
    finally:
        out.print("stopping: finishing open tracks and flushing observations")
        runtime.stop()
        video.stop()
        api.close()
        server.close()
    print_alerts(runtime.alerts)
    out.print(f"stopped; {sum(h.observations for h in runtime.health())} observations from this run")


def api_replica(
    port: Annotated[
        int | None, typer.Option(help="Port of the API and web UI (default api.port; 0: any free port).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default api.host).")] = None,
) -> None:
    """Serve the API and web UI only (no analysis): one more replica behind a load balancer.

    Replicas share the PostgreSQL database; a stored alert reaches every replica's live feed at
    once (LISTEN/NOTIFY). Camera health is known to the `serve` process only."""
    from safecity.server.app import create_app
    from safecity.server.runner import ApiServer, ApiServerError

    s = settings()
    db = open_db(s)
    server = ApiServer(create_app(s, db), host or s.api.host, s.api.port if port is None else port)
    try:
        server.start()
    except ApiServerError as exc:
        fail(str(exc), code=1)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    out.print(f"API at {server.url}/api/v1 (schema: {server.url}/api/v1/openapi.json)", soft_wrap=True)
    # Replicas write most audit entries (searches, logins): each anchors the head when due.
    anchors = anchorer(db, s)
    try:
        while not stop.wait(s.governance.anchor_check_s):
            try:
                anchors.anchor(force=False)
            except OSError as exc:
                err.print(f"[red]could not anchor the audit head to {anchors.path}: {exc}[/]")
    finally:
        server.close()
        db.close()


def status(
    url: Annotated[
        str | None, typer.Option(help="Base URL of a running `safecity serve` (default from streams.*).")
    ] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh every second until Ctrl-C.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON the server returns.")] = False,
) -> None:
    """Per-camera health of a running `safecity serve`: state, fps, queue, drops, reconnects, lag."""
    s = settings()
    base = url or f"http://{s.streams.http_host}:{s.streams.http_port}"

    def fetch() -> list[dict[str, object]]:
        try:
            with urllib.request.urlopen(f"{base}/status", timeout=5) as response:
                data: list[dict[str, object]] = json.loads(response.read())
                return data
        except (urllib.error.URLError, OSError) as exc:
            fail(f"no `safecity serve` answers at {base}: {exc}", code=1)

    if as_json:
        print(json.dumps(fetch()))
        return
    if not watch:
        out.print(_status_table(fetch()))
        return
    with Live(_status_table(fetch()), console=out, refresh_per_second=2) as live:
        try:
            while True:
                time.sleep(1)  # a display refresh, not a wait for an event
                live.update(_status_table(fetch()))
        except KeyboardInterrupt:
            pass


def _status_table(rows: list[dict[str, object]]) -> Table:
    table = Table(title=f"{len(rows)} live cameras")
    for col in (
        "camera",
        "state",
        "since",
        "in fps",
        "analysed fps",
        "queue",
        "drops",
        "reconnects",
        "lag s",
    ):
        table.add_column(col, justify="left" if col in ("camera", "state", "since") else "right")
    table.add_column("last error")
    colours = {"live": "green", "connecting": "yellow", "stalled": "yellow", "failed": "red"}
    for r in rows:
        lag = r.get("lag_s")
        state = str(r["state"])
        table.add_row(
            str(r["camera_id"]),
            f"[{colours.get(state, 'white')}]{state}[/]",
            str(r["since"])[11:19],
            f"{float(r['input_fps']):.1f}",  # type: ignore[arg-type]
            f"{float(r['analysed_fps']):.1f}",  # type: ignore[arg-type]
            str(r["queue_depth"]),
            str(r["dropped"]),
            str(r["reconnects"]),
            "-" if lag is None else f"{float(lag):.1f}",  # type: ignore[arg-type]
            str(r.get("last_error") or ""),
        )
    return table
