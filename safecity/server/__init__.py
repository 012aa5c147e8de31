"""The HTTP server: the FastAPI app factory (`app.py`), per-request context, credentials, CSRF,
upload limits and problem responses shared by the JSON API (`server/api/`) and the web UI
(`server/web/`), and the uvicorn runner (`runner.py`) that `safecity serve` and the demo start."""
