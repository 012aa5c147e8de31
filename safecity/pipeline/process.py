"""Run one camera's video through the stages: file source -> motion gate -> tracker -> analysers -> sink.

Which analysers run follows the camera's capabilities: motion tracks for motion/traffic cameras,
the plate reader (on moving regions only, voted once per passage) for plate cameras. The
pipeline knows the sink and the snapshot store only by the small protocols below, so the same
code feeds the embedded writer or (later) a cluster sink. It returns the run's numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np

from safecity.analytics.motion import MotionGate
from safecity.analytics.tracking import FinishedTrack, IouTracker
from safecity.config import Settings
from safecity.sources.errors import SourceError
from safecity.sources.file import FileSource
from safecity.types import BBox, BGRImage, Camera, Capability, MotionTrack, Observation, RunStats, new_id

if TYPE_CHECKING:
    from safecity.analytics.faces.analyser import FaceAnalyser
    from safecity.analytics.faces.passages import DecidedFace
    from safecity.analytics.plates.reader import PlateReader
    from safecity.analytics.plates.voting import VotedPlate
    from safecity.pipeline.faces import FaceMatchEvent
    from safecity.watch.faces import FaceMatcher

ProgressFn = Callable[[int, int | None], None]
"""Called with (frames decoded so far, frames expected or None)."""


class ObservationSink(Protocol):
    def submit_many(self, observations: Sequence[Observation]) -> None: ...


class MatchSink(Protocol):
    def submit_matches(self, events: Sequence[FaceMatchEvent]) -> None: ...


class SnapshotStore(Protocol):
    def save_snapshot(
        self, camera_id: str, timestamp: datetime, obs_id: str, image: BGRImage, crop: BBox | None = None
    ) -> str: ...


def _context_box(box: BBox, image: BGRImage, margin: float) -> BBox:
    """`box` grown by `margin` of its size on every side, clipped to the image."""
    dx, dy = int(box.w * margin), int(box.h * margin)
    x0, y0 = max(0, box.x - dx), max(0, box.y - dy)
    x1 = min(image.shape[1], box.x + box.w + dx)
    y1 = min(image.shape[0], box.y + box.h + dy)
    return BBox(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def _plate_observations(
    voted: Sequence[VotedPlate], snapshots: SnapshotStore | None, margin: float
) -> list[Observation]:
    out: list[Observation] = []
    for v in voted:
        read = v.read
        if snapshots is not None and v.image is not None:
            crop = _context_box(read.bbox, v.image, margin)
            ref = snapshots.save_snapshot(read.camera_id, read.timestamp, read.id, v.image, crop)
            read = replace(read, snapshot=ref)
        out.append(read)
    return out


def _to_observations(
    tracks: Sequence[FinishedTrack], camera_id: str, snapshots: SnapshotStore | None, margin: float
) -> list[Observation]:
    out: list[Observation] = []
    for track in tracks:
        obs: MotionTrack = track.to_motion_track()
        if snapshots is not None and track.best_image is not None:
            ref = snapshots.save_snapshot(
                camera_id,
                obs.timestamp,
                obs.id,
                track.best_image,
                _context_box(track.best_bbox, track.best_image, margin),
            )
            obs = track.to_motion_track(snapshot=ref, obs_id=obs.id)
        out.append(obs)
    return out


def process_file(
    path: Path,
    camera: Camera,
    settings: Settings,
    *,
    sink: ObservationSink,
    snapshots: SnapshotStore | None,
    start_time: datetime,
    progress: ProgressFn | None = None,
    plate_reader: PlateReader | None = None,
    face_analyser: FaceAnalyser | None = None,
    face_matcher: FaceMatcher | None = None,
    matches: MatchSink | None = None,
) -> RunStats:
    """Analyse a video file as camera `camera`; observations go to `sink` as tracks finish.

    A source error (missing, corrupt or truncated file) ends the run: what was analysed before
    it is kept and flushed, and the error is returned in the stats and re-raised to the caller.
    `plate_reader` lets a worker load the (costly) OCR models once for many files; a plate camera
    without one gets a reader built here; likewise `face_analyser` for a face camera. Face
    passages are matched against `face_matcher`'s templates as they end; matches go to `matches`.
    """
    started = datetime.now(UTC)
    fps = settings.camera_defaults.analysis_fps
    gate = MotionGate(settings.motion)
    tracker = IouTracker(camera.id, settings.tracking)
    track_motion = Capability.MOTION in camera.capabilities or Capability.TRAFFIC in camera.capabilities
    voter = None
    if Capability.PLATES in camera.capabilities:
        from safecity.analytics.plates.reader import PlateReader
        from safecity.analytics.plates.voting import PlateVoter

        plate_reader = plate_reader or PlateReader(settings.plates)
        voter = PlateVoter(camera.id, settings.plates)
    passages = None
    if Capability.FACES in camera.capabilities:
        from safecity.analytics.faces.analyser import FaceAnalyser
        from safecity.analytics.faces.passages import FacePassages

        face_analyser = face_analyser or FaceAnalyser(settings.faces, settings.effective_model_cache_dir)
        passages = FacePassages(camera.id, settings.faces, face_analyser)
    margin = settings.store.snapshot_margin
    analysed = with_motion = n_obs = 0
    source = FileSource(path, camera.id, start_time=start_time, sample_fps=fps)
    error: SourceError | None = None

    def emit(
        tracks: Sequence[FinishedTrack], voted: Sequence[VotedPlate], faces: Sequence[DecidedFace] = ()
    ) -> None:
        nonlocal n_obs
        observations: list[Observation] = []
        if tracks and track_motion:
            observations.extend(_to_observations(tracks, camera.id, snapshots, margin))
        observations.extend(_plate_observations(voted, snapshots, settings.plates.snapshot_context))
        if faces:
            from safecity.pipeline.faces import face_observations

            sightings, events = face_observations(
                faces, camera, settings, matcher=face_matcher, snapshots=snapshots
            )
            observations.extend(sightings)
            if events and matches is not None:
                # Sightings first: an alert must point at a stored sighting.
                sink.submit_many(observations)
                n_obs += len(observations)
                observations = []
                matches.submit_matches(events)
        if observations:
            sink.submit_many(observations)
            n_obs += len(observations)

    try:
        with source:
            total = source.frame_count
            for frame in source:
                analysed += 1
                result = gate.detect(frame)
                if result.moving:
                    with_motion += 1
                finished = tracker.update(
                    frame.timestamp, result.blobs, frame.image if result.moving else None
                )
                voted: list[VotedPlate] = []
                if voter is not None and plate_reader is not None:
                    if result.moving:
                        candidates = plate_reader.read_regions(frame.image, result.blobs)
                        voter.add(frame.timestamp, candidates, tracker.current_boxes(), frame.image)
                    voted = voter.close_tracks(tracker.ended_track_ids, frame.timestamp)
                decided: list[DecidedFace] = []
                if passages is not None and face_analyser is not None and result.moving:
                    rgb = np.asarray(cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB), np.uint8)
                    faces = face_analyser.analyse(rgb, result.blobs)
                    decided = passages.add(frame.timestamp, faces, frame.image)
                emit(finished, voted, decided)
                if progress is not None:
                    progress(source.decoded_frames, total)
    except SourceError as exc:
        error = exc
    emit(
        tracker.finish(),
        voter.finish() if voter is not None else [],
        passages.finish() if passages is not None else [],
    )
    stats = RunStats(
        id=new_id(),
        camera_id=camera.id,
        source=str(path),
        started_at=started,
        finished_at=datetime.now(UTC),
        frames_decoded=source.decoded_frames,
        frames_analysed=analysed,
        frames_with_motion=with_motion,
        observations=n_obs,
        error=str(error) if error else "",
    )
    if error is not None:
        raise ProcessingError(stats, error)
    return stats


class ProcessingError(Exception):
    """A run that stopped early; carries the stats of what was done before the error."""

    def __init__(self, stats: RunStats, cause: Exception) -> None:
        super().__init__(str(cause))
        self.stats = stats
