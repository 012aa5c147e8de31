"""Search results as people read them: face search answers with face cards (the face through the
guarded snapshot route, the camera's name, the time, the score in words, links to the camera, the
clip and the alert's evidence export), never hex ids as the text; plate search with large crops
that enlarge and the alert raised on a read."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import cv2
import pytest
from alert_world import AlertWorld, build

from safecity.governance.audit import AuditAction, AuditLog
from safecity.sim.faces import reference_image
from safecity.store.models import AlertRow, FaceVectorRow

REASON = "case 2026/77: missing person"


def visible_text(page: str) -> str:
    """What a person reads in <main>: tags and their attributes (where ids live in links) removed."""
    main = page[page.index("<main>") : page.index("</main>")]
    blocks = re.sub(r"</?(?:td|th|tr|p|li|h1|h2|span|dd|dt|section|label|br)\b[^>]*>", " ", main)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", blocks)).split())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AlertWorld]:
    w = build(tmp_path / "var")
    _keep_vector(w)
    yield w
    w.db.close()


def _keep_vector(world: AlertWorld) -> None:
    """The face alert's sighting keeps its vector (a match's is kept), so a face search finds it."""
    from safecity.analytics.faces.analyser import FaceAnalyser
    from safecity.store.observations import vector_to_bytes

    s = world.settings
    rgb = cv2.cvtColor(reference_image("grace_hopper"), cv2.COLOR_BGR2RGB)
    face = FaceAnalyser(s.faces, s.effective_model_cache_dir).single_face(rgb).face
    assert face.embedding is not None
    with world.db.session() as session:
        alert = session.get(AlertRow, world.face_alert)
        assert alert is not None and alert.observation_id is not None
        session.add(
            FaceVectorRow(
                sighting_id=alert.observation_id,
                camera_id=alert.camera_id,
                ts=alert.ts,
                embedding=vector_to_bytes(face.embedding),
            )
        )


def face_search(world: AlertWorld, tmp_path: Path, username: str = "investigator-1") -> str:
    photo = tmp_path / "sought.jpg"
    cv2.imwrite(str(photo), reference_image("grace_hopper"))
    with photo.open("rb") as f:
        response = world.client(username).post(
            "/search/faces",
            data={"reason": REASON},
            files={"photo": ("sought.jpg", f, "image/jpeg")},
        )
    assert response.status_code == 200, response.text
    return response.text


def sighting_of(world: AlertWorld) -> str:
    with world.db.read_session() as session:
        alert = session.get(AlertRow, world.face_alert)
        assert alert is not None and alert.observation_id is not None
        return str(alert.observation_id)


def test_face_results_are_cards_with_the_face_and_words_not_ids(world: AlertWorld, tmp_path: Path) -> None:
    page = face_search(world, tmp_path)
    sighting = sighting_of(world)
    assert 'class="face-card match"' in page
    assert f'src="/snapshots/faces/{sighting}" data-enlarge=""' in page
    text = visible_text(page)
    assert sighting not in text and world.face_alert not in text
    assert "Camera cam-1" in text  # the camera's name, from the factory
    assert "Within the match threshold" in text
    assert re.search(r"closer than [\d.]+ % of pairs of different people|closer than any", text)
    assert f'href="/exports/new?alert={world.face_alert}"' in page
    assert f'href="/alerts/{world.face_alert}"' in page


def test_a_face_seen_while_the_camera_recorded_links_to_its_clip(world: AlertWorld, tmp_path: Path) -> None:
    from factories import T0
    from videos import keyframed_clip

    from safecity.store.recordings import RecordingStore, Segment, segment_path
    from safecity.types import RecordingMode, new_id

    store = RecordingStore(world.db, world.settings.effective_recordings_dir)
    segment_id, start = new_id(), T0 - timedelta(seconds=4)
    rel = segment_path("cam-1", start, RecordingMode.CONTINUOUS, segment_id)
    store.file(rel).parent.mkdir(parents=True, exist_ok=True)
    clip = keyframed_clip(store.file(rel))
    end = start + timedelta(seconds=8)
    store.add(Segment(segment_id, "cam-1", start, end, rel, clip.stat().st_size, RecordingMode.CONTINUOUS))
    found = re.search(r'<a class="clip-link" href="([^"]+)">Recorded clip</a>', face_search(world, tmp_path))
    assert found
    video = world.client("investigator-1").get(html.unescape(found.group(1)))
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"


def test_face_thumbnail_is_served_through_the_guarded_recorded_route(
    world: AlertWorld, tmp_path: Path
) -> None:
    face_search(world, tmp_path)
    sighting = sighting_of(world)
    image = world.client("investigator-1").get(f"/snapshots/faces/{sighting}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    entry = AuditLog(world.db).entries(AuditAction.VIEW_SIGHTING)[-1]
    assert (entry.username, entry.target) == ("investigator-1", sighting)
    assert world.client("viewer-1").get(f"/snapshots/faces/{sighting}").status_code == 403


def test_face_search_is_recorded_with_its_reason(world: AlertWorld, tmp_path: Path) -> None:
    page = face_search(world, tmp_path)
    entry = AuditLog(world.db).entries(AuditAction.SEARCH_FACE)[-1]
    assert entry.justification == REASON
    assert f"#{entry.seq}" in page


def test_plate_results_show_large_crops_that_enlarge_and_the_alert(world: AlertWorld) -> None:
    response = world.client("investigator-1").post("/search", data={"plate": "BG 123-AB", "reason": REASON})
    assert response.status_code == 200
    page = response.text
    assert re.search(r'<img class="crop" src="/snapshots/plates/[\w-]+" data-enlarge=""', page)
    assert f'href="/exports/new?alert={world.plate_alert}"' in page
    text = visible_text(page)
    assert "Krunska east" in text and world.plate_alert not in text


def test_operator_sees_no_export_link(world: AlertWorld) -> None:
    page = world.client("operator-1").post("/search", data={"plate": "BG 123-AB", "reason": REASON}).text
    assert f'href="/alerts/{world.plate_alert}"' in page
    assert "/exports/new" not in page


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/search", {"plate": "BG 123-AB", "reason": REASON}),
        ("/search/faces", {"reason": REASON}),
    ],
)
def test_cross_origin_search_is_refused(world: AlertWorld, path: str, data: dict[str, str]) -> None:
    response = world.client("investigator-1").post(
        path, data=data, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403


def test_every_page_loads_the_lightbox(world: AlertWorld) -> None:
    page = world.client("investigator-1").get("/search").text
    assert '<script src="/static/lightbox.js" defer></script>' in page
    assert '<link rel="stylesheet" href="/static/lightbox.css">' in page
    assert world.client("investigator-1").get("/static/lightbox.js").status_code == 200
