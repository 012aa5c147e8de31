"""Cameras on Ray actors (a local cluster: a head and a worker node) writing to a real PostgreSQL.

Fault tests: an actor killed mid-recording resumes elsewhere and stores exactly what a run
without the fault stores; an actor killed under live cameras is restarted and its cameras
stream again.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from factories import camera, site
from rtsp import RtspServer, unavailable_reason
from services import need_service
from sqlalchemy import select
from videos import square_clip, square_frames, write_video

from safecity.cluster.actor import Recording
from safecity.cluster.ray_pool import ClusterError, RayWorkers, actor_kind, analyse_recordings
from safecity.config import (
    ActorResources,
    CameraDefaults,
    ClusterSettings,
    Settings,
    StoreSettings,
    StreamSettings,
)
from safecity.runtime.city import Runtime
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.models import MotionTrackRow
from safecity.types import Capability

MOTION = frozenset({Capability.MOTION})
FACES = frozenset({Capability.FACES})
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PASSES = 20
"""Squares crossing the recording one after another: a motion track or two each."""


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    images: list[Any] = []
    for i in range(PASSES):
        frames, _ = square_frames(frames=100, seed=i)
        images.extend(frames)
    return write_video(tmp_path_factory.mktemp("rec") / "passes.mp4", images)


def cluster_settings(tmp_path: Path, database_url: str, address: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        camera_defaults=CameraDefaults(analysis_fps=25),
        store=StoreSettings(batch_size=1, flush_interval_s=0.05),
        streams=StreamSettings(
            stall_timeout_s=2.0,
            open_timeout_s=3.0,
            backoff_initial_s=0.2,
            backoff_cap_s=1.0,
            status_interval_s=0.2,
            reload_interval_s=0.3,
        ),
        cluster=ClusterSettings(
            address=address,
            report_wait_s=0.2,
            call_timeout_s=20,
            motion=ActorResources(cameras_per_actor=1, num_cpus=1),
        ),
    )


def registered(url: str, *cameras: Any) -> Database:
    db = Database.connect(url)
    db.upgrade()
    if cameras:
        CameraStore(db).save([site()], list(cameras))
    return db


def track_ids(db: Database, camera_id: str) -> set[str]:
    with db.session() as s:
        return set(s.scalars(select(MotionTrackRow.id).where(MotionTrackRow.camera_id == camera_id)))


def wait_until(condition: Callable[[], bool], timeout: float, what: str, step: Callable[[], None]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        step()


@pytest.mark.parametrize(
    ("capabilities", "kind"),
    [
        ({Capability.MOTION}, "motion"),
        ({Capability.TRAFFIC, Capability.MOTION}, "motion"),
        ({Capability.PLATES, Capability.MOTION}, "plates"),
        ({Capability.FACES}, "faces"),
        ({Capability.FACES, Capability.PLATES}, "faces"),
    ],
)
def test_a_camera_runs_on_the_actors_of_its_heaviest_analyser(
    capabilities: set[Capability], kind: str
) -> None:
    assert actor_kind(camera(capabilities=frozenset(capabilities))) == kind


def test_cameras_fill_actors_of_their_kind_up_to_cameras_per_actor(ray_cluster: str, tmp_path: Path) -> None:
    small = {"num_cpus": 0.01}
    settings = Settings(
        data_dir=tmp_path,
        cluster=ClusterSettings(
            address=ray_cluster,
            motion=ActorResources(cameras_per_actor=3, **small),
            plates=ActorResources(cameras_per_actor=2, **small),
            faces=ActorResources(cameras_per_actor=1, **small),
        ),
    )
    pool = RayWorkers(settings)
    pool.start()
    try:
        load: list[int] = []
        placed: list[int] = []
        cams = [("m", MOTION)] * 4 + [("p", frozenset({Capability.PLATES}))] * 3 + [("f", FACES)] * 2
        for n, (prefix, caps) in enumerate(cams):
            worker = pool.place(camera(f"{prefix}{n}", capabilities=caps), load)
            load.extend([0] * (pool.size - len(load)))
            load[worker] += 1
            placed.append(worker)
        assert pool.size == 2 + 2 + 2  # motion 3+1, plates 2+1, faces 1+1
        assert sorted(load, reverse=True) == [3, 2, 1, 1, 1, 1]
        assert len({placed[i] for i in range(4)} & {placed[i] for i in range(4, 9)}) == 0, "kinds apart"
    finally:
        pool.stop()


def test_a_camera_no_node_can_hold_waits_with_its_reason_and_the_others_run(
    ray_cluster: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        cluster=ClusterSettings(
            address=ray_cluster,
            motion=ActorResources(num_cpus=0.01),
            faces=ActorResources(num_cpus=0.01, num_gpus=1),  # the test cluster has no GPU
        ),
    )
    db = registered(f"sqlite:///{tmp_path / 'safecity.db'}")
    live_url = "rtsp://127.0.0.1:1/none"  # never reached: placement is what is tested
    CameraStore(db).save(
        [site()],
        [
            camera("cam-face", capabilities=FACES, stream_url=live_url),
            camera("cam-motion", capabilities=MOTION, stream_url=live_url),
        ],
    )
    runtime = Runtime(settings, db, pool=RayWorkers(settings))
    runtime.start()
    try:
        assert "largest node of the cluster has" in runtime.errors["cam-face"]
        assert "cam-motion" not in runtime.errors
    finally:
        runtime.stop()


def test_recordings_are_analysed_on_the_cluster_with_the_ids_of_a_local_run(
    ray_cluster: str, postgres_url: str, recording: Path, tmp_path: Path
) -> None:
    """Where an observation was analysed does not change what it is: same ids as `safecity process`."""
    from safecity.pipeline.process import process_file
    from safecity.store.writer import ObservationWriter

    cam = camera("cam-r", capabilities=MOTION)
    local_db = registered(f"sqlite:///{tmp_path / 'local.db'}", cam)
    settings = cluster_settings(tmp_path, postgres_url, ray_cluster)
    with ObservationWriter(local_db, settings.store) as writer:
        process_file(recording, cam, settings, sink=writer, snapshots=None, start_time=START)
    db = registered(postgres_url, cam)
    [result] = analyse_recordings(settings, [Recording(cam, recording, START)])
    expected = track_ids(local_db, "cam-r")
    assert len(expected) >= PASSES
    assert result.stats.error == "" and result.stats.observations == len(expected)
    assert track_ids(db, "cam-r") == expected


def test_actor_killed_mid_recording_resumes_and_stores_exactly_the_no_fault_observations(
    ray_cluster: str, postgres_url: str, recording: Path, tmp_path: Path
) -> None:
    cam = camera("cam-k", capabilities=MOTION)
    baseline_db = registered(f"sqlite:///{tmp_path / 'baseline.db'}", cam)
    baseline = analyse_recordings(
        cluster_settings(tmp_path, str(baseline_db.engine.url), ray_cluster),
        [Recording(cam, recording, START)],
    )
    expected = track_ids(baseline_db, "cam-k")
    assert len(expected) == baseline[0].stats.observations >= PASSES

    db = registered(postgres_url, cam)
    settings = cluster_settings(tmp_path, postgres_url, ray_cluster)
    killed: dict[str, Any] = {}

    def kill_mid_stream(handles: list[Any]) -> None:
        import ray

        [actor] = handles
        killed["incarnation"] = ray.get(actor.ping.remote())
        pid = ray.get(actor.pid.remote())

        def kill_when_some_are_stored() -> None:
            wait_until(lambda: len(track_ids(db, "cam-k")) >= 3, 60, "tracks stored before the kill", _nap)
            killed["stored_before"] = len(track_ids(db, "cam-k"))
            os.kill(pid, signal.SIGKILL)

        import threading

        killed["thread"] = threading.Thread(target=kill_when_some_are_stored, daemon=True)
        killed["thread"].start()

    [result] = analyse_recordings(settings, [Recording(cam, recording, START)], on_actors=kill_mid_stream)
    killed["thread"].join(timeout=5)
    assert 3 <= killed["stored_before"] < len(expected) - 3, "the actor must die mid-recording"
    assert result.incarnation != killed["incarnation"], "the recording finished on a restarted actor"
    assert track_ids(db, "cam-k") == expected


def _nap() -> None:
    time.sleep(0.02)  # polling the database: a commit there raises no event here


@pytest.fixture
def live_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = unavailable_reason()
    if reason:
        need_service(reason)
    path = tmp_path_factory.mktemp("clips") / "square.mp4"
    square_clip(path, frames=75)
    return path


@pytest.fixture
def cluster_runtime(
    ray_cluster: str, postgres_url: str, live_clip: Path, tmp_path: Path
) -> Iterator[tuple[Runtime, RayWorkers, Database]]:
    with RtspServer({"/a": live_clip, "/b": live_clip}) as server:
        cams = [
            camera("cam-a", capabilities=MOTION, stream_url=server.url("/a")),
            camera("cam-b", capabilities=MOTION, stream_url=server.url("/b")),
        ]
        db = registered(postgres_url, *cams)
        settings = cluster_settings(tmp_path, postgres_url, ray_cluster)
        pool = RayWorkers(settings)
        runtime = Runtime(settings, db, pool=pool)
        runtime.start()
        try:
            yield runtime, pool, db
        finally:
            runtime.stop()


def live(runtime: Runtime) -> set[str]:
    return {h.camera_id for h in runtime.health() if h.state == "live"}


def test_live_cameras_are_analysed_on_actors_and_stored(
    cluster_runtime: tuple[Runtime, RayWorkers, Database],
) -> None:
    runtime, _, db = cluster_runtime
    wait_until(lambda: live(runtime) == {"cam-a", "cam-b"}, 60, "both cameras live", runtime.step)
    wait_until(
        lambda: all(track_ids(db, c) for c in ("cam-a", "cam-b")),
        60,
        "a track from each camera",
        runtime.step,
    )
    assert {h.worker for h in runtime.health()} == {0, 1}, "one camera per actor"


def test_a_killed_actor_is_restarted_and_its_camera_streams_again(
    cluster_runtime: tuple[Runtime, RayWorkers, Database],
) -> None:
    import ray

    runtime, pool, db = cluster_runtime
    wait_until(lambda: bool(track_ids(db, "cam-a")), 60, "a track from cam-a", runtime.step)
    worker = next(h.worker for h in runtime.health() if h.camera_id == "cam-a")
    actor = pool.actor(worker)
    pid = ray.get(actor.pid.remote())
    os.kill(pid, signal.SIGKILL)
    killed_at = datetime.now(UTC)

    def tracks_since_kill() -> bool:
        with db.session() as s:
            rows = s.scalars(
                select(MotionTrackRow.id).where(
                    MotionTrackRow.camera_id == "cam-a", MotionTrackRow.ts > killed_at
                )
            )
            return next(iter(rows), None) is not None

    wait_until(tracks_since_kill, 90, "cam-a's tracks after its actor was killed", runtime.step)
    assert ray.get(pool.actor(worker).pid.remote()) != pid
    assert ray.get(pool.actor(worker).cameras.remote()) == ["cam-a"]
    assert track_ids(db, "cam-b"), "the other actor's camera was not disturbed"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1:1", "nothing answers at 127.0.0.1:1"),
        ("ray://127.0.0.1:1", "nothing answers at 127.0.0.1:1"),
        ("head.example", "is not ray://HOST:PORT"),
        ("head:port", "is not ray://HOST:PORT"),
    ],
)
def test_a_bad_cluster_address_is_a_clear_error_before_ray_is_asked(address: str, message: str) -> None:
    from safecity.cluster.ray_pool import _check_reachable

    with pytest.raises(ClusterError, match=message):
        _check_reachable(ClusterSettings(address=address, call_timeout_s=2.0))
