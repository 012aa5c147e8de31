"""`safecity faces calibrate DIR` and `eval faces --plot` as an administrator drives them.

The calibration test embeds real faces: a subset of ../shared/data/faces (linked, never copied);
it skips without that data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from image_files import png_bomb
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.store.database import Database
from safecity.watch.face_calibration import MIN_PERSONS
from safecity.watch.face_decision import FaceCalibration
from safecity.watch.faces import load_rule

runner = CliRunner()
FACES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "faces"

pytestmark = pytest.mark.usefixtures("cli_data_dir")


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def calibration_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "face_calibration.npz"


def config_changes(tmp_path: Path) -> list[object]:
    db_file = tmp_path / "var" / "safecity.db"
    if not db_file.exists():
        return []
    return list(AuditLog(Database.open(f"sqlite:///{db_file}")).entries(AuditAction.CONFIG_CHANGE))


def shared_subset(tmp_path: Path, people: int) -> Path:
    """Links to the photos of the first `people` people with at least two photos."""
    if not FACES.is_dir():
        pytest.skip(f"shared face data not found at {FACES}")
    folder = tmp_path / "city_photos"
    chosen = [p for p in sorted(FACES.iterdir()) if p.is_dir() and len(list(p.glob("*.jpg"))) >= 2][:people]
    for person in chosen:
        (folder / person.name).mkdir(parents=True)
        for photo in sorted(person.glob("*.jpg"))[:2]:
            (folder / person.name / photo.name).symlink_to(photo)
    return folder


def test_calibrate_writes_the_rule_in_force_and_audits_it(tmp_path: Path) -> None:
    folder = shared_subset(tmp_path, MIN_PERSONS + 2)
    code, output = cli("faces", "calibrate", str(folder), "--justification", "yearly check")
    assert code == 0, output
    calibration = FaceCalibration.load(calibration_path(tmp_path))
    assert (calibration.method, calibration.persons) == ("cohort", MIN_PERSONS + 2)
    assert load_rule(Settings().faces, calibration_path(tmp_path)).method == "cohort"
    (entry,) = config_changes(tmp_path)
    assert entry.target == "faces.calibration" and entry.justification == "yearly check"  # type: ignore[attr-defined]
    assert entry.details["persons"] == MIN_PERSONS + 2  # type: ignore[attr-defined]


def test_calibrate_refuses_too_few_people(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    for i in range(3):
        (folder / f"p{i}").mkdir(parents=True)
        (folder / f"p{i}" / "a.jpg").write_bytes(b"")
    code, output = cli("faces", "calibrate", str(folder))
    assert code == 2 and "at least" in output
    assert not calibration_path(tmp_path).exists() and config_changes(tmp_path) == []


def test_calibrate_refuses_a_photo_declaring_a_huge_image(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    for i in range(MIN_PERSONS):
        (folder / f"p{i:02d}").mkdir(parents=True)
        (folder / f"p{i:02d}" / "a.png").write_bytes(png_bomb(20000, 20000))
    code, output = cli("faces", "calibrate", str(folder))
    assert code == 2 and "20000" in output
    assert not calibration_path(tmp_path).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["faces", "calibrate", "no-such-folder"], "not a folder"),
        (["faces", "calibrate", ".", "--method", "magic"], "--method"),
        (["eval", "faces", ".", "--plot", "det.jpg"], ".png"),
        (["eval", "faces", ".", "--enrol", "0"], "--enrol"),
        (["eval", "faces", ".", "--gallery-size", "0"], "--gallery-size"),
    ],
)
def test_bad_options_exit_2_naming_them(args: list[str], message: str) -> None:
    code, output = cli(*args)
    assert code == 2 and message in output


def test_a_corrupt_calibration_file_is_a_clear_error(tmp_path: Path) -> None:
    path = calibration_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not a face calibration"):
        load_rule(Settings().faces, path)
