"""The egress guarantee: the process contacts only what the configuration names.

The recorder is an audit hook, so it sees every socket opened through Python's `socket` module in
*this* process. Worker processes of `safecity serve` are separate interpreters; running the same
code paths here (registry, database, model loading, analysis of a clip, face search) covers what
they do. Sockets opened inside C libraries (libpq, FFmpeg) raise no audit event: those only go to
the database and stream URLs they are handed, which `allowed_destinations` lists.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import cv2
import pytest
from factories import camera

from safecity.config import ClusterSettings, Settings, StreamSettings
from safecity.governance.access import AccessGate, Caller
from safecity.governance.egress import (
    Attempt,
    Destination,
    EgressConfigError,
    EgressRecorder,
    allowed_destinations,
    check,
)
from safecity.types import Capability


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("", None),
        ("sqlite:////tmp/x.db", None),
        ("postgresql+psycopg://safecity:pw@db.city.example:5433/safecity", ("db.city.example", 5433)),
        ("postgresql://u:pw@10.0.0.5/safecity", ("10.0.0.5", 5432)),
        ("postgresql+psycopg://u@/safecity?host=/var/run/postgresql", None),
    ],
)
def test_database_destination(database_url: str, expected: tuple[str, int] | None, tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, database_url=database_url)
    outbound = [(d.host, d.port) for d in allowed_destinations(s, []) if not d.listen]
    assert outbound == ([] if expected is None else [expected])
    assert all("pw@" not in d.why for d in allowed_destinations(s, []))


@pytest.mark.parametrize(
    ("stream_url", "expected"),
    [
        ("rtsp://user:secret@10.0.0.1/stream1", ("10.0.0.1", 554)),
        ("rtsp://10.0.0.2:8554/live", ("10.0.0.2", 8554)),
        ("rtsps://cam.city.example/live", ("cam.city.example", 322)),
        ("http://cam.city.example/mjpg", ("cam.city.example", 80)),
        ("https://[2001:db8::1]/snapshot", ("2001:db8::1", 443)),
        ("file:///clips/a.mp4", None),
    ],
)
def test_camera_stream_destination(stream_url: str, expected: tuple[str, int] | None, tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, database_url="postgresql://u:pw@db:5432/x")
    found = allowed_destinations(s, [camera("cam-1", stream_url=stream_url)])
    streams = [(d.host, d.port) for d in found if d.why.startswith("stream")]
    assert streams == ([] if expected is None else [expected])
    assert all("secret" not in d.why for d in found)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("", None),
        ("local", None),
        ("auto", None),
        ("ray://head.city.example:10001", ("head.city.example", 10001)),
        ("10.0.0.9:6379", ("10.0.0.9", 6379)),
    ],
)
def test_ray_cluster_head_destination(address: str, expected: tuple[str, int] | None, tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, cluster=ClusterSettings(address=address))
    heads = [(d.host, d.port) for d in allowed_destinations(s, []) if d.why.startswith("Ray")]
    assert heads == ([] if expected is None else [expected])


def test_a_cluster_address_without_a_port_is_refused(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, cluster=ClusterSettings(address="head.city.example"))
    with pytest.raises(EgressConfigError, match="not ray://HOST:PORT"):
        allowed_destinations(s, [])


def test_disabled_cameras_and_the_listen_address(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, streams=StreamSettings(http_host="0.0.0.0", http_port=9000))
    found = allowed_destinations(s, [camera("cam-1", enabled=False), camera("cam-2"), camera("cam-3")])
    assert [(d.host, d.port, d.listen) for d in found] == [
        ("10.0.0.1", 554, False),
        ("0.0.0.0", 9000, True),
        ("127.0.0.1", 8000, True),
    ]


def test_a_url_without_a_known_default_port_is_refused(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, database_url="mongodb://u:pw@db/x")
    with pytest.raises(EgressConfigError, match=r"mongodb://u:\*\*\*@db/x"):
        allowed_destinations(s, [])


def test_a_connection_to_a_port_nobody_configured_is_caught(tmp_path: Path) -> None:
    allowed = allowed_destinations(Settings(data_dir=tmp_path), [camera("cam-1")])
    recorder = EgressRecorder.instance()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with recorder.session():
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.sendto(b"x", ("127.0.0.1", port))
    problems = check(recorder.attempts(), allowed)
    assert f"connect 127.0.0.1:{port}: not a destination the configuration names" in problems
    assert f"sendto 127.0.0.1:{port}: not a destination the configuration names" in problems
    # Once the port is configured (here as the listen address) the same connection is fine.
    configured = [*allowed, Destination("127.0.0.1", port, "test listener")]
    assert check(recorder.attempts(), configured) == []


def test_name_lookups_and_unix_sockets(tmp_path: Path) -> None:
    recorder = EgressRecorder.instance()
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()
        with recorder.session():
            with socket.socket(socket.AF_UNIX) as client:
                client.connect(str(path))
            socket.getaddrinfo("10.255.255.1", 443)  # numeric: no resolver is asked
    attempts = recorder.attempts()
    assert Attempt("connect", str(path), 0, unix=True) in attempts
    assert check(attempts, []) == ["resolve 10.255.255.1:443: not a destination the configuration names"]
    assert check(attempts, [Destination("10.255.255.1", 443, "test")]) == []
    assert check([Attempt("resolve", "telemetry.vendor.example", 443)], []) == [
        "resolve telemetry.vendor.example:443: not a destination the configuration names"
    ]
    local = [Attempt("resolve", "localhost", 5432), Attempt("connect", "::1", 5432)]
    assert check(local, [Destination("localhost", 5432, "database")]) == []
    # A server configured on 127.0.0.1 does not listen on ::1: that connection goes elsewhere.
    assert check(local, [Destination("127.0.0.1", 5432, "database")]) == [
        "connect [::1]:5432: not a destination the configuration names"
    ]
    assert len(check(local, [Destination("10.0.0.9", 5432, "database")])) == 2


def test_recording_can_be_switched_off() -> None:
    recorder = EgressRecorder.instance()
    assert recorder is EgressRecorder.instance()
    recorder.clear()
    recorder.stop()
    socket.getaddrinfo("10.255.255.2", 80)
    assert recorder.attempts() == []


def test_real_work_contacts_only_configured_destinations(tmp_path: Path) -> None:
    """Register cameras, analyse a sim clip for faces and plates, open the store, search a face."""
    from safecity.analytics.faces.analyser import FaceAnalyser
    from safecity.analytics.plates.reader import PlateReader
    from safecity.pipeline.process import process_file
    from safecity.search.faces import FaceQuery, FaceSearch
    from safecity.sim import _camera, _sites, build_scenario
    from safecity.sim.faces import reference_image
    from safecity.sim.render import render_clip
    from safecity.store.cameras import CameraStore
    from safecity.store.database import Database
    from safecity.store.face_index import FaceIndex
    from safecity.store.media import MediaStore
    from safecity.store.writer import ObservationWriter

    scenario = build_scenario(3, 4, 1, fps=10, width=640, height=360)
    (spec,) = [c for c in scenario.cameras if Capability.FACES in c.capabilities]
    clip = render_clip(scenario, spec, tmp_path / f"{spec.id}.mp4")
    kerb = replace(
        _camera(spec, clip), capabilities=frozenset({Capability.FACES, Capability.PLATES, Capability.MOTION})
    )
    live = camera("cam-live", site_id=spec.site_id, stream_url="rtsp://user:secret@10.0.0.1/stream1")
    listen_port = _free_port()
    settings = Settings(data_dir=tmp_path / "var", streams=StreamSettings(http_port=listen_port))
    photo = tmp_path / "hopper.jpg"
    cv2.imwrite(str(photo), reference_image("grace_hopper"))

    recorder = EgressRecorder.instance()
    with socket.socket() as server:
        server.bind(("127.0.0.1", listen_port))
        server.listen()
        with recorder.session():
            db = Database.open(settings.effective_database_url, settings.store)
            CameraStore(db).save(list(_sites(scenario.cameras)), [kerb, live])
            analyser = FaceAnalyser(settings.faces, settings.effective_model_cache_dir)
            reader = PlateReader(settings.plates)
            media = MediaStore(settings.effective_media_dir)
            with ObservationWriter(db, settings.store) as writer:
                stats = process_file(
                    clip, kerb, settings, sink=writer, snapshots=media, start_time=scenario.start_time,
                    plate_reader=reader, face_analyser=analyser,
                )  # fmt: skip
            index = FaceIndex(db, settings.effective_face_index_path)
            FaceSearch(analyser, index, AccessGate(db)).photo(
                photo, Caller.console("tester"), FaceQuery("egress test, case 0/0", k=5)
            )
            # A local client of our own /metrics endpoint: recorded, and allowed. It also proves
            # the hook was live for the whole block.
            with socket.create_connection(("127.0.0.1", listen_port), timeout=5):
                pass
            db.close()
    attempts = recorder.attempts()
    assert stats.frames_analysed > 0
    assert Attempt("connect", "127.0.0.1", listen_port) in attempts
    allowed = allowed_destinations(settings, [kerb, live])
    assert check(attempts, allowed) == []
