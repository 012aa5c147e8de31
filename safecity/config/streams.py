"""Live sources and the `safecity serve` runtime: the `[streams]` section (`StreamSettings`), reconnects,
frame queues, workers, health reporting and the metrics endpoint.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from safecity.config.base import SectionModel


class StreamSettings(SectionModel):
    """Live sources and the `safecity serve` runtime: reconnects, queues, workers, health, metrics."""

    transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport (TCP survives lossy links).")
    queue_size: int = Field(8, ge=1, description="Decoded frames a camera may queue; the oldest is dropped.")
    open_timeout_s: float = Field(10.0, gt=0, description="How long connecting to a stream may take.")
    stall_timeout_s: float = Field(
        10.0, gt=0, description="No frame for this long: the stream is reconnected."
    )
    backoff_initial_s: float = Field(0.5, gt=0, description="First reconnect delay.")
    backoff_factor: float = Field(
        2.0, ge=1, description="Each failed reconnect multiplies the delay by this."
    )
    backoff_cap_s: float = Field(30.0, gt=0, description="Longest reconnect delay.")
    backoff_jitter: float = Field(0.2, ge=0, lt=1, description="Random spread of each delay (fraction).")
    offline_alert_s: float = Field(
        60.0, gt=0, description="A camera not live for this long raises a camera-health alert."
    )
    workers: int = Field(0, ge=0, description="Analysis worker processes; 0 = one per CPU core.")
    status_interval_s: float = Field(1.0, gt=0, description="How often workers report camera health.")
    reload_interval_s: float = Field(
        5.0, gt=0, description="How often the runtime re-reads the camera register and watchlists."
    )
    http_host: str = Field("127.0.0.1", description="Address of the /metrics and /status endpoint.")
    http_port: int = Field(
        9464, ge=0, le=65535, description="Port of /metrics and /status; 0 = any free port."
    )
