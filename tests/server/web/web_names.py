"""Names shared by the browser tests and their fixtures (conftest.py holds the fixtures)."""

from __future__ import annotations

PASSWORD = "a long enough password"

ROLES = {
    "operator-1": "operator",
    "operator-2": "operator",
    "viewer-1": "viewer",
    "investigator-1": "investigator",
    "auditor-1": "auditor",
    "admin-1": "admin",
}
"""The web world's users and their roles (conftest.py creates them; operator-2 is the second person
of a two-person confirmation)."""
