"""The per-camera pipeline: source -> motion gate -> analysers -> sinks (`process.py`, `faces.py`,
`sinks.py`), its health meters, and the worker processes that run cameras (`workers.py`)."""
