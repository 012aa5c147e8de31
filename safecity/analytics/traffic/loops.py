"""Virtual loops: counting lines that count by the foreground under the line, frame by frame.

Owns the other way to count a line (`method = "loop"` per camera), the one an inductive loop in
the road uses and the one a person counting from video uses: the motion gate's foreground is
sampled along two lines just either side of the counting line (`loop_offset_px`), one row per
analysed frame. Stacked, the rows make a time × position image in which every vehicle leaves
one streak. A streak is one crossing; the side it reached first gives its direction; its time is
the streak's centre. Vehicles side by side or close behind each other, which the motion gate
merges into one blob (and so one track), are apart on the line: there is road between them.

It needs the line sampled often enough that a vehicle covers it on several frames (about 15
analysed frames per second or more): at 5 fps a car is under the line on one frame, both sides
are reached on the same frame and the direction cannot be told (counted in `undetermined`).
Class: a loop sees widths, not shapes; a streak narrower than `loop_min_width_px` along the
line is "unknown", any other a "vehicle".

Streaming: rows are kept from the start of the oldest streak still open; a streak is complete
after `loop_gap_frames` rows without foreground touching it, is counted, and its pixels leave
the rows kept, so each streak is counted once and a busy road (streaks overlapping in time
across lanes) holds no more rows than its longest streak. A streak that never ends (something
standing on the line) is closed after `MAX_ROWS` rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from safecity.analytics.traffic.lines import UNKNOWN, VEHICLE, CountingLine, lines_of
from safecity.config import CameraCountingConfig, CountingSettings
from safecity.types import BBox, LineCrossing, observation_id

MAX_ROWS = 2000
"""Rows one loop keeps at most: past this, open streaks are closed and counted as they are."""
_CLOSE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
"""Joins a streak's speckled pixels (one frame, one pixel) before streaks are told apart."""


@dataclass(slots=True)
class _Loop:
    """One line's sampling geometry (at the working resolution) and its rows so far."""

    line: CountingLine
    left: tuple[np.ndarray, np.ndarray]
    """(y, x) indices into the mask of the line sampled on its left side; -1 where outside."""
    right: tuple[np.ndarray, np.ndarray]
    times: list[datetime] = field(default_factory=list)
    rows_left: list[np.ndarray] = field(default_factory=list)
    rows_right: list[np.ndarray] = field(default_factory=list)


def _sample(mask: np.ndarray, where: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    ys, xs = where
    inside = (ys >= 0) & (xs >= 0)
    row = np.zeros(ys.shape, dtype=bool)
    row[inside] = mask[ys[inside], xs[inside]] > 0
    return row


class LoopCounter:
    """Virtual loops on one camera's counting lines; feed every analysed frame's foreground in order."""

    def __init__(self, camera_id: str, lines: Sequence[CountingLine], settings: CountingSettings) -> None:
        if not lines:
            raise ValueError(f"camera {camera_id!r}: a loop counter needs at least one counting line")
        self.camera_id = camera_id
        self.lines = tuple(lines)
        self.settings = settings
        self._loops: list[_Loop] | None = None
        self._shape: tuple[int, int] | None = None
        self._scale = 1.0
        self.undetermined = 0
        """Streaks counted by no direction: both sides were reached on the same frames."""

    @property
    def held_rows(self) -> int:
        """Most rows one of the loops keeps now (what its memory holds)."""
        return max((len(loop.times) for loop in self._loops or []), default=0)

    @classmethod
    def for_camera(cls, camera_id: str, settings: CountingSettings) -> LoopCounter | None:
        """The camera's loops from the settings alone; None unless its lines are counted by loop."""
        return cls.for_config(settings.for_camera(camera_id), settings)

    @classmethod
    def for_config(
        cls, config: CameraCountingConfig | None, settings: CountingSettings
    ) -> LoopCounter | None:
        """The loops of a camera's configuration (`lines.counting_for`); None unless counted by loop."""
        if config is None or not config.lines or config.method != "loop":
            return None
        return cls(config.camera_id, lines_of(config), settings)

    def _geometry(self, shape: tuple[int, int], scale: float) -> list[_Loop]:
        loops: list[_Loop] = []
        offset = self.settings.loop_offset_px
        for line in self.lines:
            (ax, ay), (bx, by) = line.a, line.b
            n = max(2, math.ceil(line.length * scale) + 1)
            u = np.linspace(0.0, 1.0, n)
            # Right-hand side of a -> b on the screen (y down) is (-dy, dx) / length.
            nx, ny = -(by - ay) / line.length, (bx - ax) / line.length
            sides = []
            for sign in (-1.0, 1.0):
                x = (ax + u * (bx - ax) + sign * offset * nx) * scale
                y = (ay + u * (by - ay) + sign * offset * ny) * scale
                xi, yi = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
                outside = (xi < 0) | (yi < 0) | (xi >= shape[1]) | (yi >= shape[0])
                xi[outside], yi[outside] = -1, -1
                sides.append((yi, xi))
            loops.append(_Loop(line, sides[0], sides[1]))
        return loops

    def add(
        self, timestamp: datetime, foreground: np.ndarray | None, scale: float = 1.0
    ) -> list[LineCrossing]:
        """One analysed frame's foreground mask (None while the gate learns: an empty row);
        returns the crossings of the streaks this frame completed."""
        if foreground is not None:
            shape = (int(foreground.shape[0]), int(foreground.shape[1]))
            if self._loops is None or shape != self._shape or scale != self._scale:
                # First mask, or the stream's resolution changed: what was open is counted as it is.
                done = self.finish() if self._loops is not None else []
                self._loops, self._shape, self._scale = self._geometry(shape, scale), shape, scale
                return done + self._add_rows(timestamp, foreground)
            return self._add_rows(timestamp, foreground)
        if self._loops is None:
            return []
        return self._add_rows(timestamp, None)

    def _add_rows(self, timestamp: datetime, foreground: np.ndarray | None) -> list[LineCrossing]:
        assert self._loops is not None
        out: list[LineCrossing] = []
        for loop in self._loops:
            n = loop.left[0].shape[0]
            loop.times.append(timestamp)
            loop.rows_left.append(
                _sample(foreground, loop.left) if foreground is not None else np.zeros(n, bool)
            )
            loop.rows_right.append(
                _sample(foreground, loop.right) if foreground is not None else np.zeros(n, bool)
            )
            out.extend(self._emit(loop, final=len(loop.times) > MAX_ROWS))
        out.sort(key=lambda c: c.timestamp)
        return out

    def finish(self) -> list[LineCrossing]:
        """End of the stream: every streak still open is counted as it is."""
        out = [c for loop in self._loops or [] for c in self._emit(loop, final=True)]
        out.sort(key=lambda c: c.timestamp)
        return out

    def _emit(self, loop: _Loop, *, final: bool) -> list[LineCrossing]:
        if not loop.times:
            return []
        left = np.stack(loop.rows_left)
        right = np.stack(loop.rows_right)
        union = cv2.morphologyEx((left | right).astype(np.uint8), cv2.MORPH_CLOSE, _CLOSE)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(union, connectivity=8)
        last = len(loop.times) - 1
        gap = self.settings.loop_gap_frames
        out: list[LineCrossing] = []
        cut = last + 1 if final else last - gap + 1  # rows kept from here on
        done: list[int] = []
        for i in range(1, count):
            u0, r0, width, height, area = (int(v) for v in stats[i])
            if not final and r0 + height - 1 > last - gap:
                cut = min(cut, r0)  # still open: keep its rows
                continue
            done.append(i)
            if area >= self.settings.loop_min_area:
                crossing = self._crossing(loop, labels == i, left, right, u0, width, area, height)
                if crossing is not None:
                    out.append(crossing)
        cut = max(cut, 0)
        if done and cut <= last:
            # Streaks counted (or dropped) that share kept rows with open ones leave those rows:
            # they must not come back as new streaks, nor hold the rows of a busy road forever.
            gone = np.isin(labels[cut:], done)
            for k in range(cut, last + 1):
                row_gone = gone[k - cut]
                if row_gone.any():
                    loop.rows_left[k] = loop.rows_left[k] & ~row_gone
                    loop.rows_right[k] = loop.rows_right[k] & ~row_gone
        if cut > 0:
            del loop.times[:cut], loop.rows_left[:cut], loop.rows_right[:cut]
        return out

    def _crossing(
        self,
        loop: _Loop,
        streak: np.ndarray,
        left: np.ndarray,
        right: np.ndarray,
        u0: int,
        width: int,
        area: int,
        height: int,
    ) -> LineCrossing | None:
        rows, cols = np.nonzero(streak)
        on_left, on_right = rows[left[rows, cols]], rows[right[rows, cols]]
        if on_left.size == 0 or on_right.size == 0 or on_left.mean() == on_right.mean():
            self.undetermined += 1
            return None
        line = loop.line
        # Reached the left side first: moving left to right, the line's "in" direction.
        direction = line.in_direction if on_left.mean() < on_right.mean() else line.out_direction
        centre = float(rows.mean())
        lo, frac = math.floor(centre), centre - math.floor(centre)
        hi = min(lo + 1, len(loop.times) - 1)
        at = loop.times[lo] + (loop.times[hi] - loop.times[lo]) * frac
        n = streak.shape[1]
        (ax, ay), (bx, by) = line.a, line.b
        ends = [(ax + f * (bx - ax), ay + f * (by - ay)) for f in (u0 / (n - 1), (u0 + width - 1) / (n - 1))]
        x0, x1 = sorted(p[0] for p in ends)
        y0, y1 = sorted(p[1] for p in ends)
        box = BBox(round(x0), round(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0)))
        width_px = width / n * line.length
        return LineCrossing(
            id=observation_id(self.camera_id, "loop", at, line.name, direction, box.x, box.y, box.w),
            camera_id=self.camera_id,
            timestamp=at,
            bbox=box,
            confidence=round(area / (width * height), 4),
            line_name=line.name,
            direction=direction,
            object_class=VEHICLE if width_px >= self.settings.loop_min_width_px else UNKNOWN,
        )
