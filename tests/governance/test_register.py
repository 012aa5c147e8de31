"""The public transparency register: every camera listed, nothing secret, nothing fetched from elsewhere."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import camera, site

from safecity.config import RecordingSettings
from safecity.governance.register import (
    ANALYSES_FACES,
    ANALYSES_PLATES,
    RECORDING_DAYS,
    export_register,
    public_register,
    recording_text,
    register_html,
)
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.types import Camera, Capability, RecordingMode, Site

WHEN = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
FACES = frozenset({Capability.FACES, Capability.MOTION})
PLATES = frozenset({Capability.PLATES, Capability.MOTION})
EVIL = "<script>alert(1)</script>"


def registry() -> tuple[list[Site], list[Camera]]:
    sites = [site("site-1"), site("site-2", lat=44.81, lon=20.45)]
    cameras = [
        camera("cam-1", capabilities=FACES, stream_url="rtsp://user:secret@10.0.0.1/stream1"),
        camera("cam-2", site_id="site-2", latitude=44.81, longitude=20.45, capabilities=PLATES),
        camera("cam-3", name=EVIL, legal_basis='Decision "A" & <B>', enabled=False),
    ]
    return sites, cameras


def test_geojson_states_faces_and_plates_and_has_no_stream_url() -> None:
    sites, cameras = registry()
    collection = public_register(cameras, sites)
    text = json.dumps(collection)
    assert "rtsp://" not in text and "secret" not in text and "10.0.0.1" not in text
    features = collection["features"]
    assert isinstance(features, list)
    props = {f["properties"]["ref"]: f["properties"] for f in features}
    assert set(props) == {"cam-1", "cam-2", "cam-3"}, "disabled cameras stay in the register"
    assert (props["cam-1"][ANALYSES_FACES], props["cam-1"][ANALYSES_PLATES]) == (True, False)
    assert (props["cam-2"][ANALYSES_FACES], props["cam-2"][ANALYSES_PLATES]) == (False, True)
    assert props["cam-2"]["surveillance:type"] == "ALPR"
    assert props["cam-1"]["operator"] == "City of Belgrade"
    assert props["cam-1"]["safecity:legal_basis"] and props["cam-1"]["safecity:retention_days"] == 30


def test_html_lists_every_camera_and_escapes_values() -> None:
    sites, cameras = registry()
    page = register_html(cameras, sites, WHEN)
    for cam in cameras:
        assert f"<td>{cam.id}</td>" in page
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Decision &quot;A&quot; &amp; &lt;B&gt;" in page
    assert "Slavija" in page and "44.802600, 20.466400" in page
    assert "2026-03-02 07:30 UTC" in page
    assert '<a href="register.geojson">' in page
    assert page.count("<circle") == 3 and page.count("<title>") == 4  # page title + one per point
    assert "rtsp://" not in page and "secret" not in page


def test_html_counts_cameras_per_capability() -> None:
    sites, cameras = registry()
    page = register_html(cameras, sites, WHEN)
    assert "<tr><td>faces</td><td>1</td><td>1</td></tr>" in page
    assert "<tr><td>plates</td><td>2</td><td>1</td></tr>" in page  # cam-3 (disabled) reads plates
    assert "<tr><td>motion</td><td>3</td><td>2</td></tr>" in page


def test_html_references_no_external_resource() -> None:
    sites, cameras = registry()
    page = register_html(cameras, sites, WHEN)
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""["'(]\s*//""", page), "no protocol-relative URL"
    assert not re.search(r"\bsrc\s*=", page, re.I), "no script, image or frame source"
    assert not re.search(r"url\(|@import", page, re.I), "no CSS fetches"
    assert re.findall(r'href="([^"]*)"', page) == ["register.geojson"]
    assert "<link" not in page and "<script" not in page
    assert "default-src 'none'" in page


def test_empty_registry_renders() -> None:
    page = register_html([], [], WHEN)
    assert "No cameras are registered." in page and "0 cameras" in page


def test_export_writes_both_files_from_the_live_registry(sqlite_db: Database, tmp_path: Path) -> None:
    sites, cameras = registry()
    CameraStore(sqlite_db).save(sites, cameras)
    geojson_path, html_path = export_register(sqlite_db, tmp_path / "public", generated_at=WHEN)
    assert (geojson_path.name, html_path.name) == ("register.geojson", "index.html")
    data = json.loads(geojson_path.read_text(encoding="utf-8"))
    assert [f["id"] for f in data["features"]] == ["cam-1", "cam-2", "cam-3"]
    assert "&lt;script&gt;" in html_path.read_text(encoding="utf-8")
    assert sorted(p.name for p in geojson_path.parent.iterdir()) == ["index.html", "register.geojson"]


def test_public_register_can_be_imported_again() -> None:
    from safecity.config import CameraDefaults
    from safecity.governance.register import public_register
    from safecity.registry.geojson import cameras_from_geojson

    cams = [camera("cam-1", capabilities=frozenset({Capability.FACES, Capability.PLATES}))]
    _, back = cameras_from_geojson(public_register(cams, [site()]), CameraDefaults())
    assert back[0].capabilities == cams[0].capabilities


@pytest.mark.parametrize(
    ("mode", "retention_days", "text", "days"),
    [
        (RecordingMode.NONE, 30, "not recorded", None),
        (RecordingMode.CONTINUOUS, 30, "recorded continuously, kept 7 days", 7),
        (RecordingMode.MOTION, 30, "recorded where something moved, kept 14 days", 14),
        (RecordingMode.EVENTS, 30, "recorded around plate reads, faces and alerts, kept 30 days", 30),
        (RecordingMode.EVENTS, 1, "recorded around plate reads, faces and alerts, kept 1 day", 1),  # capped
    ],
)
def test_the_register_says_whether_and_how_long_video_is_kept(
    mode: RecordingMode, retention_days: int, text: str, days: int | None
) -> None:
    recording = RecordingSettings(continuous_days=7, motion_days=14, events_days=30)
    cam = camera("cam-1", recording=mode, retention_days=retention_days)
    assert recording_text(cam, recording) == text
    assert f"<td>{text}</td>" in register_html([cam], [site("site-1")], WHEN, recording=recording)
    features = public_register([cam], [site("site-1")], recording=recording)["features"]
    assert isinstance(features, list)
    assert features[0]["properties"].get(RECORDING_DAYS) == days
