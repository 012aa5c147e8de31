"""The dashboard's camera wall: which live views a user sees, in a 2×2 or 3×3 grid, a page at a time.

A tile is a camera the user may watch live (`view_live` and the camera within their limits) that
is enabled and has a stream. Each tile opens its own live view (and audit entry) in the browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from safecity.governance.access import Caller
from safecity.governance.permissions import Permission
from safecity.types import Camera

LAYOUTS = {"2x2": 2, "3x3": 3}
"""The grids a wall can have: name in the query string → tiles per side."""
DEFAULT_LAYOUT = "2x2"


@dataclass(frozen=True, slots=True)
class Wall:
    layout: str
    side: int
    tiles: tuple[tuple[Camera, str], ...]
    """(camera, state) of each tile on this page."""
    first: int
    """Index of the first tile's camera among all the wall's cameras."""
    total: int

    @property
    def size(self) -> int:
        return self.side * self.side

    @property
    def previous(self) -> int | None:
        return None if self.first == 0 else max(0, self.first - self.size)

    @property
    def next(self) -> int | None:
        after = self.first + self.size
        return after if after < self.total else None


def watchable(caller: Caller, cameras: Sequence[Camera]) -> list[Camera]:
    """The cameras whose live view `caller` may open, by id."""
    return sorted(
        (c for c in cameras if c.enabled and c.stream_url and caller.can(Permission.VIEW_LIVE, c.id)),
        key=lambda c: c.id,
    )


def parse_first(text: str) -> int:
    """The `first` of the query string: a camera's index on the wall."""
    if not text.isdigit() or len(text) > 9:
        raise ValueError(f"first must be a whole number from 0, not {text[:20]!r}")
    return int(text)


def build(cameras: Sequence[Camera], states: Mapping[str, str], layout: str, first: int) -> Wall:
    """The page of the wall that starts at camera `first` (rounded down to a page's start)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown wall layout {layout!r}; one of {', '.join(LAYOUTS)}")
    if first < 0:
        raise ValueError(f"the wall's first camera must be 0 or more, not {first}")
    side = LAYOUTS[layout]
    size = side * side
    first = min(first, max(0, len(cameras) - 1)) // size * size
    tiles = tuple((c, states.get(c.id, "unknown")) for c in cameras[first : first + size])
    return Wall(layout, side, tiles, first, len(cameras))
