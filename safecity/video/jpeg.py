"""The live view of a camera that does not send H.264 (H.265, MJPEG, MPEG-4): JPEG images, a few a
second, that any browser shows without Media Source Extensions.

An MJPEG camera's packets are JPEG images already: they are passed on as they are, at most
`fps` a second, nothing decoded. Any other codec is decoded (every packet: later frames are
predicted from earlier ones) and a frame is encoded to JPEG, scaled to at most `width` pixels
wide, when one is due. This is done once per camera, whatever the number of viewers.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import av
import cv2
import numpy as np
from av.packet import Packet
from av.video.codeccontext import VideoCodecContext
from av.video.stream import VideoStream

from safecity.types import BGRImage

PASSED_THROUGH = frozenset({"mjpeg", "jpeg"})
"""Codecs whose packets are whole JPEG images."""
SOI = b"\xff\xd8"
"""A JPEG image's first two bytes: how the page tells an image from MP4."""


class JpegFrames:
    """One camera's packets in, a JPEG image out whenever one is due (at most `fps` a second)."""

    def __init__(
        self,
        stream: VideoStream,
        *,
        fps: float,
        width: int,
        quality: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, not {fps}")
        if width < 16:
            raise ValueError(f"width must be at least 16 pixels, not {width}")
        if not 1 <= quality <= 100:
            raise ValueError(f"quality must be 1 to 100, not {quality}")
        self.codec = stream.codec_context.name
        self.interval = 1.0 / fps
        self.width = width
        self.quality = quality
        self.clock = clock
        self._due = 0.0
        self._decoder: VideoCodecContext | None = None
        if self.codec not in PASSED_THROUGH:
            decoder = av.CodecContext.create(self.codec, "r")
            assert isinstance(decoder, VideoCodecContext)
            if stream.codec_context.extradata:  # parameter sets (VPS/SPS/PPS) from the SDP
                decoder.extradata = stream.codec_context.extradata
            # One thread: freeing a frame-threaded decoder can deadlock with PyAV's log callback
            # (a worker logging waits for the GIL held by the thread that waits for the worker).
            self._decoder = decoder

    def packet(self, packet: Packet[VideoStream]) -> bytes | None:
        """The JPEG image due now, if one is; a packet that does not decode gives none."""
        now = self.clock()
        if self._decoder is None:
            data = bytes(packet)
            if now < self._due or not data.startswith(SOI):
                return None
            self._due = now + self.interval
            return data
        try:
            frames = self._decoder.decode(packet)
        except (av.FFmpegError, ValueError):  # a damaged packet: the next keyframe repairs it
            return None
        if not frames or now < self._due:
            return None
        self._due = now + self.interval
        return self._encode(np.ascontiguousarray(frames[-1].to_ndarray(format="bgr24"), dtype=np.uint8))

    def _encode(self, image: BGRImage) -> bytes | None:
        height, width = image.shape[:2]
        if width > self.width:
            size = (self.width, max(1, round(height * self.width / width)))
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        return buf.tobytes() if ok else None
