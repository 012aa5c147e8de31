"""Errors raised by video sources.

A source turns every problem with its input (missing, unreadable, not a video, damaged)
into a `SourceError` whose message names the input, so callers never see a raw PyAV error.
"""

from __future__ import annotations


class SourceError(Exception):
    """A video input that cannot be opened or read to its end; the message names the input."""
