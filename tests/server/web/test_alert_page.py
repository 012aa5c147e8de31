"""An alert's page in words: who did what and when, the face-match score as a share of strangers
with the probe beside the enrolled photo (served only to those who confirm matches, recorded), a
speeding alert's two reads, distance, speed and section map, a hotlist alert's plate; never raw
ids, Python structures or unrounded numbers."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_world import AlertWorld, build

from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.server.web.pages.alerts import face_verdict, one_in, share_closer
from safecity.watch.face_decision import SHIPPED


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AlertWorld]:
    w = build(tmp_path / "var")
    yield w
    w.db.close()


def visible_text(page: str) -> str:
    """What a person reads in <main>: tags (and their attributes, where ids live in links) removed."""
    main = page[page.index("<main>") : page.index("</main>")]
    blocks = re.sub(
        r"</?(?:dt|dd|td|th|tr|p|li|h1|h2|div|section|figure|figcaption|label|br)\b[^>]*>", " ", main
    )
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", blocks)).split())


def assert_in_words(page: str, *ids: str) -> None:
    text = visible_text(page)
    assert not re.search(r"\d\.\d{4,}", text), "an unrounded number is shown"
    assert "{" not in text and "}" not in text, "a Python structure is shown"
    for i in ids:
        assert i not in text, f"the raw id {i} is shown"


@pytest.mark.parametrize(
    ("rate", "share", "odds"),
    [
        (0.01, "99 %", "1 in 100"),
        (0.001, "99.9 %", "1 in 1,000"),
        (2.2e-4, "99.97 %", "1 in 4,500"),
        (0.1, "90 %", "1 in 10"),
        (3e-7, "99.99997 %", "1 in 3,300,000"),
    ],
)
def test_rates_in_words(rate: float, share: str, odds: str) -> None:
    assert share_closer(rate) == share
    assert one_in(rate) == odds


def test_a_face_score_becomes_a_share_of_strangers(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    between = (SHIPPED.table.thresholds[4] + SHIPPED.table.thresholds[5]) / 2  # between 10^-2 and 10^-2.25
    share, rule = face_verdict(
        settings, {"distance": between, "threshold": 0.4686, "method": "distance", "target_fpir": 0.01}
    )
    assert re.fullmatch(
        r"The two faces are closer than 99\.\d %"
        r" of pairs of different people \(about 1 in \d\d\d pairs of "
        r"strangers look this alike\)\.",
        share,
    ), share
    assert rule == (
        f"An alert needs a distance of 0.47 or less, chosen so that at most 1 % of passers-by who are "
        f"on no list raise an alert; this face scored {between:.2f} (0 would be identical)."
    )


def test_a_score_closer_than_any_measured_pair_says_so(tmp_path: Path) -> None:
    share, _ = face_verdict(Settings(data_dir=tmp_path), {"distance": 0.21, "threshold": 0.4})
    assert share == (
        f"The two faces are closer than any of the {SHIPPED.table.comparisons:,} pairs of different "
        "people the calibration measured."
    )


def test_a_score_of_another_method_is_not_put_as_a_share(tmp_path: Path) -> None:
    share, _ = face_verdict(
        Settings(data_dir=tmp_path), {"distance": 0.3, "score": 0.2, "threshold": 0.3, "method": "cohort"}
    )
    assert "measures a different score" in share


def test_face_match_shows_probe_and_reference_side_by_side(world: AlertWorld) -> None:
    page = world.client("operator-1").get(f"/alerts/{world.face_alert}")
    assert page.status_code == 200
    pair = page.text[page.text.index('class="evidence-pair"') :]
    probe, reference = pair.index('id="probe"'), pair.index('id="reference"')
    assert probe < reference < pair.index("</div>")
    assert f'src="/alerts/{world.face_alert}/reference"' in page.text
    assert page.text.count("data-enlarge") == 2
    text = visible_text(page.text)
    assert "closer than any of the" in text and "An alert needs a distance of 0.40 or less" in text
    assert_in_words(page.text, world.face_alert, "person-1", "auth-1")


def test_the_reference_photo_is_served_and_recorded(world: AlertWorld) -> None:
    photo = world.client("operator-1").get(f"/alerts/{world.face_alert}/reference")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.content[:2] == b"\xff\xd8"
    entry = AuditLog(world.db).entries(AuditAction.VIEW_SIGHTING)[-1]
    assert (entry.username, entry.target) == ("operator-1", world.face_alert)
    assert entry.details["what"] == "enrolled reference photo" and entry.details["entry_id"] == "person-1"


@pytest.mark.parametrize(
    ("username", "status", "words"),
    [
        ("auditor-1", 403, "lacks confirm_match"),
        ("limited-op", 403, "outside"),
    ],
)
def test_the_reference_photo_is_refused_and_the_refusal_recorded(
    world: AlertWorld, username: str, status: int, words: str
) -> None:
    answer = world.client(username).get(f"/alerts/{world.face_alert}/reference")
    assert answer.status_code == status and words in answer.text
    denied = AuditLog(world.db).entries(AuditAction.ACCESS_DENIED)[-1]
    assert denied.username == username


def test_the_reference_photo_needs_a_login_and_a_face_match(world: AlertWorld) -> None:
    client = world.client("operator-1")
    assert client.get(f"/alerts/{world.plate_alert}/reference").status_code == 404
    client.cookies.clear()
    assert client.get(f"/alerts/{world.face_alert}/reference").status_code == 401


def test_an_auditor_sees_the_score_but_not_the_faces(world: AlertWorld) -> None:
    page = world.client("auditor-1").get(f"/alerts/{world.face_alert}")
    assert page.status_code == 200
    assert 'id="probe"' not in page.text and 'id="reference"' not in page.text
    assert "shown only to roles that confirm matches" in page.text


def test_the_history_says_who_did_what_and_when(world: AlertWorld) -> None:
    one, two = world.client("operator-1"), world.client("operator-2")
    one.post(f"/alerts/{world.face_alert}/decision", data={"decision": "confirm", "note": "same scar"})
    two.post(f"/alerts/{world.face_alert}/decision", data={"decision": "reject", "note": "older man"})
    one.post("/alerts/acknowledge", data={"alert": [world.plate_alert], "note": "patrol sent", "back": ""})
    face = visible_text(one.get(f"/alerts/{world.face_alert}").text)
    assert re.search(r"UTC\s+operator-1\s+\(operator\)\s+confirmed: it is the person\s+same scar", face)
    assert re.search(r"UTC\s+operator-2\s+\(operator\)\s+rejected: it is not the person\s+older man", face)
    plate = visible_text(two.get(f"/alerts/{world.plate_alert}").text)
    assert re.search(r"\d\d:\d\d:\d\d UTC\s+operator-1\s+\(operator\)\s+acknowledged\s+patrol sent", plate)
    assert "the system" in plate and "raised the alert" in plate


def test_speeding_shows_both_reads_the_speed_and_the_section_map(world: AlertWorld) -> None:
    page = world.client("operator-1").get(f"/alerts/{world.speeding_alert}")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert (
        "It covered the 1.23 km between the two cameras in 60.0 s, an average of 74 km/h on a section "
        "limited to 50 km/h, 19 km/h over what is allowed."
    ) in text
    assert "First read (section start): NS 456-CD at cam-1 · Camera cam-1 2026-03-02 08:00:00 UTC" in text
    assert "Second read (section end): NS 456-CD at cam-2 · Krunska east 2026-03-02 08:01:00 UTC" in text
    assert len(re.findall(r'<img data-enlarge src="/snapshots/plates/[0-9a-f]+"', page.text)) == 2
    found = re.search(
        r"<div class=\"citymap\" id=\"section-map\" data-points='([^']*)' data-line=\"1\">", page.text
    )
    assert found is not None
    points = json.loads(html.unescape(found.group(1)))
    assert [p["id"] for p in points] == ["cam-1", "cam-2"]
    assert points[1] == {
        "id": "cam-2", "name": "Krunska east", "lat": 44.8061, "lon": 20.4731, "heading": 90.0,
        "capabilities": ["motion", "plates"], "state": "unknown", "href": "/cameras/cam-2",
    }  # fmt: skip
    assert_in_words(page.text, world.speeding_alert)


def test_both_speeding_images_are_served(world: AlertWorld) -> None:
    client = world.client("operator-1")
    page = client.get(f"/alerts/{world.speeding_alert}").text
    for src in re.findall(r'src="(/snapshots/plates/[0-9a-f]+)"', page):
        image = client.get(src)
        assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"


def test_hotlist_shows_the_plate_large(world: AlertWorld) -> None:
    page = world.client("operator-1").get(f"/alerts/{world.plate_alert}")
    assert page.status_code == 200
    assert re.search(
        r'<img class="evidence-large" id="plate-image" data-enlarge src="/snapshots/plates/', page.text
    )
    text = visible_text(page.text)
    assert "Hotlisted plate: BG 123-AB" in text and "read with 90 % confidence" in text
    assert_in_words(page.text, world.plate_alert)


def test_an_unknown_alert_is_a_404_page(world: AlertWorld) -> None:
    page = world.client("operator-1").get("/alerts/0123456789abcdef")
    assert page.status_code == 404 and "There is no alert" in page.text
