"""The IoU tracker: one track per object, gaps, blips and track ends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pytest
from videos import T0

from safecity.analytics.tracking import FinishedTrack, IouTracker
from safecity.config import TrackingSettings
from safecity.types import BBox, BGRImage

SETTINGS = TrackingSettings(iou_threshold=0.2, max_missed_frames=3, min_track_frames=3)
STEP = timedelta(seconds=0.2)  # 5 fps analysis


def at(step: int) -> datetime:
    return T0 + step * STEP


def run(
    steps: Sequence[Sequence[BBox]],
    settings: TrackingSettings = SETTINGS,
    images: Sequence[BGRImage | None] | None = None,
    camera_id: str = "cam-1",
) -> list[FinishedTrack]:
    """Feed one list of boxes per analysed frame, then finish; every track that came out."""
    tracker = IouTracker(camera_id, settings)
    done: list[FinishedTrack] = []
    for i, boxes in enumerate(steps):
        done += tracker.update(at(i), boxes, images[i] if images is not None else None)
    return done + tracker.finish()


def sliding(x0: int, step: int = 0, *, y: int = 50, w: int = 40, h: int = 30, dx: int = 10) -> BBox:
    return BBox(x0 + dx * step, y, w, h)


def test_one_moving_object_gives_one_track_with_its_path() -> None:
    tracks = run([[sliding(0, i)] for i in range(5)])

    assert len(tracks) == 1
    track = tracks[0]
    assert (track.track_id, track.hits, track.first_seen, track.last_seen) == (1, 5, at(0), at(4))
    assert list(track.path) == [pytest.approx((0.2 * i, 20.0 + 10 * i, 65.0)) for i in range(5)]
    assert track.boxes == tuple(sliding(0, i) for i in range(5))


def test_two_objects_give_two_tracks() -> None:
    tracks = run([[sliding(0, i), sliding(200, i, y=150)] for i in range(5)])

    assert sorted(t.track_id for t in tracks) == [1, 2]
    by_id = {t.track_id: t for t in tracks}
    assert by_id[1].boxes[0] == sliding(0) and by_id[2].boxes[0] == sliding(200, y=150)
    assert all(t.hits == 5 for t in tracks)


def test_a_blip_shorter_than_min_track_frames_gives_no_track() -> None:
    tracks = run([[sliding(0)], [sliding(0, 1)], [], [], [], [], []])

    assert tracks == []


def test_a_gap_within_max_missed_frames_keeps_the_id() -> None:
    seen = [[sliding(0, 0)], [sliding(0, 1)], [], [], [], [sliding(0, 2)], [sliding(0, 3)]]

    tracks = run(seen)

    assert [(t.track_id, t.hits, t.frames_spanned) for t in tracks] == [(1, 4, 7)]


def test_a_gap_longer_than_max_missed_frames_ends_the_track() -> None:
    tracker = IouTracker("cam-1", SETTINGS)
    for i in range(3):
        tracker.update(at(i), [sliding(0, i)])
    ended_during_gap = [tracker.update(at(3 + k), []) for k in range(4)]
    tracker.update(at(7), [sliding(0, 2)])

    assert [len(ended) for ended in ended_during_gap] == [0, 0, 0, 1]
    assert ended_during_gap[-1][0].last_seen == at(2)
    assert tracker.live_track_ids == [2]


def test_the_box_goes_to_the_track_it_overlaps_most() -> None:
    tracker = IouTracker("cam-1", SETTINGS)
    tracker.update(at(0), [BBox(0, 0, 40, 40), BBox(30, 0, 40, 40)])
    tracker.update(at(1), [BBox(28, 0, 40, 40)])  # overlaps both, track 2 far more
    tracker.update(at(2), [BBox(28, 0, 40, 40)])

    tracks = tracker.finish()

    assert [(t.track_id, t.hits) for t in tracks] == [(2, 3)]


def test_boxes_that_overlap_no_track_start_new_tracks_with_increasing_ids() -> None:
    tracker = IouTracker("cam-1", SETTINGS, first_track_id=41)
    tracker.update(at(0), [BBox(0, 0, 40, 40)])
    tracker.update(at(1), [BBox(200, 100, 40, 40)])

    assert tracker.live_track_ids == [41, 42]
    assert tracker.next_track_id == 43


def test_keeps_the_frame_of_the_largest_appearance() -> None:
    images = [np.full((10, 10, 3), i, np.uint8) for i in range(4)]
    sizes = [30, 50, 40, 20]

    (track,) = run([[BBox(10, 10, s, s)] for s in sizes], images=images)

    assert track.best_bbox == BBox(10, 10, 50, 50)
    assert track.best_image is images[1]


def test_prefers_an_appearance_with_an_image_for_the_snapshot() -> None:
    image = np.zeros((10, 10, 3), np.uint8)

    (track,) = run(
        [[BBox(10, 10, 30, 30)], [BBox(10, 10, 50, 50)], [BBox(10, 10, 40, 40)]], images=[None, None, image]
    )

    assert track.best_bbox == BBox(10, 10, 40, 40)
    assert track.best_image is image


def test_to_motion_track_summarises_the_track() -> None:
    seen = [[sliding(0, 0)], [sliding(0, 1)], [], [sliding(0, 2)]]
    (track,) = run(seen)

    obs = track.to_motion_track(snapshot="snap.jpg")

    assert (obs.camera_id, obs.track_id, obs.timestamp, obs.ended_at) == ("cam-1", 1, at(0), at(3))
    assert obs.bbox == BBox(0, 50, 60, 30)
    assert obs.confidence == pytest.approx(3 / 4)
    assert obs.path == track.path
    assert obs.snapshot == "snap.jpg"
    assert len(obs.id) == 32


def test_to_motion_track_id_follows_from_camera_start_and_track_unless_one_is_passed() -> None:
    """Analysing the same frames again gives the same id (the writer then stores it once)."""
    (track,) = run([[sliding(0, i)] for i in range(3)])
    (again,) = run([[sliding(0, i)] for i in range(3)])
    (other_camera,) = run([[sliding(0, i)] for i in range(3)], camera_id="cam-2")

    assert track.to_motion_track().id == again.to_motion_track().id
    assert track.to_motion_track().id != other_camera.to_motion_track().id
    assert track.to_motion_track(obs_id="abc").id == "abc"


def test_finish_ends_every_live_track() -> None:
    tracker = IouTracker("cam-1", SETTINGS)
    for i in range(3):
        tracker.update(at(i), [sliding(0, i), sliding(200, i, y=150)])

    assert len(tracker.finish()) == 2
    assert tracker.live_track_ids == []


@pytest.mark.parametrize(
    ("camera_id", "first_track_id", "fragment"),
    [("", 1, "camera_id must be a non-empty string"), ("cam-1", -1, "first_track_id must be >= 0")],
)
def test_bad_construction_raises_value_error(camera_id: str, first_track_id: int, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        IouTracker(camera_id, SETTINGS, first_track_id=first_track_id)


@pytest.mark.parametrize(
    ("timestamp", "boxes", "fragment"),
    [
        (datetime(2026, 3, 2, 7, 30), [], "timestamp must be timezone-aware"),
        (at(-1), [], "timestamps must not go backwards"),
        (at(1), [BBox(0, 0, 0, 10)], "boxes must have a positive area"),
    ],
    ids=["naive", "backwards", "empty-box"],
)
def test_bad_update_raises_value_error(timestamp: datetime, boxes: list[BBox], fragment: str) -> None:
    tracker = IouTracker("cam-1", SETTINGS)
    tracker.update(at(0), [])

    with pytest.raises(ValueError, match=fragment):
        tracker.update(timestamp, boxes)


def test_current_boxes_lists_tracks_seen_in_the_latest_frame() -> None:
    tracker = IouTracker("cam-1", TrackingSettings())
    tracker.update(T0, [BBox(0, 0, 50, 50), BBox(200, 0, 50, 50)])
    tracker.update(T0 + timedelta(seconds=0.2), [BBox(5, 0, 50, 50)])
    assert tracker.current_boxes() == {1: BBox(5, 0, 50, 50)}


def test_ended_track_ids_include_discarded_short_tracks() -> None:
    tracker = IouTracker("cam-1", TrackingSettings(min_track_frames=3, max_missed_frames=0))
    tracker.update(T0, [BBox(0, 0, 50, 50)])
    kept = tracker.update(T0 + timedelta(seconds=0.2), [])
    assert kept == [] and tracker.ended_track_ids == [1]
