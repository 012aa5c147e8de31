"""MP4 boxes: splitting a fragmented MP4 byte stream into its top-level boxes, and reading the one
fact the live view needs from a fragment (how many samples it holds).

A fragmented MP4 is `ftyp` `moov` (the init segment a player needs first), then `moof` `mdat`
pairs, one per fragment. PyAV's muxer writes it in arbitrary chunks; `BoxSplitter` reassembles
whole boxes from them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

_HEADER = 8


@dataclass(frozen=True, slots=True)
class Box:
    kind: str
    data: bytes
    """The whole box, header included."""


class BoxSplitter:
    """Feed bytes in any chunks; take out whole top-level boxes."""

    def __init__(self, max_box: int = 64 * 1024 * 1024) -> None:
        self._buffer = bytearray()
        self.max_box = max_box

    def feed(self, chunk: bytes) -> list[Box]:
        self._buffer += chunk
        boxes: list[Box] = []
        while len(self._buffer) >= _HEADER:
            size, kind = struct.unpack(">I4s", self._buffer[:_HEADER])
            header = _HEADER
            if size == 1:  # a 64-bit size follows the type
                if len(self._buffer) < 16:
                    break
                (size,) = struct.unpack(">Q", self._buffer[8:16])
                header = 16
            if size < header or size > self.max_box:
                raise ValueError(f"MP4 box {kind!r} of size {size}: not a stream this muxer writes")
            if len(self._buffer) < size:
                break
            boxes.append(Box(kind.decode("latin-1"), bytes(self._buffer[:size])))
            del self._buffer[:size]
        return boxes


def children(box: bytes, offset: int = _HEADER) -> list[tuple[str, int, int]]:
    """(type, start, end) of the boxes inside `box` from `offset`."""
    found: list[tuple[str, int, int]] = []
    while offset + _HEADER <= len(box):
        size, kind = struct.unpack(">I4s", box[offset : offset + _HEADER])
        if size < _HEADER or offset + size > len(box):
            break
        found.append((kind.decode("latin-1"), offset, offset + size))
        offset += size
    return found


def sample_count(moof: bytes) -> int:
    """Samples in a `moof` (the sum of its `trun` sample counts, over every `traf`)."""
    total = 0
    for kind, start, end in children(moof):
        if kind != "traf":
            continue
        for inner, s, _e in children(moof[start:end]):
            if inner == "trun":
                trun = moof[start + s : start + s + 16]
                total += struct.unpack(">I", trun[12:16])[0]
    return total
