"""The file source: sampling, timestamps, clear errors for missing, non-video, corrupt, truncated files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from videos import T0, square_clip, square_frames, write_video

from safecity.sources.errors import SourceError
from safecity.sources.file import FileSource
from safecity.types import Frame

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_VIDEO = REPO_ROOT / ".." / "shared" / "data" / "video" / "bgslibrary_video02_motorway_cctv.avi"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 frames, 320x240, 25 fps, H.264 in mp4 (index at the end, as recorders write it)."""
    path = tmp_path_factory.mktemp("clip") / "square.mp4"
    square_clip(path)
    return path


def read_all(path: Path, sample_fps: float | None = None, start_time: datetime = T0) -> list[Frame]:
    with FileSource(path, "cam-1", start_time=start_time, sample_fps=sample_fps) as source:
        return list(source)


def read_until_error(source: FileSource) -> tuple[list[Frame], SourceError | None]:
    frames: list[Frame] = []
    try:
        for frame in source:
            frames.append(frame)
    except SourceError as exc:
        return frames, exc
    return frames, None


# -- reading and sampling -------------------------------------------------------------------


def test_every_frame_is_yielded_as_bgr_with_its_decoded_index(clip: Path) -> None:
    frames = read_all(clip)

    assert [f.index for f in frames] == list(range(64))
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in frames)
    assert all(f.camera_id == "cam-1" for f in frames)


def test_stream_properties_come_from_the_container(clip: Path) -> None:
    with FileSource(clip, "cam-1", start_time=T0, sample_fps=None) as source:
        assert (source.fps, source.frame_count, source.width, source.height) == (25.0, 64, 320, 240)
        assert source.duration_s == pytest.approx(2.56)


def test_sampling_25_to_5_fps_keeps_every_fifth_frame(clip: Path) -> None:
    frames = read_all(clip, sample_fps=5.0)

    assert [f.index for f in frames] == list(range(0, 64, 5))


def test_sampled_timestamps_increase_monotonically(clip: Path) -> None:
    frames = read_all(clip, sample_fps=5.0)

    times = [f.timestamp for f in frames]
    assert all(later > earlier for earlier, later in pairwise(times))
    assert (times[1] - times[0]).total_seconds() == pytest.approx(0.2)


def test_sample_rate_above_the_stream_rate_keeps_every_frame(clip: Path) -> None:
    assert len(read_all(clip, sample_fps=50.0)) == 64


def test_timestamp_is_start_time_plus_pts(clip: Path) -> None:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        pts_s = sorted(float(f.pts * stream.time_base) for f in container.decode(stream) if f.pts is not None)

    frames = read_all(clip)

    assert [f.pts_s for f in frames] == pytest.approx(pts_s)
    assert all(f.timestamp == T0 + timedelta(seconds=f.pts_s) for f in frames)


def test_counts_decoded_and_yielded_frames(clip: Path) -> None:
    with FileSource(clip, "cam-1", start_time=T0, sample_fps=5.0) as source:
        list(source)
        assert (source.decoded_frames, source.yielded_frames) == (64, 13)


def test_channels_are_in_bgr_order(tmp_path: Path) -> None:
    blue = np.zeros((64, 64, 3), np.uint8)
    blue[..., 0] = 200  # B of BGR
    path = write_video(tmp_path / "blue.mp4", [blue] * 5)

    image = read_all(path)[0].image

    assert image[..., 0].mean() > 150
    assert image[..., 2].mean() < 50


def test_images_are_contiguous_when_rows_are_padded(tmp_path: Path) -> None:
    # 322 px is not a multiple of the decoder's line alignment, so its rows come padded.
    images, _ = square_frames(frames=5, width=322, height=242)
    path = write_video(tmp_path / "odd.mp4", images)

    frame = read_all(path)[0]

    assert frame.image.shape == (242, 322, 3)
    assert frame.image.flags["C_CONTIGUOUS"]


# -- misuse ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"sample_fps": 0.0}, "sample_fps must be a positive number"),
        ({"sample_fps": float("nan")}, "sample_fps must be a positive number"),
        ({"start_time": datetime(2026, 3, 2, 7, 30)}, "start_time must be timezone-aware"),
        ({"camera_id": ""}, "camera_id must be a non-empty string"),
    ],
)
def test_bad_arguments_raise_value_error(clip: Path, kwargs: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {"camera_id": "cam-1", "start_time": T0, "sample_fps": None, **kwargs}
    with pytest.raises(ValueError, match=fragment):
        FileSource(clip, **args)  # type: ignore[arg-type]


def test_iterating_before_open_raises(clip: Path) -> None:
    with pytest.raises(RuntimeError, match="not open"):
        iter(FileSource(clip, "cam-1", start_time=T0, sample_fps=None))


def test_a_source_is_read_once(clip: Path) -> None:
    with FileSource(clip, "cam-1", start_time=T0, sample_fps=None) as source:
        list(source)
        with pytest.raises(RuntimeError, match="already read"):
            iter(source)


# -- files that cannot be opened -------------------------------------------------------------


def _missing(tmp: Path) -> Path:
    return tmp / "missing.mp4"


def _directory(tmp: Path) -> Path:
    return tmp


def _empty(tmp: Path) -> Path:
    (tmp / "empty.mp4").touch()
    return tmp / "empty.mp4"


def _text(tmp: Path) -> Path:
    (tmp / "notes.mp4").write_text("this is not a video\n" * 20)
    return tmp / "notes.mp4"


def _jpeg(tmp: Path) -> Path:
    cv2.imwrite(str(tmp / "still.jpg"), np.full((48, 64, 3), 128, np.uint8))
    return tmp / "still.jpg"


def _audio_only(tmp: Path) -> Path:
    path = tmp / "sound.wav"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        samples = np.zeros((1, 8000), np.int16)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _mp4_cut_before_its_index(tmp: Path) -> Path:
    # The index (moov box) is written last, so the first half of the file cannot be opened.
    path = tmp / "cut.mp4"
    square_clip(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _mp4_header_then_garbage(tmp: Path) -> Path:
    path = tmp / "garbage.mp4"
    rng = np.random.default_rng(1)
    path.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + rng.bytes(4000))
    return path


def _mp4_with_every_frame_destroyed(tmp: Path) -> Path:
    # Index intact (written first), all coded pictures overwritten: nothing decodes.
    path = tmp / "destroyed.mp4"
    square_clip(path, frames=16, faststart=True)
    data = bytearray(path.read_bytes())
    mdat = data.index(b"mdat") + 4
    data[mdat:] = bytes(len(data) - mdat)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (_missing, "does not exist"),
        (_directory, "is a directory"),
        (_empty, "is empty"),
        (_text, "no video stream"),
        (_jpeg, "no video stream"),
        (_audio_only, "no video stream"),
        (_mp4_cut_before_its_index, "truncated or corrupt"),
        (_mp4_header_then_garbage, "truncated or corrupt"),
        (_mp4_with_every_frame_destroyed, "no frame could be decoded"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else None,
)
def test_unreadable_file_fails_at_open_naming_it(
    tmp_path: Path, make: Callable[[Path], Path], fragment: str
) -> None:
    path = make(tmp_path)
    source = FileSource(path, "cam-1", start_time=T0, sample_fps=None)

    with pytest.raises(SourceError, match=fragment) as caught:
        source.open()

    assert str(path) in str(caught.value)


# -- damaged files: the readable part, then an error -----------------------------------------


def test_truncated_file_yields_its_frames_then_raises_with_the_time(tmp_path: Path) -> None:
    path = tmp_path / "cut.mp4"
    square_clip(path, faststart=True)  # index first, so the first half still decodes
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    with FileSource(path, "cam-1", start_time=T0, sample_fps=None) as source:
        frames, error = read_until_error(source)

    assert 0 < len(frames) < 64
    assert error is not None
    end_s = frames[-1].pts_s + 0.04
    assert f"truncated or corrupt at {end_s:.2f} s" in str(error)
    assert str(path) in str(error)


def test_garbage_in_the_middle_yields_what_decodes_then_raises(tmp_path: Path) -> None:
    path = tmp_path / "damaged.mp4"
    square_clip(path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 3
    data[middle : middle + 2000] = np.random.default_rng(2).bytes(2000)
    path.write_bytes(bytes(data))

    with FileSource(path, "cam-1", start_time=T0, sample_fps=None) as source:
        frames, error = read_until_error(source)
        rejected, corrupt = source.rejected_packets, source.corrupt_frames

    assert 0 < len(frames) < 64
    assert error is not None
    assert "truncated or corrupt at" in str(error)
    assert rejected + corrupt > 0


# -- real footage (optional) -----------------------------------------------------------------


def test_real_cctv_avi_reads_to_the_end_with_increasing_time() -> None:
    if not SHARED_VIDEO.is_file():
        pytest.skip(f"shared test video not found at {SHARED_VIDEO.resolve()} (../shared/data is optional)")

    frames = read_all(SHARED_VIDEO, sample_fps=5.0)

    # 30 s at 5 fps; the AVI's MPEG-4 packed B-frames come out of the decoder mislabelled.
    assert len(frames) == pytest.approx(150, abs=2)
    times = [f.pts_s for f in frames]
    assert all(later > earlier for earlier, later in pairwise(times))
