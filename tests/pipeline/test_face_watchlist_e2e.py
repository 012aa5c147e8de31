"""A face watchlist end to end on a rendered sim clip: enrol from a photo, analyse, alert only in scope."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import pytest

from safecity.analytics.faces.analyser import FaceAnalyser
from safecity.config import Settings
from safecity.pipeline.process import process_file
from safecity.sim import _camera, _sites, build_scenario
from safecity.sim.faces import reference_image
from safecity.sim.render import render_clip
from safecity.store.authorisations import AuthorisationStore
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.face_watchlists import FaceWatchlistStore
from safecity.store.media import MediaStore
from safecity.store.observations import ObservationQueries
from safecity.store.writer import ObservationWriter
from safecity.types import Alert, AuthorisationPurpose, Camera, Capability
from safecity.watch.face_enrolment import FaceAlerter, enrol_photos
from safecity.watch.faces import FaceMatcher, FaceMatchEvent, load_rule


@pytest.fixture(scope="module")
def kerb_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Camera, datetime]:
    """12 s of the kerb camera (faces and plates), where Grace Hopper and Eileen Collins walk past."""
    scenario = build_scenario(3, 12, 1, fps=10, width=1280, height=720)
    (spec,) = [c for c in scenario.cameras if Capability.FACES in c.capabilities]
    path = render_clip(scenario, spec, tmp_path_factory.mktemp("sim") / f"{spec.id}.mp4")
    # Faces only: reading the plates on this camera is another test's business and costs seconds.
    cam = replace(_camera(spec, path), capabilities=frozenset({Capability.FACES}))
    return path, cam, scenario.start_time


@pytest.fixture(scope="module")
def analyser(tmp_path_factory: pytest.TempPathFactory) -> FaceAnalyser:
    settings = Settings()
    return FaceAnalyser(settings.faces, tmp_path_factory.mktemp("models"))


class Matches:
    def __init__(self) -> None:
        self.events: list[FaceMatchEvent] = []

    def submit_matches(self, events: list[FaceMatchEvent]) -> None:
        self.events.extend(events)


def analyse(
    tmp_path: Path,
    analyser: FaceAnalyser,
    clip: tuple[Path, Camera, datetime],
    authorised: tuple[str, ...],
    window_start: timedelta = timedelta(hours=-1),
) -> tuple[Database, list[Alert], FaceWatchlistStore]:
    """Register the kerb camera and another, authorise `authorised` for a 2-hour window, run the clip."""
    path, cam, start = clip
    settings = Settings(data_dir=tmp_path / "var")
    db = Database.open(settings.effective_database_url)
    other = replace(cam, id="cam-other", name="Another camera")
    scenario_sites = _sites(build_scenario(3, 12, 1, fps=10, width=1280, height=720).cameras)
    CameraStore(db).save(list(scenario_sites), [cam, other])
    auth = AuthorisationStore(db).create(
        "Court", "K-1", AuthorisationPurpose.MISSING_PERSON, authorised,
        start + window_start, start + window_start + timedelta(hours=2),
        datetime.now(UTC) + timedelta(days=1), "inv",
    )  # fmt: skip
    media = MediaStore(settings.effective_media_dir)
    store = FaceWatchlistStore(db, media)
    wl = store.create("missing", auth.id)
    photo = tmp_path / "hopper.jpg"
    cv2.imwrite(str(photo), reference_image("grace_hopper"))
    enrol_photos(analyser, store, wl.id, "Grace Hopper", [photo])
    matcher = FaceMatcher(
        store.templates_in_force(), load_rule(settings.faces, settings.effective_face_calibration_path)
    )
    matches = Matches()
    with ObservationWriter(db, settings.store) as writer:
        process_file(
            path, cam, settings, sink=writer, snapshots=media, start_time=start, face_analyser=analyser,
            face_matcher=matcher, matches=matches,
        )  # fmt: skip
    return db, FaceAlerter(store).save(matches.events), store


def test_enrolled_person_raises_an_alert_on_an_authorised_camera(
    tmp_path: Path, kerb_clip: tuple[Path, Camera, datetime], analyser: FaceAnalyser
) -> None:
    _, alerts, store = analyse(tmp_path, analyser, kerb_clip, (kerb_clip[1].id,))
    assert alerts, "Grace Hopper walks past the kerb camera"
    (stored,) = {a.evidence.label for a in store.face_alerts()}
    assert stored == "Grace Hopper"
    assert all(a.evidence.distance <= a.evidence.threshold for a in store.face_alerts())


def test_only_the_enrolled_person_matches(
    tmp_path: Path, kerb_clip: tuple[Path, Camera, datetime], analyser: FaceAnalyser
) -> None:
    db, alerts, _ = analyse(tmp_path, analyser, kerb_clip, (kerb_clip[1].id,))
    sightings = ObservationQueries(db).face_sightings(kerb_clip[1].id)
    assert len(sightings) > len(alerts), "Eileen Collins passes too, and matches nothing"


def test_no_alert_on_a_camera_the_authorisation_does_not_name(
    tmp_path: Path, kerb_clip: tuple[Path, Camera, datetime], analyser: FaceAnalyser
) -> None:
    _, alerts, _ = analyse(tmp_path, analyser, kerb_clip, ("cam-other",))
    assert alerts == []


def test_no_alert_outside_the_authorised_window(
    tmp_path: Path, kerb_clip: tuple[Path, Camera, datetime], analyser: FaceAnalyser
) -> None:
    _, alerts, _ = analyse(
        tmp_path, analyser, kerb_clip, (kerb_clip[1].id,), window_start=timedelta(hours=-3)
    )
    assert alerts == []


def test_passers_by_keep_no_vector_and_matches_keep_theirs(
    tmp_path: Path, kerb_clip: tuple[Path, Camera, datetime], analyser: FaceAnalyser
) -> None:
    db, alerts, _ = analyse(tmp_path, analyser, kerb_clip, (kerb_clip[1].id,))
    sightings = ObservationQueries(db).face_sightings(kerb_clip[1].id)
    matched = {a.observation_id for a in alerts}
    assert all((s.embedding is not None) == (s.id in matched) for s in sightings)


def test_each_match_is_logged_as_one_use_with_the_ai_act_fields(
    tmp_path: Path, kerb_clip: tuple[Path, Camera, datetime], analyser: FaceAnalyser
) -> None:
    from safecity.governance.audit import AuditAction, AuditLog

    db, alerts, store = analyse(tmp_path, analyser, kerb_clip, (kerb_clip[1].id,))
    entries = AuditLog(db).entries(AuditAction.FACE_MATCH)
    assert [e.target for e in entries] == [a.id for a in alerts]
    (watchlist,) = store.list_watchlists()
    for entry, alert in zip(entries, alerts, strict=True):
        d = entry.details
        assert (entry.username, d["watchlist_id"], d["watchlist_version"]) == ("system", watchlist.id, 2)
        assert d["input_sighting_id"] == alert.observation_id and len(d["input_sha256"]) == 64
        assert d["use_started"] < d["seen_at"] < d["use_ends"] and d["verified_by"] == []
    assert AuditLog(db).verify().ok
