"""Recording from a real RTSP camera (the GStreamer test server): segments, their index, clips across
segments, the live view's shared stream, and a recorder killed with SIGKILL mid-segment."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from rtsp import RtspServer, unavailable_reason
from services import need_service
from videos import keyframed_clip

from safecity.config import RecordingSettings
from safecity.store.database import Database
from safecity.store.recordings import PART, RecordingStore
from safecity.types import Camera, RecordingMode
from safecity.video.boxes import BoxSplitter
from safecity.video.clips import NoVideo, write_clip
from safecity.video.hub import VideoHub
from safecity.video.segments import probe_seconds

ROOT = Path(__file__).resolve().parents[2]


def eventually(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def camera_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if (why := unavailable_reason()) is not None:
        need_service(why)
    clip = keyframed_clip(tmp_path_factory.mktemp("camera") / "cam.mp4")
    with RtspServer({"/cam": clip}) as server:
        yield server.url("/cam")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordingStore]:
    db = Database.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield RecordingStore(db, tmp_path / "recordings")
    db.close()


def _camera(url: str, mode: RecordingMode = RecordingMode.CONTINUOUS) -> Camera:
    return Camera(
        id="cam-1", name="Gate", site_id="s1", latitude=0, longitude=0, stream_url=url, recording=mode
    )


SETTINGS = RecordingSettings(segment_s=2, fragment_ms=200, live_fragment_ms=200, live_idle_s=0)


def _record(url: str, store: RecordingStore) -> RecordingStore:
    """At least three closed segments of the camera."""
    hub = VideoHub(SETTINGS, store, clock=lambda: datetime.now(UTC))
    try:
        assert hub.record([_camera(url)]) == ["cam-1"]
        eventually(lambda: len(store.all()) >= 3, 30, "three segments")
    finally:
        hub.stop()
    return store


@pytest.fixture(scope="module")
def recorded(camera_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordingStore]:
    """Recorded once for the tests that only read (the module's tests share it)."""
    folder = tmp_path_factory.mktemp("recorded")
    db = Database.open(f"sqlite:///{folder / 'db.sqlite'}")
    yield _record(camera_url, RecordingStore(db, folder / "recordings"))
    db.close()


def test_segments_are_indexed_with_their_files(recorded: RecordingStore) -> None:
    segments = recorded.all()
    on_disk = sorted(p.relative_to(recorded.root).as_posix() for p in recorded.root.rglob("*.mp4"))
    assert sorted(s.path for s in segments) == on_disk
    assert not list(recorded.root.rglob("*" + PART))


def test_each_segment_starts_with_a_keyframe_and_lasts_about_segment_s(recorded: RecordingStore) -> None:
    for segment in recorded.all():
        with av.open(str(recorded.file(segment))) as container:
            first = next(container.demux(container.streams.video[0]))
            assert first.is_keyframe
        probed = probe_seconds(recorded.file(segment))
        assert probed is not None and abs(probed - segment.duration_s) < 0.2
    closed = recorded.all()[:-1]  # the last one was cut short by stop()
    assert all(1.9 <= s.duration_s <= 3.1 for s in closed)


def test_consecutive_segments_leave_no_gap(recorded: RecordingStore) -> None:
    segments = recorded.all()
    for a, b in itertools.pairwise(segments):
        assert abs((b.start - a.end).total_seconds()) < 0.5


def test_a_clip_across_segments_plays_from_a_keyframe(recorded: RecordingStore, tmp_path: Path) -> None:
    segments = recorded.all()
    since = segments[0].start + timedelta(seconds=1.5)
    until = segments[2].start + timedelta(seconds=1)
    clip = write_clip(recorded, segments, since, until, tmp_path / "clip.mp4")
    assert clip.segments == 3
    assert clip.start <= since and (since - clip.start).total_seconds() <= 1.05  # keyframes every 1 s
    with av.open(str(clip.path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
    seconds = len(frames) / 25
    assert abs(seconds - (until - clip.start).total_seconds()) < 0.3
    assert frames[0].key_frame


def test_a_span_without_recordings_is_no_video(recorded: RecordingStore, tmp_path: Path) -> None:
    later = recorded.all()[-1].end + timedelta(hours=1)
    with pytest.raises(NoVideo, match="no recorded video"):
        write_clip(recorded, recorded.all(), later, later + timedelta(seconds=10), tmp_path / "none.mp4")


def test_live_viewers_share_one_connection_and_start_with_the_init_segment(
    camera_url: str, store: RecordingStore
) -> None:
    hub = VideoHub(SETTINGS, store, clock=lambda: datetime.now(UTC))
    camera = _camera(camera_url, RecordingMode.NONE)
    try:
        viewers = [hub.live(camera) for _ in range(3)]
        kinds: list[list[str]] = []
        for viewer in viewers:
            splitter = BoxSplitter()
            seen: list[str] = []
            for chunk in viewer.chunks(15):
                seen += [b.kind for b in splitter.feed(chunk)]
                if seen.count("moof") >= 5:
                    break
            kinds.append(seen)
        assert len(hub.status()) == 1  # one connection for three viewers
        for seen in kinds:
            assert seen[:2] == ["ftyp", "moov"] and seen[2] == "moof"
    finally:
        hub.stop()


_KILLED_RECORDER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from safecity.config import RecordingSettings
    from safecity.store.database import Database
    from safecity.store.recordings import RecordingStore
    from safecity.types import Camera, RecordingMode
    from safecity.video.hub import VideoHub
    url, folder = sys.argv[1], Path(sys.argv[2])
    store = RecordingStore(Database.open(f"sqlite:///{folder / 'db.sqlite'}"), folder / "recordings")
    camera = Camera(id="cam-1", name="Gate", site_id="s1", latitude=0, longitude=0, stream_url=url,
                    recording=RecordingMode.CONTINUOUS)
    settings = RecordingSettings(segment_s=60, fragment_ms=200)
    VideoHub(settings, store, clock=lambda: datetime.now(UTC)).record([camera])
    print("RECORDING", flush=True)
    time.sleep(600)
    """
)


def test_a_recorder_killed_mid_segment_leaves_nothing_the_index_does_not_know(
    camera_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RECORDER, camera_url, str(tmp_path)], stdout=subprocess.PIPE, env=env
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == b"RECORDING"
        parts = lambda: [p for p in (tmp_path / "recordings").rglob("*" + PART) if p.stat().st_size > 4096]  # noqa: E731
        eventually(lambda: bool(parts()), 30, "a segment being written")
        time.sleep(2)  # some whole fragments in it
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    db = Database.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store = RecordingStore(db, tmp_path / "recordings")
    assert store.all() == []  # killed before any segment closed
    report = VideoHub(SETTINGS, store, clock=lambda: datetime.now(UTC)).reconcile()
    segments = store.all()
    assert len(report.adopted) == 1 and [s.path for s in segments] == list(report.adopted)
    assert not list(store.root.rglob("*" + PART))
    on_disk = sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("*.mp4"))
    assert on_disk == [s.path for s in segments]
    assert segments[0].duration_s >= 1.5  # what was written before the kill still plays
    db.close()


def test_reconcile_drops_rows_whose_file_is_gone_and_deletes_files_without_video(
    camera_url: str, store: RecordingStore
) -> None:
    recorded = _record(camera_url, store)
    gone, *rest = recorded.all()
    recorded.file(gone).unlink()
    junk = recorded.file(rest[0]).with_name(f"{int(time.time() * 1000)}-continuous-{'0' * 32}.mp4{PART}")
    junk.write_bytes(b"\x00\x00\x00\x08free")
    report = recorded.reconcile(probe_seconds)
    assert report.dropped_rows == (gone.path,)
    assert report.deleted_files == (junk.relative_to(recorded.root).as_posix(),)
    assert [s.id for s in recorded.all()] == [s.id for s in rest]
