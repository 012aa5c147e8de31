"""`safecity demo`: render the synthetic city, register and analyse it, print a summary, serve the UI."""

from __future__ import annotations

import os
import signal
import threading

from safecity.cli.common import fail, out, settings

# The demo (av, cv2, onnxruntime) and the web server (uvicorn) are imported inside the command:
# `safecity --help` stays light.


def demo() -> None:
    """Render the synthetic city, register its cameras, analyse every clip, print a summary, then serve
    the web UI until Ctrl-C (SAFECITY_DEMO_NO_SERVE=1: exit after the summary)."""
    from safecity.demo.run import run_demo, serve_demo
    from safecity.server.runner import ApiServerError

    demo_settings = run_demo(settings(), out)
    if os.environ.get("SAFECITY_DEMO_NO_SERVE", "") == "1":
        return
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        serve_demo(demo_settings, out, stop)
    except ApiServerError as exc:
        fail(f"{exc} (another program on port {demo_settings.api.port}? set SAFECITY_API__PORT)", code=1)
