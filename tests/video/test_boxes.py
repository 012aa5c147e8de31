"""MP4 box splitting and fragment sample counts, on a fragmented MP4 that PyAV writes."""

from __future__ import annotations

import io

import av
import pytest
from videos import keyframed_clip

from safecity.video.boxes import BoxSplitter, sample_count
from safecity.video.segments import fragmented_mp4_options


@pytest.fixture(scope="module")
def fragmented(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, int]:
    """A fragmented MP4 of a 3-s clip (bytes) and the number of packets in it."""
    clip = keyframed_clip(tmp_path_factory.mktemp("boxes") / "a.mp4", seconds=3)
    out = io.BytesIO()
    packets = 0
    with (
        av.open(str(clip)) as source,
        av.open(out, "w", format="mp4", options=fragmented_mp4_options(200)) as sink,
    ):
        stream = sink.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            sink.mux(packet)
            packets += 1
    return out.getvalue(), packets


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_boxes_come_out_whole_whatever_the_chunks(fragmented: tuple[bytes, int], chunk: int) -> None:
    data, _ = fragmented
    splitter = BoxSplitter()
    boxes = [b for i in range(0, len(data), chunk) for b in splitter.feed(data[i : i + chunk])]
    assert b"".join(b.data for b in boxes) == data
    assert [b.kind for b in boxes[:2]] == ["ftyp", "moov"]
    assert {b.kind for b in boxes[2:]} <= {"moof", "mdat", "mfra"}


def test_the_fragments_hold_every_sample(fragmented: tuple[bytes, int]) -> None:
    data, packets = fragmented
    moofs = [b for b in BoxSplitter().feed(data) if b.kind == "moof"]
    assert len(moofs) > 3  # 200-ms fragments of a 3-s clip
    assert sum(sample_count(m.data) for m in moofs) == packets


def test_a_box_with_an_impossible_size_is_refused() -> None:
    with pytest.raises(ValueError, match="not a stream this muxer writes"):
        BoxSplitter().feed(b"\x00\x00\x00\x03moov")


def test_a_half_box_waits_for_the_rest() -> None:
    assert BoxSplitter().feed(b"\x00\x00\x00\x10ftyp") == []
