"""Watchlists and hotlists: matching new observations against active entries and raising alerts
(plate hotlists, face watchlists with their open-set decision rule and calibration, speeding).

Entries and alerts are persisted by `safecity.store`; this folder decides what matches.
"""
