"""A person who stays in view (or a looping clip) matches on every pass: within `faces.alert_repeat_s`
of that person's last alert on a camera, a match there raises no new alert; another camera, another
person or a match after the window does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import pytest
from factories import camera, site

from safecity.analytics.faces.analyser import FaceAnalyser
from safecity.config import Settings
from safecity.config.faces import FaceSettings
from safecity.sim.faces import reference_image
from safecity.store.authorisations import AuthorisationStore
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.face_watchlists import FaceWatchlistStore
from safecity.store.media import MediaStore
from safecity.types import AuthorisationPurpose, BBox, FaceSighting, FaceTemplate, new_id
from safecity.watch.face_enrolment import FaceAlerter, enrol_photos
from safecity.watch.faces import FaceMatch, FaceMatchEvent

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
REPEAT_S = 300.0


@dataclass(frozen=True)
class Watch:
    store: FaceWatchlistStore
    template: FaceTemplate

    def event(self, camera_id: str, seconds: float) -> FaceMatchEvent:
        sighting = FaceSighting(
            new_id(), camera_id, T0 + timedelta(seconds=seconds), BBox(0, 0, 40, 40), 0.9, 0.8
        )
        return FaceMatchEvent(sighting, FaceMatch(self.template, 0.2, 0.4), "")


@pytest.fixture(scope="module")
def analyser(tmp_path_factory: pytest.TempPathFactory) -> FaceAnalyser:
    return FaceAnalyser(Settings().faces, tmp_path_factory.mktemp("models"))


@pytest.fixture
def watch(tmp_path: Path, analyser: FaceAnalyser) -> Iterator[Watch]:
    """Grace Hopper enrolled on a watchlist authorised for cam-1 and cam-2."""
    settings = Settings(data_dir=tmp_path / "var")
    db = Database.open(settings.effective_database_url)
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2", name="Camera cam-2")])
    auth = AuthorisationStore(db).create(
        "Court", "K-1", AuthorisationPurpose.MISSING_PERSON, ("cam-1", "cam-2"),
        T0 - timedelta(hours=1), T0 + timedelta(hours=2), datetime.now(UTC) + timedelta(days=1), "inv",
    )  # fmt: skip
    store = FaceWatchlistStore(db, MediaStore(settings.effective_media_dir))
    wl = store.create("missing", auth.id)
    photo = tmp_path / "hopper.jpg"
    cv2.imwrite(str(photo), reference_image("grace_hopper"))
    enrol_photos(analyser, store, wl.id, "Grace Hopper", [photo])
    [template] = store.templates_in_force(T0)
    yield Watch(store, template)
    db.close()


@pytest.mark.parametrize(
    ("repeat_s", "passes", "alerts"),
    [
        (REPEAT_S, [("cam-1", 0), ("cam-1", 60), ("cam-1", 290)], 1),
        (REPEAT_S, [("cam-1", 0), ("cam-1", 310)], 2),
        (REPEAT_S, [("cam-1", 0), ("cam-1", 200), ("cam-1", 400)], 2),
        (REPEAT_S, [("cam-1", 0), ("cam-2", 60)], 2),
        (0.0, [("cam-1", 0), ("cam-1", 60), ("cam-1", 120)], 3),
    ],
    ids=["same-camera-within", "after-the-window", "window-from-last-alert", "other-camera", "off"],
)
def test_repeated_matches_within_the_window_raise_one_alert(
    watch: Watch, repeat_s: float, passes: list[tuple[str, float]], alerts: int
) -> None:
    raised = FaceAlerter(watch.store, repeat_s).save([watch.event(c, s) for c, s in passes])
    assert len(raised) == alerts
    assert len(watch.store.face_alerts()) == alerts


def test_a_stored_alert_holds_back_the_next_batch(watch: Watch) -> None:
    alerter = FaceAlerter(watch.store, REPEAT_S)
    assert len(alerter.save([watch.event("cam-1", 0)])) == 1
    assert alerter.save([watch.event("cam-1", 120)]) == []
    assert len(FaceAlerter(watch.store, REPEAT_S).save([watch.event("cam-1", 301)])) == 1


def test_the_setting_is_in_the_faces_section() -> None:
    assert FaceSettings().alert_repeat_s == REPEAT_S
    assert Settings(faces={"alert_repeat_s": 0}).faces.alert_repeat_s == 0


def test_a_negative_window_is_refused(watch: Watch) -> None:
    with pytest.raises(ValueError, match="repeat_s must be 0 or more seconds"):
        FaceAlerter(watch.store, -1)
