"""Accountability: the hash-chained audit log (more of governance — users, roles, retention — follows)."""
