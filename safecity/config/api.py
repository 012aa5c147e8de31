"""The HTTP API and web UI: the `[api]` section (`ApiSettings`), listen address, sessions, upload and image
limits, paging, the live feed and the allowed origins.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from safecity.config.base import SectionModel


class ApiSettings(SectionModel):
    """The HTTP API and web UI served by `safecity serve` (and by `make demo`)."""

    host: str = Field("127.0.0.1", description="Address the API and web UI listen on.")
    port: int = Field(8000, ge=0, le=65535, description="Port of the API and web UI; 0 = any free port.")
    session_ttl_h: float = Field(
        12.0, gt=0, le=24 * 31, description="How long a browser login lasts (a revocable token)."
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest accepted upload (face photo, register file)."
    )
    max_image_pixels: int = Field(
        40_000_000,
        ge=1,
        description="Most pixels (width x height, read from the file header before decoding) of a photo "
        "given to face search or enrolment, by API, web or CLI: a small file can declare a huge image.",
    )
    max_image_side: int = Field(
        16_384, ge=1, description="Longest side, in pixels, of such a photo (checked with max_image_pixels)."
    )
    page_max: int = Field(500, ge=1, description="Most items one page of a listing may hold.")
    page_default: int = Field(50, ge=1, description="Items on a page when the request names no limit.")
    alerts_page_size: int = Field(
        50, ge=1, le=500, description="Alerts on one page of the web UI's alert list (/alerts)."
    )
    audit_page_size: int = Field(
        25, ge=1, le=500, description="Audit entries on one page of the web UI's audit log (/audit)."
    )
    max_list_items: int = Field(
        1000,
        ge=1,
        description="Most items a list in a request body may hold (camera ids of a search, an "
        "authorisation or a user's limits); a longer list is a 422 before any work is done for it.",
    )
    live_poll_s: float = Field(0.5, gt=0, le=10, description="How often the live feed looks for new alerts.")
    live_cameras_s: float = Field(2.0, gt=0, description="How often the live feed sends camera states.")
    secure_cookies: bool = Field(
        False, description="Mark the session cookie Secure (set when served behind HTTPS)."
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) besides the request's own scheme and Host from which "
        "a browser session may post, e.g. the public https address when a reverse proxy rewrites Host.",
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins_only(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not re.fullmatch(r"https?://[^/?#@\s]+", origin):
                raise ValueError(f"{origin!r} is not an origin: write scheme://host[:port], no path")
        return value
