"""Watchlists and hotlists: matching new observations against active entries and raising alerts.

Entries and alerts are persisted by `safecity.store`; this folder decides what matches.
"""
