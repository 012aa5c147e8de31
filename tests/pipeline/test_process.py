"""The pipeline end to end on small clips: file -> motion gate -> tracker -> writer -> store."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import camera, site
from videos import T0, square_clip

from safecity.config import Settings, StoreSettings
from safecity.pipeline.process import ProcessingError, process_file
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.observations import ObservationQueries
from safecity.store.writer import ObservationWriter
from safecity.types import Capability


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", store=StoreSettings(batch_size=10))


@pytest.fixture
def registered(sqlite_db: Database) -> Database:
    CameraStore(sqlite_db).save([site()], [camera(capabilities=frozenset({Capability.MOTION}))])
    return sqlite_db


def run(db: Database, clip: Path, settings: Settings, media: MediaStore | None = None) -> object:
    with ObservationWriter(db, settings.store) as writer:
        return process_file(
            clip,
            camera(capabilities=frozenset({Capability.MOTION})),
            settings,
            sink=writer,
            snapshots=media,
            start_time=T0,
        )


def test_moving_object_becomes_one_stored_track(
    registered: Database, settings: Settings, tmp_path: Path
) -> None:
    clip = tmp_path / "square.mp4"
    square_clip(clip, frames=75)
    run(registered, clip, settings)
    tracks = ObservationQueries(registered).motion_tracks("cam-1")
    assert len(tracks) == 1
    track = tracks[0]
    assert track.path[0][1] < track.path[-1][1]  # it moved left to right


def test_run_statistics_count_decoded_and_analysed_frames(
    registered: Database, settings: Settings, tmp_path: Path
) -> None:
    clip = tmp_path / "square.mp4"
    square_clip(clip, frames=75)
    stats = run(registered, clip, settings)
    assert (stats.frames_decoded, stats.frames_analysed) == (75, 15)  # type: ignore[attr-defined]


def test_static_scene_stores_nothing(registered: Database, settings: Settings, tmp_path: Path) -> None:
    clip = tmp_path / "static.mp4"
    square_clip(clip, frames=50, moving=False)
    run(registered, clip, settings)
    assert ObservationQueries(registered).motion_tracks("cam-1") == []


def test_track_snapshot_is_written_to_media(registered: Database, settings: Settings, tmp_path: Path) -> None:
    clip = tmp_path / "square.mp4"
    square_clip(clip, frames=75)
    media = MediaStore(tmp_path / "media")
    run(registered, clip, settings, media)
    (track,) = ObservationQueries(registered).motion_tracks("cam-1")
    assert track.snapshot.startswith("cam-1/2026/03/02/") and media.path(track.snapshot).is_file()


def test_corrupt_file_raises_with_stats(registered: Database, settings: Settings, tmp_path: Path) -> None:
    clip = tmp_path / "broken.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    with pytest.raises(ProcessingError) as exc:
        run(registered, clip, settings)
    assert "broken.mp4" in str(exc.value) and exc.value.stats.frames_decoded == 0


def test_truncated_file_keeps_what_was_analysed_before_the_cut(
    registered: Database, settings: Settings, tmp_path: Path
) -> None:
    clip = tmp_path / "cut.mp4"
    square_clip(clip, frames=150, faststart=True)
    data = clip.read_bytes()
    clip.write_bytes(data[: int(len(data) * 0.7)])
    with pytest.raises(ProcessingError, match="truncated or corrupt") as exc:
        run(registered, clip, settings)
    assert exc.value.stats.observations > 0
    assert len(ObservationQueries(registered).motion_tracks("cam-1")) == exc.value.stats.observations


def test_plate_camera_stores_voted_plate_reads_of_sim_vehicles(tmp_path: Path, sqlite_db: Database) -> None:
    from safecity.config import SimSettings
    from safecity.eval.sim_plates import score_sim_plates
    from safecity.sim import render_city

    city = render_city(tmp_path / "sim", SimSettings(), cameras=1, seconds=8, seed=2)
    cam = city.cameras[0]
    assert Capability.PLATES in cam.capabilities
    CameraStore(sqlite_db).save(list(city.sites), [cam])
    settings = Settings(data_dir=tmp_path / "var")
    with ObservationWriter(sqlite_db, settings.store) as writer:
        process_file(
            city.clips[cam.id], cam, settings, sink=writer, snapshots=None, start_time=city.start_time
        )
    reads = ObservationQueries(sqlite_db).plate_reads(cam.id)
    score = score_sim_plates(city.truth(), reads)[cam.id]
    assert score.readable > 0 and score.read_exactly >= score.readable // 2
    assert all(r.candidates and r.candidates[0][1] > 0 for r in reads)
