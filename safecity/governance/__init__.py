"""Accountability: users and roles, the access gate every read of personal data passes, the
hash-chained audit log and its anchors, authorisation enforcement, two-person confirmation of
matches, evidence disclosure, retention, the public register and the egress guard."""
