"""An RTSP server for the synthetic city and for tests: serves mp4 files (H.264; also H.265 and MJPEG,
as cameras send them), each looping forever.

Run with the *system* Python, which has GStreamer's introspection bindings (Debian packages
python3-gi, gir1.2-gst-rtsp-server-1.0 and the GStreamer plugins; see .ci/run); the project's
virtualenv has no ``gi``:

    /usr/bin/python3 safecity/sim/rtsp_server.py PORT /cam1=/tmp/a.mp4 [/cam2=/tmp/b.mp4 ...]

It prints ``READY rtsp://127.0.0.1:PORT`` on stdout once it listens, and runs until killed.

How: each file's H.264 access units are demuxed once into memory (no decoding, so serving costs
almost no CPU), then pushed by an ``appsrc`` into ``rtph264pay`` again and again, with the
timestamps of every lap shifted by the clip's duration, so clients see one endless stream with
steadily increasing timestamps. A ``filesrc ! qtdemux`` pipeline would end at the end of the
file, and looping it by seeking inside gst-rtsp-server's own pipeline is fragile. The media is
shared: all clients of a mount see the same stream, as from a camera.

The file's bytes are served as they are, so a test can damage the H.264 payload of an mp4 (keep
the container's index intact) to send a corrupt stream.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


@dataclass(frozen=True)
class Sample:
    data: bytes
    pts: int  # ns from the clip's start
    dts: int
    delta: bool  # not a keyframe


@dataclass(frozen=True)
class Clip:
    caps: Gst.Caps
    samples: list[Sample]
    duration: int  # ns of one lap
    payloader: str


CODECS = {
    # qtdemux caps name: (parser into access units, RTP payloader)
    "video/x-h264": (
        "h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au",
        "rtph264pay config-interval=1",
    ),
    "video/x-h265": (
        "h265parse config-interval=-1 ! video/x-h265,stream-format=byte-stream,alignment=au",
        "rtph265pay config-interval=1",
    ),
    "image/jpeg": ("jpegparse", "rtpjpegpay"),
}
"""What a camera may send: H.264 (most), H.265 (newer cameras), MJPEG (old and cheap ones)."""


def codec_of(path: str) -> str:
    """The caps name of the file's video track (its first sample's)."""
    pipeline = Gst.parse_launch("filesrc name=src ! qtdemux ! appsink name=sink sync=false")
    pipeline.get_by_name("src").set_property("location", path)
    pipeline.set_state(Gst.State.PLAYING)
    sample = pipeline.get_by_name("sink").emit("try-pull-sample", 10 * Gst.SECOND)
    pipeline.set_state(Gst.State.NULL)
    if sample is None:
        raise RuntimeError(f"{path}: no video found")
    name = str(sample.get_caps().get_structure(0).get_name())
    if name not in CODECS:
        raise RuntimeError(f"{path}: {name} cannot be served; one of {', '.join(CODECS)}")
    return name


def frame_ns(caps: Gst.Caps) -> int:
    """One frame interval from the caps' framerate (25 fps when they name none)."""
    ok, num, den = caps.get_structure(0).get_fraction("framerate")
    second = int(Gst.SECOND)
    return second * int(den) // int(num) if ok and num > 0 else second // 25


def load_clip(path: str) -> Clip:
    """Every access unit of the file's video track (H.264 or H.265 as Annex B with the parameter sets
    before each keyframe, or JPEG images)."""
    parse, payloader = CODECS[codec_of(path)]
    pipeline = Gst.parse_launch(f"filesrc name=src ! qtdemux ! {parse} ! appsink name=sink sync=false")
    pipeline.get_by_name("src").set_property("location", path)
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    raw: list[tuple[bytes, int, int, int, bool]] = []
    caps: Gst.Caps | None = None
    while True:
        sample = sink.emit("try-pull-sample", 10 * Gst.SECOND)
        if sample is None:
            break
        caps = caps or sample.get_caps()
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if not ok:
            raise RuntimeError(f"cannot map a buffer of {path}")
        data = bytes(info.data)
        buf.unmap(info)
        pts = buf.pts if buf.pts != Gst.CLOCK_TIME_NONE else None
        dts = buf.dts if buf.dts != Gst.CLOCK_TIME_NONE else pts
        if pts is None or dts is None:
            raise RuntimeError(f"{path}: a sample without timestamps")
        dur = buf.duration if buf.duration != Gst.CLOCK_TIME_NONE else frame_ns(caps)
        raw.append((data, pts, dts, dur, bool(buf.get_flags() & Gst.BufferFlags.DELTA_UNIT)))
    bus = pipeline.get_bus()
    error = bus.pop_filtered(Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if error is not None:
        err, _debug = error.parse_error()
        raise RuntimeError(f"{path}: {err.message}")
    if not raw or caps is None:
        raise RuntimeError(f"{path}: no video found")
    # A lap lasts from the first to the end of the last frame shown. With B-frames decoding
    # starts earlier than showing (dts < pts); shift the lap so that no timestamp is negative.
    first_shown = min(pts for _, pts, _, _, _ in raw)
    end = max(pts + dur for _, pts, _, dur, _ in raw)
    origin = min(min(pts, dts) for _, pts, dts, _, _ in raw)
    samples = [Sample(data, pts - origin, dts - origin, delta) for data, pts, dts, _, delta in raw]
    return Clip(caps=caps, samples=samples, duration=end - first_shown, payloader=payloader)


class LoopingFactory(GstRtspServer.RTSPMediaFactory):  # type: ignore[misc]
    """One shared, endless stream of a clip."""

    def __init__(self, clip: Clip) -> None:
        super().__init__()
        self.clip = clip
        self.set_shared(True)
        self.set_launch(f"( appsrc name=src format=time ! {clip.payloader} name=pay0 pt=96 )")
        self.connect("media-configure", self._on_media_configure)

    def _on_media_configure(self, _factory: object, media: GstRtspServer.RTSPMedia) -> None:
        appsrc = media.get_element().get_by_name_recurse_up("src")
        appsrc.set_property("caps", self.clip.caps)
        # A fresh counter per media: a media is prepared again after its last client left.
        state = {"n": 0}

        def need_data(src: Gst.Element, _length: int) -> None:
            n = state["n"]
            state["n"] = n + 1
            lap, i = divmod(n, len(self.clip.samples))
            sample = self.clip.samples[i]
            shift = lap * self.clip.duration
            buf = Gst.Buffer.new_wrapped(sample.data)
            buf.pts = sample.pts + shift
            buf.dts = sample.dts + shift
            if sample.delta:
                buf.set_flags(Gst.BufferFlags.DELTA_UNIT)
            src.emit("push-buffer", buf)

        appsrc.connect("need-data", need_data)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or not all("=" in arg for arg in argv[2:]):
        print(f"usage: {argv[0]} PORT /mount=file.mp4 [...]", file=sys.stderr)
        return 2
    Gst.init(None)
    port = int(argv[1])
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    mounts = server.get_mount_points()
    for arg in argv[2:]:
        mount, path = arg.split("=", 1)
        if not mount.startswith("/"):
            mount = "/" + mount
        mounts.add_factory(mount, LoopingFactory(load_clip(path)))
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{port}", file=sys.stderr)
        return 1
    print(f"READY rtsp://127.0.0.1:{server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
