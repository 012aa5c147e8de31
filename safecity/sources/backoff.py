"""Reconnect delays for live sources: exponential backoff with jitter, capped.

Owns only the arithmetic, so that the policy can be read, configured and tested on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before the n-th consecutive retry: ``initial_s * factor**n``, capped at ``cap_s``.

    Each delay is spread by +-``jitter`` (a fraction) so that hundreds of cameras behind one
    failed switch do not all reconnect in the same instant when it comes back.
    """

    initial_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 30.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not (math.isfinite(self.initial_s) and self.initial_s > 0):
            raise ValueError(f"backoff initial_s must be a positive number, got {self.initial_s!r}")
        if not (math.isfinite(self.factor) and self.factor >= 1):
            raise ValueError(f"backoff factor must be at least 1, got {self.factor!r}")
        if not (math.isfinite(self.cap_s) and self.cap_s >= self.initial_s):
            raise ValueError(f"backoff cap_s must be at least initial_s={self.initial_s}, got {self.cap_s!r}")
        if not (0 <= self.jitter < 1):
            raise ValueError(f"backoff jitter must be in [0, 1), got {self.jitter!r}")

    def delay(self, failures: int, rand: float) -> float:
        """Seconds to wait after `failures` consecutive failures (0 for the first retry).

        `rand` is a uniform random number in [0, 1), passed in so that callers own the random
        source and tests can pin it.
        """
        if failures < 0:
            raise ValueError(f"failures must be >= 0, got {failures}")
        # Compared in log space: factor**failures overflows a float after ~1000 failures.
        if failures * math.log(self.factor) >= math.log(self.cap_s / self.initial_s):
            base = self.cap_s
        else:
            base = self.initial_s * self.factor**failures
        spread = 1.0 + self.jitter * (2.0 * rand - 1.0)
        return min(self.cap_s, base * spread)
