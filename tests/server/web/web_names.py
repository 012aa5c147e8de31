"""Names shared by the browser tests and their fixtures (conftest.py holds the fixtures)."""

from __future__ import annotations

PASSWORD = "a long enough password"
