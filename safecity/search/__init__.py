"""Searches of stored personal data through the access gate, one function per kind, called alike by
the CLI, the API and the web UI: plates (`plates.py`) and faces (`faces.py`). Each checks the
caller's permission and reason, narrows the cameras to what the caller may see, reads, and writes
the audit entry in the read's own transaction before any result is returned."""
