"""Accountability: users and roles, the hash-chained audit log, authorisation enforcement,
the public register, the egress guard."""
