"""Scale-out on Ray: the `[cluster]` section (`ClusterSettings`), the cluster address and actor restarts,
and what Ray reserves per actor kind (`ActorResources`).
"""

from __future__ import annotations

from pydantic import Field

from safecity.config.base import SectionModel


class ActorResources(SectionModel):
    """What Ray reserves for one actor of an analyser kind, and how many cameras that actor runs."""

    cameras_per_actor: int = Field(4, ge=1, description="Cameras one actor decodes and analyses.")
    num_cpus: float = Field(1.0, gt=0, description="CPU cores Ray reserves for each actor of this kind.")
    num_gpus: float = Field(0.0, ge=0, description="GPUs Ray reserves for each actor of this kind.")


class ClusterSettings(SectionModel):
    """Scale-out: cameras analysed by Ray actors on several machines (`serve --cluster`).

    Cameras go to actors by their heaviest analyser: a camera with faces to a `faces` actor, else
    one with plates to a `plates` actor, else to a `motion` actor (motion and traffic), so each
    kind gets the resources it needs (a GPU for faces, say) and actors of one kind cost alike.
    Defaults follow the sizing table in docs/DEPLOYMENT.md (busy streets, 720p25).
    """

    address: str = Field(
        "",
        description="Ray cluster to run the analysers on: ray://HOST:10001, HOST:6379, auto (the cluster "
        "this machine joined with `ray start`) or local (a one-machine Ray started here); empty: worker "
        "processes on this machine, no Ray.",
    )
    motion: ActorResources = Field(
        ActorResources(cameras_per_actor=7, num_cpus=1.2),
        description="Actors of cameras with motion or traffic analysis only.",
    )
    plates: ActorResources = Field(
        ActorResources(cameras_per_actor=3, num_cpus=1.2), description="Actors of plate cameras."
    )
    faces: ActorResources = Field(
        ActorResources(cameras_per_actor=2, num_cpus=0.9),
        description="Actors of face cameras (with or without plates).",
    )
    max_restarts: int = Field(
        -1, ge=-1, description="Times Ray restarts a failed actor (-1: always); after that it is replaced."
    )
    report_wait_s: float = Field(
        1.0, gt=0, description="Longest an actor holds a report back while it has nothing to send."
    )
    call_timeout_s: float = Field(
        30.0, gt=0, description="An actor that does not answer for this long is treated as failed."
    )
    recording_retries: int = Field(
        3, ge=0, description="Times a recording is analysed again after the actor analysing it failed."
    )
    object_store_mb: int = Field(
        256, ge=80, description='Object store (MB) of the Ray instance `address = "local"` starts here.'
    )

    def head(self) -> tuple[str, int] | None:
        """Host and port of the Ray head `address` names; None for none, `auto` and `local`.

        ValueError if it is neither ray://HOST:PORT nor HOST:PORT.
        """
        address = self.address.strip()
        if address in ("", "auto", "local"):
            return None
        host, sep, port = address.removeprefix("ray://").rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"cluster address {address!r} is not ray://HOST:PORT, HOST:PORT, auto or local")
        return host.strip("[]"), int(port)
