"""The command line as a user drives it: registry commands, config, exit codes, no writes on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safecity.cli.app import app

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("cli_data_dir")


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def add(camera_id: str, *extra: str) -> tuple[int, str]:
    return run(
        "camera",
        "add",
        camera_id,
        "--name",
        f"Camera {camera_id}",
        "--lat",
        "44.8026",
        "--lon",
        "20.4664",
        *extra,
    )


def test_config_show_prints_effective_settings(tmp_path: Path) -> None:
    code, output = run("config", "show")
    assert code == 0
    assert f'database_url = "sqlite:///{tmp_path}/var/safecity.db"' in output


def test_config_show_prints_optional_settings_left_unset(tmp_path: Path) -> None:
    code, output = run("config", "show")
    assert code == 0 and "[traffic]" in output and "[api]" in output
    assert f'anchor_path = "{tmp_path}/var/audit-anchors.jsonl"' in output


def test_config_show_hides_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFECITY_DATABASE_URL", "postgresql://city:s3cret@db/safecity")
    code, output = run("config", "show", "--json")
    assert code == 0 and "s3cret" not in output and "city:***@db" in output


def test_invalid_config_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[motion]\nnot_a_setting = 1\n")
    code, output = run("--config", str(tmp_path / "bad.toml"), "config", "show")
    assert code == 2 and "not_a_setting" in output


def test_camera_add_then_show() -> None:
    assert add("cam-1", "--capabilities", "plates,motion", "--heading", "90")[0] == 0
    code, output = run("camera", "show", "cam-1")
    data = json.loads(output)
    assert code == 0
    assert (data["capabilities"], data["heading_deg"]) == (["motion", "plates"], 90.0)


@pytest.mark.parametrize("mode", ["none", "continuous", "motion", "events"])
def test_camera_add_sets_the_recording_mode(mode: str) -> None:
    assert add("cam-1", "--recording", mode)[0] == 0
    assert json.loads(run("camera", "show", "cam-1")[1])["recording"] == mode


def test_camera_show_masks_stream_credentials() -> None:
    add("cam-1", "--stream-url", "rtsp://admin:hunter2@10.0.0.5/stream1")
    code, output = run("camera", "show", "cam-1")
    assert code == 0 and "hunter2" not in output


def test_camera_list_shows_registered_cameras() -> None:
    add("cam-1")
    add("cam-2", "--site", "site-cam-1")
    code, output = run("camera", "list", "--json")
    assert code == 0
    assert [json.loads(line)["site_id"] for line in output.splitlines()] == ["site-cam-1", "site-cam-1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lat", "91"), "camera 'cam-1', --lat:"),
        (("--capabilities", "faces,xray"), "--capabilities: unknown capability 'xray'"),
        (("--heading", "400"), "--heading:"),
        (("--retention-days", "0"), "--retention-days:"),
        (("--stream-url", "ftp://x/y"), "--stream-url:"),
        (("--recording", "always"), "--recording"),
    ],
)
def test_camera_add_rejects_bad_values(args: tuple[str, ...], message: str) -> None:
    code, output = run("camera", "add", "cam-1", "--name", "x", "--lat", "44.8", "--lon", "20.4", *args)
    assert code == 2 and message in output
    assert run("camera", "list", "--json")[1] == ""


def test_camera_add_duplicate_exits_2() -> None:
    add("cam-1")
    code, output = add("cam-1")
    assert code == 2 and "already registered" in output


def test_camera_remove() -> None:
    add("cam-1")
    assert run("camera", "remove", "cam-1")[0] == 0
    assert run("camera", "show", "cam-1")[0] == 2


def test_export_import_round_trip(tmp_path: Path) -> None:
    add("cam-1", "--capabilities", "plates,motion", "--heading", "45", "--height", "6.5")
    add("cam-2", "--site", "site-cam-1", "--capabilities", "faces", "--disabled")
    add("cam-3", "--stream-url", "rtsp://10.0.0.9/live")
    exported = tmp_path / "register.geojson"
    assert run("camera", "export", str(exported))[0] == 0

    other = tmp_path / "other"
    result = runner.invoke(app, ["camera", "import", str(exported)], env={"SAFECITY_DATA_DIR": str(other)})
    assert result.exit_code == 0
    again = tmp_path / "again.geojson"
    result = runner.invoke(app, ["camera", "export", str(again)], env={"SAFECITY_DATA_DIR": str(other)})
    assert result.exit_code == 0
    assert json.loads(again.read_text()) == json.loads(exported.read_text())


def test_public_export_leaves_out_stream_urls() -> None:
    add("cam-1", "--stream-url", "rtsp://10.0.0.9/live")
    code, output = run("camera", "export", "--public")
    assert code == 0 and "10.0.0.9" not in output and '"ref": "cam-1"' in output


def _feature(ref: str, lon: object = 20.46, lat: object = 44.80, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "man_made": "surveillance",
            "surveillance:type": "camera",
            "ref": ref,
            "name": f"Camera {ref}",
            **props,
        },
    }


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([_feature("a"), _feature("b", lat=95.0)], "feature #2 (id=b), field 'geometry.coordinates'"),
        ([_feature("a"), _feature("a")], "duplicate"),
        ([_feature("a", **{"safecity:capabilities": "faces;sonar"})], "sonar"),
        ([_feature("a", lon="east")], "coordinates"),
    ],
)
def test_bad_import_exits_2_and_writes_nothing(tmp_path: Path, features: list[object], message: str) -> None:
    add("cam-existing")
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature("ok-1"), *features]}))
    code, output = run("camera", "import", str(bad))
    assert code == 2 and message in output
    ids = [json.loads(line)["id"] for line in run("camera", "list", "--json")[1].splitlines()]
    assert ids == ["cam-existing"]


def test_malformed_geojson_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [')
    code, output = run("camera", "import", str(bad))
    assert code == 2 and "bad.geojson" in output


def test_import_of_existing_ids_needs_replace(tmp_path: Path) -> None:
    add("cam-1")
    exported = tmp_path / "r.geojson"
    run("camera", "export", str(exported))
    assert run("camera", "import", str(exported))[0] == 2
    assert run("camera", "import", str(exported), "--replace")[0] == 0


def test_process_stores_motion_tracks(tmp_path: Path) -> None:
    add("cam-1", "--capabilities", "motion")
    clip = _square(tmp_path)
    code, output = run("process", str(clip), "--camera", "cam-1", "--start", "2026-03-02T07:30:00+00:00")
    assert code == 0 and "1 observation(s) stored" in output


def test_process_unknown_camera_exits_2(tmp_path: Path) -> None:
    code, output = run("process", str(tmp_path / "x.mp4"), "--camera", "ghost")
    assert code == 2 and "ghost" in output


def test_process_corrupt_video_exits_2(tmp_path: Path) -> None:
    add("cam-1")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video at all" * 50)
    code, output = run("process", str(bad), "--camera", "cam-1")
    assert code == 2 and "bad.mp4" in output


def test_sim_render_writes_clips_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "city"
    result = runner.invoke(
        app,
        ["sim", "render", str(out), "--cameras", "2", "--seconds", "1"],
        env={"SAFECITY_SIM__WIDTH": "320", "SAFECITY_SIM__HEIGHT": "240"},
    )
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "cam-01.mp4",
        "cam-02.mp4",
        "cameras.geojson",
        "truth.json",
    ]
    assert run("camera", "import", str(out / "cameras.geojson"))[0] == 0


def test_sim_render_rejects_zero_cameras(tmp_path: Path) -> None:
    code, output = run("sim", "render", str(tmp_path / "c"), "--cameras", "0")
    assert code == 2 and "camera" in output


def test_capabilities_may_be_separated_by_semicolons() -> None:
    assert add("cam-1", "--capabilities", "faces;plates")[0] == 0


def test_missing_register_file_is_named_once(tmp_path: Path) -> None:
    code, output = run("camera", "import", str(tmp_path / "none.geojson"))
    assert code == 2 and output.count("none.geojson") == 1


def test_export_to_a_missing_folder_exits_2(tmp_path: Path) -> None:
    add("cam-1")
    code, output = run("camera", "export", str(tmp_path / "no" / "such" / "dir.geojson"))
    assert code == 2 and "cannot write" in output


def test_db_current_on_unreachable_server_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAFECITY_DATABASE_URL", "postgresql://city:pw@127.0.0.1:1/safecity")
    code, output = run("db", "current")
    assert code == 2 and "cannot reach database postgresql://city:***@127.0.0.1:1/safecity" in output


def test_db_upgrade_to_unknown_revision_exits_2() -> None:
    code, output = run("db", "upgrade", "9999")
    assert code == 2 and "9999" in output


def test_db_downgrade_and_upgrade() -> None:
    assert run("db", "upgrade")[0] == 0
    code, output = run("db", "downgrade", "base")
    assert code == 0 and "empty" in output
    code, output = run("db", "current")
    assert code == 0 and "database at empty" in output


def _square(tmp_path: Path) -> Path:
    from videos import square_clip

    clip = tmp_path / "square.mp4"
    square_clip(clip, frames=75)
    return clip


def test_process_refuses_a_disabled_camera(tmp_path: Path) -> None:
    add("cam-1", "--disabled")
    code, output = run("process", str(_square(tmp_path)), "--camera", "cam-1")
    assert code == 2 and "disabled" in output


def test_process_refuses_the_same_file_twice(tmp_path: Path) -> None:
    add("cam-1")
    clip = _square(tmp_path)
    assert run("process", str(clip), "--camera", "cam-1")[0] == 0
    code, output = run("process", str(clip), "--camera", "cam-1")
    assert code == 2 and "already analysed" in output


def test_process_force_analyses_again(tmp_path: Path) -> None:
    add("cam-1")
    clip = _square(tmp_path)
    run("process", str(clip), "--camera", "cam-1")
    assert run("process", str(clip), "--camera", "cam-1", "--force")[0] == 0


def test_process_start_needs_an_offset(tmp_path: Path) -> None:
    add("cam-1")
    code, output = run(
        "process", str(_square(tmp_path)), "--camera", "cam-1", "--start", "2026-03-02T08:00:00"
    )
    assert code == 2 and "no UTC offset" in output


def test_camera_show_lists_the_latest_runs_with_errors(tmp_path: Path) -> None:
    add("cam-1")
    bad = tmp_path / "cut.mp4"
    from videos import square_clip

    square_clip(bad, frames=150, faststart=True)
    bad.write_bytes(bad.read_bytes()[:20_000])
    run("process", str(bad), "--camera", "cam-1")
    code, output = run("camera", "show", "cam-1")
    (latest,) = json.loads(output)["recent_runs"]
    assert code == 0 and "truncated or corrupt" in latest["error"]


def test_eval_plates_prints_json_summary_last(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    from safecity.sim.plates import render_plate

    data = tmp_path / "plates"
    data.mkdir()
    rows = ["file,plate_text,x,y,w,h"]
    for i, text in enumerate(["BG 123-AB", "NS 4567-CD"]):
        plate = render_plate(text)
        canvas = np.full((plate.shape[0] + 200, plate.shape[1] + 200, 3), 90, np.uint8)
        canvas[100 : 100 + plate.shape[0], 100 : 100 + plate.shape[1]] = plate
        cv2.imwrite(str(data / f"{i}.jpg"), canvas)
        rows.append(
            f"{i}.jpg,{text.replace(' ', '').replace('-', '')},100,100,{plate.shape[1]},{plate.shape[0]}"
        )
    (data / "labels.csv").write_text("\n".join(rows) + "\n")
    code, output = run("eval", "plates", str(data), "--json")
    summary = json.loads(output.strip().splitlines()[-1])
    assert code == 0 and summary["n"] == 2 and summary["exact"] == 1.0


def test_eval_plates_without_labels_exits_2(tmp_path: Path) -> None:
    code, output = run("eval", "plates", str(tmp_path))
    assert code == 2 and "labels.csv" in output


def test_process_raises_an_alert_for_a_hotlisted_plate(tmp_path: Path) -> None:
    from safecity.config import SimSettings
    from safecity.eval.sim_plates import score_sim_plates
    from safecity.sim import render_city
    from safecity.store.database import Database
    from safecity.store.observations import ObservationQueries

    city = render_city(tmp_path / "sim", SimSettings(), cameras=1, seconds=8, seed=2)
    clip = city.clips["cam-01"]
    assert run("camera", "import", str(_register(city, tmp_path)))[0] == 0
    readable = {a.plate for a in city.truth().plates if a.camera == "cam-01"}
    for plate in sorted(readable):
        added = run("hotlist", "add", plate, "--reason", "stolen car", "--owner", "police", "--days", "30")
        assert added[0] == 0, added[1]
    code, output = run("process", str(clip), "--camera", "cam-01")
    db = Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")
    read_exactly = score_sim_plates(city.truth(), ObservationQueries(db).plate_reads())["cam-01"].read_exactly
    assert code == 0 and read_exactly > 0
    assert output.count("ALERT") >= read_exactly


def _register(city: object, tmp_path: Path) -> Path:
    from safecity.demo.run import write_register

    return write_register(city, tmp_path / "cameras.geojson")  # type: ignore[arg-type]
