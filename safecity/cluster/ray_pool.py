"""Cameras on Ray actors: the `WorkerPool` of `serve --cluster`, and recordings spread over a cluster.

Ray does the distributed part: placing actors on machines with the CPU/GPU resources they
declare, restarting an actor whose process died (`max_restarts`), carrying calls and results.
What is ours is small: which cameras an actor runs (the runtime's least-loaded assignment) and
putting them back after a restart: a restarted actor comes back empty with a new incarnation,
and its next report tells the pool to add its cameras again. An actor Ray will not restart any
more (restarts used up, its node gone for good) is replaced by a new one in the same slot, on
whatever machine has room, and gets the cameras.

A live camera resumes at the stream's live edge: frames sent while its actor was down are not
analysed. A recording whose actor failed is analysed again from the start on the restarted or
replacement actor; observation ids follow from what was seen, so nothing is stored twice and
the count equals the count without the fault.

Ray's usage statistics are switched off before Ray is imported (no connection leaves the
configured destinations) and its dashboard is not started.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from safecity.cluster.actor import ActorReport, CameraActor, Recording, RecordingResult
from safecity.config import ActorResources, ClusterSettings, Settings
from safecity.types import Camera, Capability

if TYPE_CHECKING:
    from safecity.watch.faces import FaceMatcher

log = logging.getLogger(__name__)

ACTOR_THREADS = 4
"""Calls an actor serves at once: a long recording or report wait must not hold up the others."""


class ClusterError(RuntimeError):
    """The Ray cluster could not be reached or could not run the analysers."""


def connect(settings: ClusterSettings) -> Any:
    """Join (or, for `local`, start) the Ray cluster `settings.address` names; returns the `ray` module."""
    # Before the import: otherwise Ray reports usage statistics to its vendor (egress).
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    if ray.is_initialized():
        return ray
    address = settings.address.strip()
    if not address:
        raise ClusterError("no Ray cluster configured: set cluster.address or pass --cluster")
    _check_reachable(settings)
    try:
        if address == "local":
            ray.init(
                include_dashboard=False,
                object_store_memory=settings.object_store_mb * 1024 * 1024,
                logging_level=logging.WARNING,
                log_to_driver=False,
            )
        else:
            ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError or its own types
        raise ClusterError(f"cannot join Ray cluster {address!r}: {exc}") from exc
    return ray


def _check_reachable(settings: ClusterSettings) -> None:
    """ClusterError at once if nothing listens at the head's HOST:PORT (Ray would retry for minutes)."""
    import socket

    try:
        head = settings.head()
    except ValueError as exc:
        raise ClusterError(str(exc)) from exc
    if head is None:
        return
    try:
        with socket.create_connection(head, timeout=min(settings.call_timeout_s, 10.0)):
            pass
    except OSError as exc:
        raise ClusterError(
            f"cannot join Ray cluster {settings.address!r}: nothing answers at {head[0]}:{head[1]} ({exc})"
        ) from exc


ActorKind = Literal["faces", "plates", "motion"]
KINDS: tuple[ActorKind, ...] = ("faces", "plates", "motion")
"""Heaviest first: a camera goes to the actors of the heaviest analyser it has."""


def actor_kind(camera: Camera) -> ActorKind:
    """The kind of actor a camera runs on: faces, else plates, else motion (and traffic)."""
    if Capability.FACES in camera.capabilities:
        return "faces"
    if Capability.PLATES in camera.capabilities:
        return "plates"
    return "motion"


def resources(settings: ClusterSettings, kind: ActorKind) -> ActorResources:
    resources_of: dict[ActorKind, ActorResources] = {
        "faces": settings.faces,
        "plates": settings.plates,
        "motion": settings.motion,
    }
    return resources_of[kind]


def _actor_class(ray: Any, settings: ClusterSettings, kind: ActorKind) -> Any:
    """The actor class of a kind, with its resources; ClusterError if no node could ever hold one."""
    wants = resources(settings, kind)
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    if not any(n.get("CPU", 0.0) >= wants.num_cpus and n.get("GPU", 0.0) >= wants.num_gpus for n in nodes):
        largest = max((n.get("CPU", 0.0), n.get("GPU", 0.0)) for n in nodes) if nodes else (0.0, 0.0)
        # Ray would wait for such a node for ever (an autoscaler might add one; we have none).
        raise ClusterError(
            f"a {kind} actor reserves {wants.num_cpus:g} CPU and {wants.num_gpus:g} GPU "
            f"(cluster.{kind}.num_cpus/num_gpus) but the largest node of the cluster has "
            f"{largest[0]:g} CPU and {largest[1]:g} GPU"
        )
    return ray.remote(CameraActor).options(
        num_cpus=wants.num_cpus,
        num_gpus=wants.num_gpus,
        max_restarts=settings.max_restarts,
        max_concurrency=ACTOR_THREADS,
    )


@dataclass
class _Slot:
    """One actor and what it should be running; `call` is its report call still out, if any."""

    actor: Any
    kind: ActorKind
    cameras: dict[str, Camera]
    incarnation: str | None = None
    failures: int = 0
    call: Any = None
    called_at: float = 0.0


class RayWorkers:
    """A `WorkerPool` of Ray actors; worker i is the actor in slot i.

    Actors are started as cameras need them: a camera goes to the least-loaded actor of its kind
    (`actor_kind`) that has room (`cameras_per_actor`), or to a new one. An actor left without
    cameras keeps its slot for the next camera of its kind.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._ray: Any = None
        self._slots: list[_Slot] = []
        self._matcher: FaceMatcher | None = None
        self._classes: dict[ActorKind, Any] = {}

    @property
    def size(self) -> int:
        return len(self._slots)

    def start(self) -> None:
        self._ray = connect(self.settings.cluster)
        self._classes = {}

    def _actor_class(self, kind: ActorKind) -> Any:
        if kind not in self._classes:
            self._classes[kind] = _actor_class(self._ray, self.settings.cluster, kind)
        return self._classes[kind]

    def place(self, camera: Camera, load: Sequence[int]) -> int:
        kind = actor_kind(camera)
        room = resources(self.settings.cluster, kind).cameras_per_actor
        fits = [i for i, slot in enumerate(self._slots) if slot.kind == kind and load[i] < room]
        if fits:
            return min(fits, key=lambda i: load[i])
        slot = len(self._slots)
        self._slots.append(_Slot(self._new_actor(kind, slot), kind, {}))
        self._slots[slot].actor.set_matcher.remote(self._matcher)
        log.info("actor %d (%s) started", slot, kind)
        return slot

    def _new_actor(self, kind: ActorKind, slot: int) -> Any:
        return self._actor_class(kind).remote(self.settings, slot)

    def add(self, worker: int, camera: Camera) -> None:
        slot = self._slots[worker]
        slot.cameras[camera.id] = camera
        slot.actor.add.remote(camera)

    def remove(self, worker: int, camera_id: str) -> None:
        slot = self._slots[worker]
        slot.cameras.pop(camera_id, None)
        slot.actor.remove.remote(camera_id)

    def set_matcher(self, matcher: FaceMatcher | None) -> None:
        self._matcher = matcher
        for slot in self._slots:
            slot.actor.set_matcher.remote(matcher)

    def actor(self, worker: int) -> Any:
        """The Ray actor handle in slot `worker` (for tests and `safecity status`)."""
        return self._slots[worker].actor

    def receive(self, wait_s: float) -> list[tuple[Any, ...]]:
        """The reports that are in, waiting up to `wait_s` for the first.

        Each actor has one report call out at a time; it answers when it has news or after
        `cluster.report_wait_s`. A slow or restarting actor holds up no other: its call stays
        out, and only one out longer than `cluster.call_timeout_s` counts as a failure.
        """
        ray = self._ray
        now = time.monotonic()
        for slot in self._slots:
            if slot.call is None:
                slot.call, slot.called_at = slot.actor.report.remote(), now
        calls = {slot.call: i for i, slot in enumerate(self._slots)}
        ready, _ = ray.wait(list(calls), num_returns=1, timeout=wait_s)
        if ready:
            ready, _ = ray.wait(list(calls), num_returns=len(calls), timeout=0)
        items: list[tuple[Any, ...]] = []
        for ref in ready:
            i = calls[ref]
            self._slots[i].call = None
            try:
                report: ActorReport = ray.get(ref)
            except ray.exceptions.RayError as exc:
                self._failed(i, exc)
                continue
            self._slots[i].failures = 0
            self._check_incarnation(i, report.incarnation)
            items.extend(report.items)
        limit = self.settings.cluster.report_wait_s + self.settings.cluster.call_timeout_s
        for i, slot in enumerate(self._slots):
            if slot.call is not None and time.monotonic() - slot.called_at > limit:
                ray.cancel(slot.call)
                slot.call = None
                self._failed(i, TimeoutError(f"no report within {limit:.0f} s"))
        return items

    def stop(self) -> list[tuple[Any, ...]]:
        ray = self._ray
        items: list[tuple[Any, ...]] = []
        calls = {slot.actor.stop.remote(): i for i, slot in enumerate(self._slots)}
        for ref, i in calls.items():
            try:
                report: ActorReport = ray.get(ref, timeout=60 + self.settings.cluster.call_timeout_s)
                items.extend(report.items)
            except Exception as exc:  # it loses its open tracks; what it stored stays
                log.warning("actor %d did not stop cleanly: %s", i, exc)
        for slot in self._slots:
            ray.kill(slot.actor, no_restart=True)
        return items

    def _check_incarnation(self, i: int, incarnation: str) -> None:
        slot = self._slots[i]
        if slot.incarnation == incarnation:
            return
        if slot.incarnation is not None:
            log.warning("actor %d restarted; its %d cameras are added again", i, len(slot.cameras))
        slot.incarnation = incarnation
        slot.actor.set_matcher.remote(self._matcher)
        for camera in slot.cameras.values():
            slot.actor.add.remote(camera)  # an unchanged camera still running is left alone

    def _failed(self, i: int, exc: BaseException) -> None:
        ray = self._ray
        slot = self._slots[i]
        slot.failures += 1
        log.warning("actor %d failed (%d in a row): %s", i, slot.failures, exc)
        gone = isinstance(exc, ray.exceptions.ActorDiedError) and slot.failures >= 2
        if gone or slot.failures > 3:
            # Ray will not bring it back (restarts used up) or it stopped answering: a new actor
            # takes the slot, its cameras follow on its first report.
            log.warning("actor %d replaced; its cameras %s move to the new actor", i, sorted(slot.cameras))
            ray.kill(slot.actor, no_restart=True)
            slot.actor = self._new_actor(slot.kind, i)
            slot.failures = 0


def analyse_recordings(
    settings: Settings,
    recordings: Sequence[Recording],
    *,
    actors: int | None = None,
    on_result: Callable[[RecordingResult], None] | None = None,
    on_actors: Callable[[list[Any]], None] | None = None,
    matcher: FaceMatcher | None = None,
) -> list[RecordingResult]:
    """Analyse recordings on the cluster, one actor per recording at a time; results in input order.

    `actors` actors (default one per recording) with the resources of the heaviest kind among
    the recordings' cameras (`actor_kind`).

    A recording whose actor fails is queued again (up to `cluster.recording_retries` times) and
    analysed from the start on the restarted or another actor; ids make the second pass store
    nothing twice. Face passages are matched against `matcher`'s templates. `on_result` sees each
    result as it comes; `on_actors` the actor handles once they exist (fault tests kill one).
    ClusterError if a recording fails more often than allowed.
    """
    if not recordings:
        return []
    ray = connect(settings.cluster)
    kind = min((actor_kind(r.camera) for r in recordings), key=KINDS.index)
    cls = _actor_class(ray, settings.cluster, kind)
    n = min(len(recordings), actors or len(recordings))
    handles = [cls.remote(settings, i) for i in range(n)]
    for handle in handles:
        handle.set_matcher.remote(matcher)
    if on_actors is not None:
        on_actors(handles)
    todo: deque[int] = deque(range(len(recordings)))
    tries = [0] * len(recordings)
    results: dict[int, RecordingResult] = {}
    running: dict[Any, tuple[int, int]] = {}  # call -> (recording, actor)
    idle = list(range(n))
    try:
        while todo or running:
            while todo and idle:
                job, a = todo.popleft(), idle.pop(0)
                tries[job] += 1
                running[handles[a].analyse_recording.remote(recordings[job])] = (job, a)
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                job, a = running.pop(ref)
                idle.append(a)
                try:
                    result: RecordingResult = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    rec = recordings[job]
                    if tries[job] > settings.cluster.recording_retries:
                        raise ClusterError(
                            f"{rec.path} as {rec.camera.id} failed {tries[job]} times, last: {exc}"
                        ) from exc
                    log.warning(
                        "%s as %s: actor %d failed (%s); analysed again", rec.path, rec.camera.id, a, exc
                    )
                    if isinstance(exc, ray.exceptions.ActorDiedError):
                        try:
                            _wait_restarted(ray, handles[a], settings.cluster.call_timeout_s)
                        except ClusterError:  # restarts used up: a new actor takes its place
                            ray.kill(handles[a], no_restart=True)
                            handles[a] = cls.remote(settings, a)
                            handles[a].set_matcher.remote(matcher)
                    todo.appendleft(job)
                    continue
                results[job] = result
                if on_result is not None:
                    on_result(result)
    finally:
        for handle in handles:
            ray.kill(handle, no_restart=True)
    return [results[i] for i in range(len(recordings))]


def _wait_restarted(ray: Any, handle: Any, timeout_s: float) -> None:
    """Wait until Ray has restarted the actor (its next call would otherwise fail as well)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            ray.get(handle.ping.remote(), timeout=timeout_s)
            return
        except ray.exceptions.GetTimeoutError:
            continue
        except ray.exceptions.RayActorError:
            time.sleep(0.2)  # Ray has not re-created the actor yet; there is no event to wait on
    raise ClusterError(f"actor was not restarted within {timeout_s:.0f} s")
