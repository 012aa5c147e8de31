"""Whether a test may skip for a missing service: locally yes, with the reason; in CI (`CI=true`) never."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_service(reason: str) -> None:
    """Skip locally when a service is missing; in CI a missing service is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: services must be running, see .ci/run)")
    pytest.skip(reason)
