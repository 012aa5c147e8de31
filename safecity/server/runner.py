"""Running the API in a thread of the serving process (uvicorn), beside the camera runtime.

`ApiServer(app, host, port).start()` returns once the socket listens (port 0: any free port, the
one chosen is in `url`); `close()` asks uvicorn to finish its requests and waits for it.
"""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI

START_TIMEOUT_S = 15.0
_POLL_S = 0.02


class ApiServerError(RuntimeError):
    """The server did not start (port taken, address not available); the message says why."""


class ApiServer:
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="safecity-api", daemon=True)
        self.host = host
        self.port = port

    def start(self) -> ApiServer:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        # uvicorn offers no start event; `started` flips once the sockets listen.
        while not self._server.started:
            if not self._thread.is_alive():
                raise ApiServerError(f"the API could not listen on {self.host}:{self.port}")
            if time.monotonic() > deadline:
                self.close()
                raise ApiServerError(f"the API did not start within {START_TIMEOUT_S:g} s")
            time.sleep(_POLL_S)
        sockets = [s for server in self._server.servers for s in server.sockets]
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=START_TIMEOUT_S)
