"""Run one camera's video through the stages: file source -> motion gate -> tracker -> analysers -> sink.

Which analysers run follows the camera's capabilities: motion tracks for motion/traffic cameras,
the plate reader (on moving regions only, voted once per passage) for plate cameras, told the
countries the camera expects (its own `plate_countries`, else the deployment's). The
pipeline knows the sink and the snapshot store only by the small protocols in `sinks.py`, so the same
code feeds the embedded writer or (later) a cluster sink. It returns the run's numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from safecity.analytics.motion import MotionGate
from safecity.analytics.plates.formats import normalise_plate
from safecity.analytics.tracking import FinishedTrack, IouTracker
from safecity.config import Settings
from safecity.pipeline.sinks import MatchSink, ObservationSink, SnapshotStore
from safecity.sources.errors import SourceError
from safecity.sources.file import FileSource
from safecity.types import (
    Camera,
    Capability,
    Frame,
    MotionTrack,
    Observation,
    RunStats,
    context_box,
    new_id,
)

if TYPE_CHECKING:
    from safecity.analytics.faces.analyser import FaceAnalyser
    from safecity.analytics.faces.passages import DecidedFace, FacePassages
    from safecity.analytics.plates.reader import PlateReader
    from safecity.analytics.plates.voting import PlateVoter, VotedPlate
    from safecity.analytics.traffic.lines import LineCounter
    from safecity.analytics.traffic.loops import LoopCounter
    from safecity.watch.faces import FaceMatcher

ProgressFn = Callable[[int, int | None], None]
"""Called with (frames decoded so far, frames expected or None)."""


def _plate_observations(
    voted: Sequence[VotedPlate], snapshots: SnapshotStore | None, margin: float
) -> list[Observation]:
    out: list[Observation] = []
    for v in voted:
        # The stored search key is folded (ŠA123AB -> SA123AB), so hotlists, section speed and
        # search compare plates alike whether the OCR model read the diacritic or not.
        read = replace(v.read, normalised=normalise_plate(v.read.normalised))
        if snapshots is not None and v.image is not None:
            crop = context_box(read.bbox, v.image.shape, margin)
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
                context_box(track.best_bbox, track.best_image.shape, margin),
            )
            obs = track.to_motion_track(snapshot=ref, obs_id=obs.id)
        out.append(obs)
    return out


class CameraPipeline:
    """One camera's stages after the source: motion gate, tracker, and the analysers its capabilities ask for.

    `feed` takes frames one at a time, from a file or a live stream alike; observations go to
    `sink` as tracks and passages end, face matches to `matches`. `finish` decides whatever is
    still open (end of a file, a camera removed, shutdown). Not thread-safe: one thread feeds it.
    """

    def __init__(
        self,
        camera: Camera,
        settings: Settings,
        *,
        sink: ObservationSink,
        snapshots: SnapshotStore | None,
        plate_reader: PlateReader | None = None,
        face_analyser: FaceAnalyser | None = None,
        face_matcher: FaceMatcher | None = None,
        matches: MatchSink | None = None,
    ) -> None:
        self.camera = camera
        self.settings = settings
        self.sink = sink
        self.snapshots = snapshots
        self.face_matcher = face_matcher
        self.matches = matches
        self.gate = MotionGate(settings.motion)
        self.tracker = IouTracker(camera.id, settings.tracking)
        self.track_motion = (
            Capability.MOTION in camera.capabilities or Capability.TRAFFIC in camera.capabilities
        )
        self.counter: LineCounter | None = None
        self.loops: LoopCounter | None = None
        if self.track_motion:
            # Counting lines configured for this camera: counted by the tracks that cross them, or
            # by virtual loops on the foreground under them (the camera's `method`).
            from safecity.analytics.traffic.lines import LineCounter, counting_for
            from safecity.analytics.traffic.loops import LoopCounter

            config = counting_for(camera, settings.counting)
            self.counter = LineCounter.for_config(config, settings.counting)
            self.loops = LoopCounter.for_config(config, settings.counting)
        self.plate_reader = plate_reader
        self.plate_countries: tuple[str, ...] = camera.plate_countries or tuple(settings.plates.countries)
        self.voter: PlateVoter | None = None
        if Capability.PLATES in camera.capabilities:
            from safecity.analytics.plates.reader import PlateReader
            from safecity.analytics.plates.voting import PlateVoter

            self.plate_reader = plate_reader or PlateReader(settings.plates)
            self.voter = PlateVoter(camera.id, settings.plates)
        self.face_analyser = face_analyser
        self.passages: FacePassages | None = None
        if Capability.FACES in camera.capabilities:
            from safecity.analytics.faces.analyser import FaceAnalyser
            from safecity.analytics.faces.passages import FacePassages

            self.face_analyser = face_analyser or FaceAnalyser(
                settings.faces, settings.effective_model_cache_dir
            )
            self.passages = FacePassages(camera.id, settings.faces, self.face_analyser)
        self.analysed = 0
        self.with_motion = 0
        self.observations = 0

    def set_face_matcher(self, matcher: FaceMatcher | None) -> None:
        """New templates (a watchlist changed) apply from the next passage that ends."""
        self.face_matcher = matcher

    def feed(self, frame: Frame) -> None:
        self.analysed += 1
        result = self.gate.detect(frame)
        if result.moving:
            self.with_motion += 1
        finished = self.tracker.update(frame.timestamp, result.blobs, frame.image if result.moving else None)
        if self.loops is not None:
            self._submit(list(self.loops.add(frame.timestamp, result.foreground, result.scale)))
        voted: list[VotedPlate] = []
        if self.voter is not None and self.plate_reader is not None:
            if result.moving:
                candidates = self.plate_reader.read_regions(
                    frame.image, result.blobs, countries=self.plate_countries
                )
                self.voter.add(frame.timestamp, candidates, self.tracker.current_boxes(), frame.image)
            voted = self.voter.close_tracks(self.tracker.ended_track_ids, frame.timestamp)
        decided: list[DecidedFace] = []
        if self.passages is not None and self.face_analyser is not None and result.moving:
            rgb = np.asarray(cv2.cvtColor(frame.image, cv2.COLOR_BGR2RGB), np.uint8)
            faces = self.face_analyser.analyse(rgb, result.blobs)
            decided = self.passages.add(frame.timestamp, faces, frame.image)
        self._emit(finished, voted, decided)

    def finish(self) -> None:
        if self.loops is not None:
            self._submit(list(self.loops.finish()))
        self._emit(
            self.tracker.finish(),
            self.voter.finish() if self.voter is not None else [],
            self.passages.finish() if self.passages is not None else [],
        )

    def _emit(
        self, tracks: Sequence[FinishedTrack], voted: Sequence[VotedPlate], faces: Sequence[DecidedFace]
    ) -> None:
        settings, camera, snapshots = self.settings, self.camera, self.snapshots
        observations: list[Observation] = []
        if tracks and self.track_motion:
            motion = _to_observations(tracks, camera.id, snapshots, settings.store.snapshot_margin)
            observations.extend(motion)
            if self.counter is not None:
                for track, obs in zip(tracks, motion, strict=True):
                    observations.extend(self.counter.crossings(track, snapshot=obs.snapshot))
        observations.extend(_plate_observations(voted, snapshots, settings.plates.snapshot_context))
        if faces:
            from safecity.pipeline.faces import face_observations

            sightings, events = face_observations(
                faces, camera, settings, matcher=self.face_matcher, snapshots=snapshots
            )
            observations.extend(sightings)
            if events and self.matches is not None:
                # Sightings first: an alert must point at a stored sighting.
                self._submit(observations)
                observations = []
                self.matches.submit_matches(events)
        self._submit(observations)

    def _submit(self, observations: list[Observation]) -> None:
        if observations:
            self.sink.submit_many(observations)
            self.observations += len(observations)


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
    pipeline = CameraPipeline(
        camera,
        settings,
        sink=sink,
        snapshots=snapshots,
        plate_reader=plate_reader,
        face_analyser=face_analyser,
        face_matcher=face_matcher,
        matches=matches,
    )
    source = FileSource(
        path, camera.id, start_time=start_time, sample_fps=settings.camera_defaults.analysis_fps
    )
    error: SourceError | None = None
    try:
        with source:
            total = source.frame_count
            for frame in source:
                pipeline.feed(frame)
                if progress is not None:
                    progress(source.decoded_frames, total)
    except SourceError as exc:
        error = exc
    pipeline.finish()
    stats = RunStats(
        id=new_id(),
        camera_id=camera.id,
        source=str(path),
        started_at=started,
        finished_at=datetime.now(UTC),
        frames_decoded=source.decoded_frames,
        frames_analysed=pipeline.analysed,
        frames_with_motion=pipeline.with_motion,
        observations=pipeline.observations,
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
