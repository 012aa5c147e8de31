"""The recorder: a camera's packets remuxed (not decoded) into segment files, each indexed when closed.

A segment starts at a keyframe (so it plays on its own) once `recording.segment_s` has passed,
and is a fragmented MP4 written as ``….mp4.part`` in fragments of `recording.fragment_ms`: a
recorder killed mid-segment loses at most one fragment, and `store.recordings.reconcile` adopts
the rest on the next start. A closed segment is renamed, then indexed; when the database is
unreachable at that moment the file stays and `reconcile` indexes it later.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
from av.container import OutputContainer
from av.packet import Packet
from av.video.stream import VideoStream
from sqlalchemy.exc import SQLAlchemyError

from safecity.store.recordings import PART, RecordingStore, Segment, segment_path
from safecity.types import RecordingMode, new_id

log = logging.getLogger(__name__)


def fragmented_mp4_options(fragment_ms: int) -> dict[str, str]:
    """Muxer options of a fragmented MP4: an empty `moov` first, a fragment at every keyframe and
    at least every `fragment_ms`, each fragment decodable on its own (`default_base_moof`)."""
    return {
        "movflags": "frag_keyframe+empty_moov+default_base_moof",
        "frag_duration": str(fragment_ms * 1000),
    }


@dataclass
class _Open:
    segment_id: str
    start: datetime
    part: Path
    rel: str
    output: OutputContainer
    stream: VideoStream
    base_dts: int
    time_base: Fraction
    last_end: int
    """The end of the last packet (pts + duration), in the input's time base."""


class SegmentRecorder:
    """A `PacketSink` that writes one camera's segments and indexes them."""

    def __init__(
        self,
        store: RecordingStore,
        camera_id: str,
        mode: RecordingMode,
        *,
        segment_s: float,
        fragment_ms: int,
    ) -> None:
        if mode is RecordingMode.NONE:
            raise ValueError(f"camera {camera_id} records nothing (recording mode none)")
        self.store = store
        self.camera_id = camera_id
        self.mode = mode
        self.segment_s = segment_s
        self.fragment_ms = fragment_ms
        self._template: VideoStream | None = None
        self._open: _Open | None = None
        self._lock = threading.Lock()

    # -- PacketSink -----------------------------------------------------------------------------

    def opened(self, stream: VideoStream) -> None:
        with self._lock:
            self._template = stream

    def packet(self, packet: Packet[VideoStream], arrival: datetime) -> None:
        with self._lock:
            current = self._open
            due = current is None or self._elapsed(current, packet) >= self.segment_s
            if packet.is_keyframe and self._template is not None and due:
                self._close()
                current = self._open = self._start(packet, arrival)
            if current is None:
                return  # waiting for the first keyframe: a segment must start with one
            assert packet.pts is not None and packet.dts is not None
            end = packet.pts + max(int(packet.duration or 0), 0)
            packet.pts -= current.base_dts
            packet.dts -= current.base_dts
            packet.stream = current.stream
            current.output.mux(packet)
            current.last_end = max(current.last_end, end)

    def closed(self) -> None:
        with self._lock:
            self._close()
            self._template = None

    # -- segments -------------------------------------------------------------------------------

    @staticmethod
    def _elapsed(current: _Open, packet: Packet[VideoStream]) -> float:
        assert packet.pts is not None
        return float((packet.pts - current.base_dts) * current.time_base)

    def _start(self, packet: Packet[VideoStream], arrival: datetime) -> _Open:
        assert self._template is not None and packet.dts is not None and packet.time_base is not None
        segment_id = new_id()
        rel = segment_path(self.camera_id, arrival, self.mode, segment_id)
        final = self.store.file(rel)
        final.parent.mkdir(parents=True, exist_ok=True)
        part = final.with_name(final.name + PART)
        output = av.open(str(part), "w", format="mp4", options=fragmented_mp4_options(self.fragment_ms))
        stream = output.add_stream_from_template(self._template)
        return _Open(segment_id, arrival, part, rel, output, stream, packet.dts, packet.time_base, packet.dts)

    def _close(self) -> None:
        current, self._open = self._open, None
        if current is None:
            return
        try:
            current.output.close()
        except av.FFmpegError:
            log.exception("closing segment %s failed; reconcile will adopt or delete it", current.part)
            return
        seconds = float((current.last_end - current.base_dts) * current.time_base)
        final = current.part.with_name(current.part.name.removesuffix(PART))
        os.replace(current.part, final)
        segment = Segment(
            current.segment_id,
            self.camera_id,
            current.start,
            current.start + timedelta(seconds=max(seconds, 0.0)),
            current.rel,
            final.stat().st_size,
            self.mode,
        )
        try:
            self.store.add(segment)
        except SQLAlchemyError:
            log.warning("segment %s not indexed (database unreachable); reconcile indexes it", current.rel)


def probe_seconds(path: Path) -> float | None:
    """Seconds of video a segment file holds (a `.part` one up to its last whole fragment); None
    when it holds none that plays (no header, no whole fragment, not MP4)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            first: int | None = None
            last_end: int | None = None
            time_base = stream.time_base
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                if first is None:
                    first = packet.dts if packet.dts is not None else packet.pts
                last_end = max(last_end or 0, packet.pts + int(packet.duration or 0))
            if first is None or last_end is None or time_base is None:
                return None
            return float((last_end - first) * time_base) or None
    except (av.FFmpegError, OSError):
        return None
