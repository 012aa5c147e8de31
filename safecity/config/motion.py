"""Motion detection: the `[motion]` section (`MotionSettings`), background subtraction (OpenCV MOG2) that
gates frames before the expensive analysers.
"""

from __future__ import annotations

from pydantic import Field

from safecity.config.base import SectionModel


class MotionSettings(SectionModel):
    """Background subtraction (OpenCV MOG2) that gates frames before the expensive analysers."""

    downscale_width: int = Field(640, ge=64, description="Width frames are shrunk to before subtraction.")
    history: int = Field(120, ge=2, description="Frames the background model remembers.")
    var_threshold: float = Field(32.0, gt=0, description="MOG2 variance threshold; higher = less sensitive.")
    detect_shadows: bool = Field(
        False,
        description="Mark shadows (then ignored) instead of foreground. Off by default: on real footage "
        "MOG2 takes dark vehicles on grey asphalt for shadows and loses them.",
    )
    min_blob_area_fraction: float = Field(
        0.0015, gt=0, lt=1, description="Smallest moving blob kept, as a fraction of the frame area."
    )
    warmup_frames: int = Field(5, ge=0, description="Frames used only to learn the background.")
    close_kernel_px: int = Field(
        7, ge=1, description="Closing kernel (at the downscaled width) that joins one object's fragments."
    )
    merge_overlap: float = Field(
        0.5, gt=0, le=1, description="Blobs overlapping this share of the smaller one are merged."
    )
