"""Counting lines in the pipeline: a configured camera's tracks crossing a line are stored as crossings."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import camera, site
from sqlalchemy import select
from videos import T0, square_clip

from safecity.config import (
    CameraCountingConfig,
    CameraDefaults,
    CountingGeometry,
    CountingLineConfig,
    CountingSettings,
    Settings,
    StoreSettings,
)
from safecity.pipeline.process import process_file
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.models import LineCrossingRow
from safecity.store.observations import ObservationQueries
from safecity.store.writer import ObservationWriter
from safecity.types import Capability

CAPS = frozenset({Capability.MOTION, Capability.TRAFFIC})
# The square moves left to right across x = 160. Facing down the line (a -> b), moving towards
# +x goes from the right-hand side to the left-hand side: the line's `out_direction`.
LINE = CountingLineConfig(
    name="mid", points=((160, 0), (160, 240)), in_direction="westbound", out_direction="eastbound"
)


def _settings(tmp_path: Path, cameras: tuple[CameraCountingConfig, ...]) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        store=StoreSettings(batch_size=10),
        counting=CountingSettings(cameras=cameras),
    )


def _run(db: Database, clip: Path, settings: Settings, media: MediaStore | None) -> None:
    with ObservationWriter(db, settings.store) as writer:
        process_file(clip, camera(capabilities=CAPS), settings, sink=writer, snapshots=media, start_time=T0)


@pytest.fixture
def registered(sqlite_db: Database) -> Database:
    CameraStore(sqlite_db).save([site()], [camera(capabilities=CAPS)])
    return sqlite_db


def test_track_crossing_a_line_is_stored_as_a_crossing(registered: Database, tmp_path: Path) -> None:
    clip = tmp_path / "square.mp4"
    truth = square_clip(clip, frames=75)
    media = MediaStore(tmp_path / "media")
    _run(
        registered,
        clip,
        _settings(tmp_path, (CameraCountingConfig(camera_id="cam-1", lines=(LINE,)),)),
        media,
    )
    (track,) = ObservationQueries(registered).motion_tracks("cam-1")
    with registered.session() as session:
        rows = session.scalars(select(LineCrossingRow)).all()
        got = [(r.camera_id, r.line_name, r.direction, r.track_id, r.snapshot, r.ts) for r in rows]
    assert len(got) == 1
    camera_id, line_name, direction, track_id, snapshot, ts = got[0]
    assert (camera_id, line_name, direction, track_id) == ("cam-1", "mid", "eastbound", track.track_id)
    assert snapshot == track.snapshot  # the crossing points at its track's snapshot
    # The square's centre reaches x = 160 on frame (160 - 20 - 8) / 4 = 33 of 25 fps.
    first = next(i for i, box in enumerate(truth) if box is not None and box.x + box.w / 2 >= 160)
    assert abs((ts.replace(tzinfo=T0.tzinfo) - T0).total_seconds() - first / 25) < 0.25


def test_cameras_without_lines_store_no_crossings(registered: Database, tmp_path: Path) -> None:
    clip = tmp_path / "square.mp4"
    square_clip(clip, frames=75)
    other = CameraCountingConfig(camera_id="cam-2", lines=(LINE,))
    _run(registered, clip, _settings(tmp_path, (other,)), None)
    assert len(ObservationQueries(registered).motion_tracks("cam-1")) == 1
    with registered.session() as session:
        assert session.scalars(select(LineCrossingRow)).all() == []


def test_a_camera_counting_by_loop_stores_the_crossing(registered: Database, tmp_path: Path) -> None:
    clip = tmp_path / "square.mp4"
    square_clip(clip, frames=75)
    config = CameraCountingConfig(camera_id="cam-1", lines=(LINE,), method="loop")
    # Every frame analysed: a loop needs the square on the line over several frames.
    settings = _settings(tmp_path, (config,)).model_copy(
        update={"camera_defaults": CameraDefaults(analysis_fps=25)}
    )
    _run(registered, clip, settings, None)
    with registered.session() as session:
        rows = session.scalars(select(LineCrossingRow)).all()
        got = [(r.line_name, r.direction, r.track_id) for r in rows]
    assert got == [("mid", "eastbound", None)]  # a loop sees the line, not tracks


def test_lines_registered_with_the_camera_count_without_settings(sqlite_db: Database, tmp_path: Path) -> None:
    geometry = CountingGeometry(lines=(LINE,))
    registered = camera(capabilities=CAPS, counting=geometry)
    CameraStore(sqlite_db).save([site()], [registered])
    clip = tmp_path / "square.mp4"
    square_clip(clip, frames=75)
    settings = _settings(tmp_path, ())
    with ObservationWriter(sqlite_db, settings.store) as writer:
        process_file(clip, registered, settings, sink=writer, snapshots=None, start_time=T0)
    with sqlite_db.session() as session:
        rows = session.scalars(select(LineCrossingRow)).all()
    assert [(r.line_name, r.direction) for r in rows] == [("mid", "eastbound")]
