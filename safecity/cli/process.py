"""`safecity process`: analyse one video file as a registered camera and store what it sees.

Hotlist and face-watchlist alerts raised by the run are printed after it; with `--cluster` the
file is analysed by a Ray actor, which writes its observations itself, and the alerts are made here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from safecity.cli.common import about, err, fail, open_db, out, print_alerts, settings
from safecity.cluster.actor import Recording
from safecity.cluster.ray_pool import ClusterError, analyse_recordings
from safecity.config import Settings
from safecity.pipeline.sinks import PlateCollectingSink
from safecity.store.cameras import CameraStore, CameraStoreError
from safecity.store.database import Database
from safecity.store.hotlists import HotlistStore
from safecity.store.runs import list_runs, save_run
from safecity.types import Alert, Camera, Capability
from safecity.watch.faces import FaceMatcher, FaceMatchEvent, load_rule
from safecity.watch.hotlists import HotlistAlerter

# The video pipeline (av, cv2), the media, writer and watchlist stores (cv2) and face enrolment
# (onnxruntime) are imported inside the functions: `safecity --help` stays light.

if TYPE_CHECKING:
    from safecity.store.media import MediaStore


def process(
    video: Annotated[Path, typer.Argument(help="Video file to analyse.")],
    camera: Annotated[str, typer.Option("--camera", help="Registered camera id the video comes from.")],
    start: Annotated[
        datetime | None,
        typer.Option(
            help="Wall-clock time of the first frame, ISO 8601 with offset (2026-03-02T08:30:00+01:00); "
            "default: the file's creation_time, else its mtime minus its duration."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Analyse a disabled camera, or a file already analysed.")
    ] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            help="Analyse on a Ray actor of this cluster (ray://HOST:10001, HOST:6379, auto, local); "
            "the file must be at the same path on the node. Default: here."
        ),
    ] = None,
) -> None:
    """Analyse a video file as one camera and store the observations."""
    from safecity.pipeline.process import ProcessingError, process_file
    from safecity.sources.probe import guess_start_time
    from safecity.store.media import MediaStore
    from safecity.store.writer import ObservationWriter

    s = settings()
    db = open_db(s)
    try:
        cam = CameraStore(db).get(camera)
    except CameraStoreError as exc:
        fail(str(exc))
    if not video.is_file():
        fail(f"{video}: no such file")
    video = video.resolve()
    if not cam.enabled and not force:
        fail(f"camera {camera} is disabled (registered but not to be analysed); --force overrides")
    if not force and any(r.source == str(video) for r in list_runs(db, camera)):
        fail(f"{video} was already analysed as {camera}; --force analyses it again (nothing is stored twice)")
    if start is not None and start.tzinfo is None:
        fail(f"--start {start.isoformat()} has no UTC offset; write e.g. {start.isoformat()}+01:00")
    if not cam.capabilities & {Capability.MOTION, Capability.TRAFFIC}:
        err.print(f"note: {camera} has no motion or traffic capability, so no motion tracks are stored")
    start_time = start.astimezone(UTC) if start is not None else guess_start_time(video)
    media = MediaStore(s.effective_media_dir, s.store.snapshot_jpeg_quality)
    alerter = HotlistAlerter(HotlistStore(db, s.hotlists))
    faces = _FaceMatching(db, s, media) if Capability.FACES in cam.capabilities else None
    if cluster is not None:
        _process_on_cluster(s, db, cam, video, start_time, cluster, alerter, faces)
        return
    with (
        ObservationWriter(db, s.store) as writer,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=out,
        ) as bar,
    ):
        task = bar.add_task(f"{camera}", total=None)
        sink = PlateCollectingSink(writer)
        try:
            stats = process_file(
                video,
                cam,
                s,
                sink=sink,
                snapshots=media,
                start_time=start_time,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                face_matcher=faces.matcher if faces is not None else None,
                matches=faces,
            )
        except ProcessingError as exc:
            writer.flush()
            save_run(db, exc.stats)
            print_alerts(alerter.check(sink.plate_reads))
            if faces is not None:
                print_alerts(faces.save())
            kept = exc.stats.observations
            fail(about(video, f"{exc} ({kept} observation(s) analysed before the error were kept)"))
        writer.flush()
    save_run(db, stats)
    out.print(
        f"{camera}: {stats.frames_decoded} frames decoded, {stats.frames_analysed} analysed, "
        f"{stats.frames_with_motion} with motion, {stats.observations} observation(s) stored"
    )
    print_alerts(alerter.check(sink.plate_reads))
    if faces is not None:
        print_alerts(faces.save())


def _process_on_cluster(
    s: Settings,
    db: Database,
    cam: Camera,
    video: Path,
    start_time: datetime,
    address: str,
    alerter: HotlistAlerter,
    faces: _FaceMatching | None,
) -> None:
    """`process --cluster`: the file analysed by a Ray actor, which writes what it sees; alerts here."""
    s = s.model_copy(update={"cluster": s.cluster.model_copy(update={"address": address})})
    matcher = faces.matcher if faces is not None else None
    try:
        [result] = analyse_recordings(s, [Recording(cam, video, start_time)], matcher=matcher)
    except ClusterError as exc:
        fail(str(exc), code=1)
    stats = result.stats
    save_run(db, stats)
    print_alerts(alerter.check(list(result.plates)))
    if faces is not None:
        faces.submit_matches(result.matches)
        print_alerts(faces.save())
    if stats.error:
        fail(
            about(video, f"{stats.error} ({stats.observations} observation(s) analysed before it were kept)")
        )
    out.print(
        f"{cam.id}: {stats.frames_decoded} frames decoded, {stats.frames_analysed} analysed, "
        f"{stats.frames_with_motion} with motion, {stats.observations} observation(s) stored (on the cluster)"
    )


class _FaceMatching:
    """The face templates in force for a run, and the matches it reports, saved as alerts afterwards."""

    def __init__(self, db: Database, s: Settings, media: MediaStore) -> None:
        from safecity.store.face_watchlists import FaceWatchlistStore
        from safecity.watch.face_enrolment import FaceAlerter

        store = FaceWatchlistStore(db, media)
        rule = load_rule(s.faces, s.effective_face_calibration_path)
        self.matcher = FaceMatcher(store.templates_in_force(), rule)
        self.alerter = FaceAlerter(store, s.faces.alert_repeat_s)
        self.events: list[FaceMatchEvent] = []

    def submit_matches(self, events: Sequence[FaceMatchEvent]) -> None:
        self.events.extend(events)

    def save(self) -> list[Alert]:
        """Alerts for the matches, once the writer has stored the sightings they point at."""
        events, self.events = self.events, []
        return self.alerter.save(events)
