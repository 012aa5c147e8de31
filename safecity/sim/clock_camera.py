"""A live "clock camera" over RTSP: every frame carries the wall-clock time it was made (timecode.py).

Run with the *system* Python, which has GStreamer's introspection bindings (as rtsp_server.py);
`clock_rtsp.ClockCamera` starts and stops it from the project's side:

    /usr/bin/python3 safecity/sim/clock_camera.py PORT [--mount /clock] [--size 640x360]
        [--fps 25] [--gop 25] [--bitrate 1500000]

It prints ``READY rtsp://127.0.0.1:PORT`` once it listens, and runs until killed.

How: an ``appsrc`` in live mode asks for a frame whenever its queue is empty; the callback waits
for the frame's due time on a steady 1/fps grid, reads the wall clock, draws that time as the
timecode band (plus a moving bar below it, so the encoder has motion to code) straight into I420
bytes, and pushes it; ``do-timestamp`` stamps it with the pipeline's running time. openh264enc
(Debian's gstreamer1.0-plugins-bad) encodes it at once: baseline profile, no B-frames, one frame
in, one frame out, so the camera adds about one encode (a few ms) to the latency, like a real
camera set for low latency. A frame that comes late is not caught up: the grid skips ahead, so
the stream never holds a backlog. All clients of the mount share one stream, as from a camera.

No numpy here (the system Python has none): the frame is built from `timecode.scanlines`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

GRAY = 128
BAR_WIDTH = 16
ELEMENTS = ("appsrc", "openh264enc", "h264parse", "rtph264pay")


def _timecode() -> ModuleType:
    """timecode.py beside this file, loaded by path: importing the `safecity` package needs the
    project's virtualenv, which this interpreter is not."""
    path = Path(__file__).resolve().with_name("timecode.py")
    spec = importlib.util.spec_from_file_location("safecity_timecode", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


timecode = _timecode()


class Frames:
    """I420 frames of one stream: the timecode band on top, a bar moving across the gray below."""

    def __init__(self, width: int, height: int) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"I420 needs an even width and height, got {width}x{height}")
        self.width = width
        self.height = height
        self.cell: int = timecode.cell_size(width)
        self.band: int = timecode.band_height(width)
        if self.band >= height:
            raise ValueError(f"a {width}x{height} frame has no room below the {self.band} px timecode band")
        self.chroma = bytes([128]) * (2 * (width // 2) * (height // 2))

    def make(self, ms: int, n: int) -> bytes:
        """Frame `n` (drives the bar) stamped with `ms` since the epoch."""
        lines: list[bytes] = timecode.scanlines(ms, self.width)
        top = b"".join(line * self.cell for line in lines)
        x = (n * 8) % (self.width - BAR_WIDTH)
        row = bytes([GRAY]) * x + bytes([235]) * BAR_WIDTH + bytes([GRAY]) * (self.width - x - BAR_WIDTH)
        return top + row * (self.height - self.band) + self.chroma


class ClockFactory(GstRtspServer.RTSPMediaFactory):  # type: ignore[misc]
    """One shared live stream of clock frames, encoded as it is made."""

    def __init__(self, frames: Frames, fps: int, gop: int, bitrate: int) -> None:
        super().__init__()
        self.frames = frames
        self.fps = fps
        self.set_shared(True)
        self.set_launch(
            "( appsrc name=src is-live=true do-timestamp=true format=time "
            f"! openh264enc gop-size={gop} bitrate={bitrate} rate-control=bitrate usage-type=camera "
            "complexity=low ! video/x-h264,profile=constrained-baseline "
            "! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
        self.connect("media-configure", self._on_media_configure)

    def _on_media_configure(self, _factory: object, media: GstRtspServer.RTSPMedia) -> None:
        appsrc = media.get_element().get_by_name_recurse_up("src")
        caps = (
            f"video/x-raw,format=I420,width={self.frames.width},height={self.frames.height},"
            f"framerate={self.fps}/1"
        )
        appsrc.set_property("caps", Gst.Caps.from_string(caps))
        period = 1.0 / self.fps
        # A fresh grid per media: a media is prepared again after its last client left.
        state = {"n": 0, "due": 0.0}

        def need_data(src: Gst.Element, _length: int) -> None:
            now = time.monotonic()
            if state["due"] == 0.0 or now - state["due"] > period:
                state["due"] = now  # first frame, or late: skip ahead rather than burst
            else:
                time.sleep(max(0.0, state["due"] - now))
            n = int(state["n"])
            state["n"] = n + 1
            state["due"] += period
            data = self.frames.make(time.time_ns() // 1_000_000, n)
            src.emit("push-buffer", Gst.Buffer.new_wrapped(data))

        appsrc.connect("need-data", need_data)


def size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    try:
        return int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size is WIDTHxHEIGHT, got {text!r}") from None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="A live RTSP camera whose frames carry the wall-clock time.")
    parser.add_argument("port", type=int, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--mount", default="/clock")
    parser.add_argument("--size", type=size, default=(640, 360), help="WIDTHxHEIGHT, even numbers")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--gop", type=int, default=25, help="frames from one keyframe to the next")
    parser.add_argument("--bitrate", type=int, default=1_500_000, help="bits per second")
    args = parser.parse_args(argv[1:])
    if args.fps < 1 or args.gop < 1 or args.bitrate < 10_000:
        parser.error("--fps and --gop must be at least 1, --bitrate at least 10000")
    Gst.init(None)
    missing = [e for e in ELEMENTS if Gst.ElementFactory.find(e) is None]
    if missing:
        print(f"GStreamer elements missing: {' '.join(missing)}", file=sys.stderr)
        return 1
    frames = Frames(*args.size)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mount = "/" + args.mount.lstrip("/")
    server.get_mount_points().add_factory(mount, ClockFactory(frames, args.fps, args.gop, args.bitrate))
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1
    print(f"READY rtsp://127.0.0.1:{server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
