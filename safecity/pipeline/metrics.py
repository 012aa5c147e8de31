"""`/metrics` (Prometheus text format, prometheus-client) and `/status` (JSON) of a running `safecity serve`.

The endpoint reads the latest `CameraHealth` of every camera from a callable, so it never holds
up the runtime; it listens on `streams.http_host`:`streams.http_port` (loopback by default: the
system opens no port the configuration does not name).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from safecity.pipeline.health import CameraHealth

STATES = ("connecting", "live", "stalled", "failed", "stopped")

HealthSource = Callable[[], Sequence[CameraHealth]]


class CameraCollector(Collector):
    def __init__(self, health: HealthSource) -> None:
        self.health = health

    def collect(self) -> Iterator[Metric]:
        cams = list(self.health())
        gauges = {
            "input_fps": ("safecity_camera_input_fps", "Frames decoded per second"),
            "analysed_fps": ("safecity_camera_analysed_fps", "Frames analysed per second"),
            "queue_depth": ("safecity_camera_queue_depth", "Decoded frames waiting for analysis"),
            "lag_s": ("safecity_camera_lag_seconds", "Wall clock minus the last analysed frame's time"),
        }
        counters = {
            "dropped": ("safecity_camera_dropped_frames", "Frames dropped because analysis fell behind"),
            "reconnects": ("safecity_camera_reconnects", "Reconnect attempts"),
            "decode_errors": ("safecity_camera_decode_errors", "Packets or frames the decoder rejected"),
            "frames_analysed": ("safecity_camera_frames_analysed", "Frames analysed"),
            "observations": ("safecity_camera_observations", "Observations produced"),
        }
        for attr, (name, text) in gauges.items():
            family = GaugeMetricFamily(name, text, labels=["camera"])
            for c in cams:
                value = getattr(c, attr)
                if value is not None:
                    family.add_metric([c.camera_id], float(value))
            yield family
        for attr, (name, text) in counters.items():
            counter = CounterMetricFamily(name, text, labels=["camera"])
            for c in cams:
                counter.add_metric([c.camera_id], float(getattr(c, attr)))
            yield counter
        state = GaugeMetricFamily(
            "safecity_camera_state", "1 for the camera's current state", labels=["camera", "state"]
        )
        for c in cams:
            for s in STATES:
                state.add_metric([c.camera_id, s], 1.0 if c.state == s else 0.0)
        yield state


class StatusServer:
    """Serves /metrics and /status on a background thread until `close`."""

    def __init__(self, host: str, port: int, health: HealthSource) -> None:
        registry = CollectorRegistry()
        registry.register(CameraCollector(health))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/metrics":
                    body, kind = generate_latest(registry), "text/plain; version=0.0.4; charset=utf-8"
                elif self.path.split("?")[0] == "/status":
                    body = json.dumps([c.to_json() for c in health()]).encode()
                    kind = "application/json"
                else:
                    self.send_error(404, "try /metrics or /status")
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return  # scrapes every few seconds would flood the log

        self._server = ThreadingHTTPServer((host, port), Handler)
        address = self._server.server_address
        self.host = address[0] if isinstance(address[0], str) else address[0].decode()
        self.port = int(address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="status-http", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
