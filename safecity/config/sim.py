"""The synthetic city used by the demo and by tests: the `[sim]` section (`SimSettings`), frame size and
rate, camera count, clip length and seed.
"""

from __future__ import annotations

from pydantic import Field

from safecity.config.base import SectionModel


class SimSettings(SectionModel):
    """The synthetic city used by the demo and by tests."""

    width: int = Field(1280, ge=320, description="Rendered frame width.")
    height: int = Field(720, ge=240, description="Rendered frame height.")
    fps: float = Field(10.0, gt=0, description="Rendered frames per second.")
    cameras: int = Field(6, ge=1, description="Cameras in the demo scenario.")
    seconds: float = Field(30.0, gt=0, description="Length of each rendered clip.")
    seed: int = Field(
        18,
        description="Seed: the same seed renders the same city. The default's first 30 s hold vehicles "
        "speeding past two plate cameras, so the demo shows section-speed alerts.",
    )
