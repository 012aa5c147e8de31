"""Defaults for newly registered cameras: the `[camera_defaults]` section (`CameraDefaults`), the analysis
rate, retention and public-register fields a camera gets unless its registration says otherwise.
"""

from __future__ import annotations

from pydantic import Field

from safecity.config.base import SectionModel


class CameraDefaults(SectionModel):
    """Values a newly registered camera gets unless the registration says otherwise."""

    analysis_fps: float = Field(5.0, gt=0, description="Frames per second handed to analysers.")
    retention_days: int = Field(30, ge=1, le=3650, description="How long observations are kept.")
    operator: str = Field("", description="Organisation that runs the camera (public register).")
    legal_basis: str = Field("", description="Law or decision the camera operates under.")
