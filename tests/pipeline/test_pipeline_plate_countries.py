"""The pipeline tells the plate reader which countries the camera expects, and stores folded keys."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from factories import camera
from videos import frame_at, square_frames

from safecity.analytics.plates.reader import PlateCandidate, PlateReader
from safecity.config import PlateSettings, Settings
from safecity.pipeline.process import CameraPipeline
from safecity.types import BBox, BGRImage, Observation, PlateRead

DEPLOYMENT = ["HR", "RS"]


class RecordingReader(PlateReader):
    """A PlateReader that loads no models: it records the countries of each call and reads `found`."""

    def __init__(self, found: Sequence[PlateCandidate] = ()) -> None:
        self.settings = PlateSettings(countries=DEPLOYMENT)
        self.found = list(found)
        self.asked: list[tuple[str, ...] | None] = []

    def read_regions(
        self, image: BGRImage, regions: Sequence[BBox], *, countries: Sequence[str] | None = None
    ) -> list[PlateCandidate]:
        self.asked.append(None if countries is None else tuple(countries))
        return list(self.found)


class ListSink:
    def __init__(self) -> None:
        self.observations: list[Observation] = []

    def submit_many(self, observations: Sequence[Observation]) -> None:
        self.observations.extend(observations)


def run(plate_countries: tuple[str, ...], reader: RecordingReader) -> ListSink:
    sink = ListSink()
    settings = Settings(plates=PlateSettings(countries=DEPLOYMENT))
    pipeline = CameraPipeline(
        camera(plate_countries=plate_countries), settings, sink=sink, snapshots=None, plate_reader=reader
    )
    images, _ = square_frames(frames=24)
    for index, image in enumerate(images):
        pipeline.feed(frame_at(index, image))
    pipeline.finish()
    return sink


@pytest.mark.parametrize(
    ("plate_countries", "expected"),
    [(("RS", "BA", "ME"), ("RS", "BA", "ME")), ((), tuple(DEPLOYMENT))],
)
def test_reader_is_asked_for_the_cameras_countries(
    plate_countries: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    reader = RecordingReader()
    run(plate_countries, reader)
    assert reader.asked and set(reader.asked) == {expected}


def test_voted_read_keeps_printed_text_and_stores_folded_key() -> None:
    read = PlateCandidate(
        bbox=BBox(100, 100, 40, 12),
        raw="ŠA 123-AB",
        text="ŠA 123-AB",
        normalised="ŠA123AB",
        country="RS",
        valid=True,
        confidence=0.95,
        ocr_confidence=0.95,
    )
    sink = run(("RS",), RecordingReader([read]))
    plates = [o for o in sink.observations if isinstance(o, PlateRead)]
    # One passage or two (in and out of the square's track): each stores the same text and key.
    assert plates and {(p.text, p.normalised) for p in plates} == {("ŠA 123-AB", "SA123AB")}
