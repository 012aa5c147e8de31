"""`safecity authorisation`, `watchlist`, `search face` and `eval faces` as a user drives them."""

from __future__ import annotations

import csv
import getpass
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from factories import camera, site
from typer.testing import CliRunner

from safecity.cli.app import app
from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditLog
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.writer import write_batch
from safecity.types import BBox, Capability, FaceSighting, new_id

runner = CliRunner()
T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
FACES = frozenset({Capability.FACES, Capability.MOTION})


pytestmark = pytest.mark.usefixtures("cli_data_dir")


def db_here(tmp_path: Path) -> Database:
    return Database.open(f"sqlite:///{tmp_path / 'var' / 'safecity.db'}")


@pytest.fixture
def cameras(tmp_path: Path) -> None:
    CameraStore(db_here(tmp_path)).save(
        [site()], [camera("cam-1", capabilities=FACES), camera("cam-2", capabilities=FACES)]
    )


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    hopper, collins = reference_image("grace_hopper"), reference_image("eileen_collins")
    both = np.zeros((700, 1200, 3), np.uint8)
    both[: hopper.shape[0], : hopper.shape[1]] = hopper
    both[: collins.shape[0], 650 : 650 + collins.shape[1]] = collins
    files = {
        "hopper": hopper,
        "hopper_mirror": np.ascontiguousarray(hopper[:, ::-1]),
        "collins": collins,
        "both": both,
        "empty": np.full((400, 400, 3), 90, np.uint8),
    }
    out = {}
    for name, image in files.items():
        out[name] = tmp_path / f"{name}.jpg"
        cv2.imwrite(str(out[name]), image)
    (tmp_path / "not-an-image.jpg").write_bytes(b"GIF89a nonsense")
    out["broken"] = tmp_path / "not-an-image.jpg"
    return out


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def add_authorisation(*cams: str, reference: str = "Kpp 12/2026") -> tuple[int, str]:
    args = ["authorisation", "add", "--authority", "Higher Court Belgrade", "--reference", reference]
    args += ["--purpose", "missing_person", "--from", "2026-03-01T00:00:00+00:00"]
    args += ["--until", "2026-03-31T00:00:00+00:00", "--expires", "2099-01-01T00:00:00+00:00"]
    for c in cams:
        args += ["--camera", c]
    return cli(*args)


@pytest.fixture
def watchlist(cameras: None) -> str:
    assert add_authorisation("cam-1")[0] == 0
    code, output = cli("watchlist", "create", "missing", "--authorisation", "Kpp 12/2026")
    assert code == 0, output
    return "missing"


def test_authorisation_is_recorded_and_listed(cameras: None) -> None:
    assert add_authorisation("cam-1", "cam-2")[0] == 0
    code, output = cli("authorisation", "list", "--json")
    assert code == 0
    (entry,) = [json.loads(line) for line in output.splitlines()]
    assert entry["cameras"] == ["cam-1", "cam-2"] and entry["purpose"] == "missing_person"


def test_authorisation_list_keeps_id_and_reference_whole_at_120_columns(
    cameras: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `authorisation approve` takes the id or the reference: neither may be cut or wrapped.
    monkeypatch.setenv("COLUMNS", "120")
    assert add_authorisation("cam-1", "cam-2", reference="Kpp 1234/2026-B")[0] == 0
    (entry,) = [json.loads(line) for line in cli("authorisation", "list", "--json")[1].splitlines()]
    code, output = cli("authorisation", "list")
    assert code == 0
    assert max(len(line) for line in output.splitlines()) <= 120
    row = next(line for line in output.splitlines() if entry["id"] in line)
    assert "Kpp 1234/2026-B" in row
    assert "…" not in output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--purpose", "curiosity"], "purpose"),
        (["--camera", "cam-404"], "cam-404"),
        (["--until", "2026-02-01T00:00:00+00:00"], "before"),
        (["--from", "2026-03-01T00:00:00"], "UTC offset"),
    ],
    ids=["purpose not allowed", "unknown camera", "window ends before it starts", "naive time"],
)
def test_bad_authorisation_is_refused(cameras: None, change: list[str], message: str) -> None:
    args = {
        "--authority": "Court",
        "--reference": "K-1",
        "--purpose": "missing_person",
        "--camera": "cam-1",
        "--from": "2026-03-01T00:00:00+00:00",
        "--until": "2026-03-31T00:00:00+00:00",
        "--expires": "2099-01-01T00:00:00+00:00",
    }
    args.update(dict(zip(change[::2], change[1::2], strict=True)))
    code, output = cli("authorisation", "add", *[x for kv in args.items() for x in kv])
    assert code == 2
    assert message in output


def test_watchlist_needs_a_known_authorisation(cameras: None) -> None:
    code, output = cli("watchlist", "create", "missing", "--authorisation", "nope")
    assert code == 2 and "nope" in output


def test_enrolled_person_is_listed(watchlist: str, photos: dict[str, Path]) -> None:
    code, output = cli(
        "watchlist", "enrol", watchlist, "--label", "Person A", "--photo", str(photos["hopper"]),
        "--photo", str(photos["hopper_mirror"]),
    )  # fmt: skip
    assert code == 0, output
    code, output = cli("watchlist", "list", watchlist)
    assert "Person A" in output and "version 2" in output


def test_reading_the_persons_on_a_watchlist_is_recorded(
    watchlist: str, photos: dict[str, Path], tmp_path: Path
) -> None:
    cli("watchlist", "enrol", watchlist, "--label", "Person A", "--photo", str(photos["hopper"]))
    cli("watchlist", "list", watchlist)
    (entry,) = AuditLog(db_here(tmp_path)).entries(AuditAction.VIEW_SIGHTING)
    assert entry.details["what"] == "watchlist persons" and len(entry.target.split(",")) == 1


@pytest.mark.parametrize(
    ("photo", "message"),
    [("empty", "no face found"), ("both", "2 faces found"), ("broken", "not a readable image")],
)
def test_unusable_photo_is_refused_and_nothing_enrolled(
    watchlist: str, photos: dict[str, Path], photo: str, message: str
) -> None:
    code, output = cli("watchlist", "enrol", watchlist, "--label", "A", "--photo", str(photos[photo]))
    assert code == 2
    assert message in output
    assert "0 persons" in cli("watchlist", "list", watchlist)[1]


def test_photos_of_two_people_are_refused(watchlist: str, photos: dict[str, Path]) -> None:
    code, output = cli(
        "watchlist", "enrol", watchlist, "--label", "A", "--photo", str(photos["hopper"]),
        "--photo", str(photos["collins"]),
    )  # fmt: skip
    assert code == 2
    assert "same person" in output


def test_removing_a_watchlist_deletes_its_photos(
    watchlist: str, photos: dict[str, Path], tmp_path: Path
) -> None:
    cli("watchlist", "enrol", watchlist, "--label", "A", "--photo", str(photos["hopper"]))
    media = tmp_path / "var" / "media" / "watchlists"
    assert any(media.rglob("*.jpg"))
    code, output = cli("watchlist", "remove", watchlist)
    assert code == 0 and "1 persons, 1 photos" in output
    assert not any(media.rglob("*.jpg"))


def test_watchlist_changes_are_audited(watchlist: str, photos: dict[str, Path], tmp_path: Path) -> None:
    cli("watchlist", "enrol", watchlist, "--label", "A", "--photo", str(photos["hopper"]))
    actions = [e.action for e in AuditLog(db_here(tmp_path)).entries()]
    assert actions == ["authorisation_change", "watchlist_change", "watchlist_change"]


@pytest.fixture
def stored_sightings(cameras: None, tmp_path: Path, photos: dict[str, Path]) -> str:
    """Three sightings with kept vectors: Grace Hopper on cam-1, two strangers; returns hers."""
    from safecity.analytics.faces.analyser import FaceAnalyser, read_photo

    s = Settings(data_dir=tmp_path / "var")
    vector = FaceAnalyser(s.faces, s.effective_model_cache_dir).single_face(read_photo(photos["hopper"]))
    assert vector.face.embedding is not None
    rng = np.random.default_rng(0)
    sightings = []
    for i, (cam, emb) in enumerate(
        [
            ("cam-1", vector.face.embedding),
            ("cam-1", rng.normal(0, 0.1, 128)),
            ("cam-2", rng.normal(0, 0.1, 128)),
        ]
    ):
        sightings.append(
            FaceSighting(
                id=new_id(),
                camera_id=cam,
                timestamp=T0 + timedelta(minutes=i),
                bbox=BBox(10, 10, 80, 80),
                confidence=0.9,
                quality=0.8,
                embedding=tuple(float(v) for v in emb),
            )
        )
    write_batch(db_here(tmp_path), sightings)
    return sightings[0].id


def test_face_search_finds_the_person_first(stored_sightings: str, photos: dict[str, Path]) -> None:
    code, output = cli(
        "search", "face", str(photos["hopper_mirror"]), "--reason", "case K-7/2026 missing person", "--json"
    )
    assert code == 0, output
    hits = [json.loads(line) for line in output.splitlines()]
    assert hits[0]["sighting_id"] == stored_sightings and hits[0]["match"] is True
    assert [h["match"] for h in hits[1:]] == [False, False]


def test_face_search_filters_by_camera(stored_sightings: str, photos: dict[str, Path]) -> None:
    code, output = cli(
        "search", "face", str(photos["hopper"]), "--reason", "case K-7/2026 missing person", "--camera",
        "cam-2", "--json",
    )  # fmt: skip
    assert code == 0
    assert {json.loads(line)["camera_id"] for line in output.splitlines()} == {"cam-2"}


def test_face_search_is_recorded_with_its_reason(
    stored_sightings: str, photos: dict[str, Path], tmp_path: Path
) -> None:
    cli("search", "face", str(photos["hopper"]), "--reason", "case K-7/2026 missing person")
    (entry,) = AuditLog(db_here(tmp_path)).entries(AuditAction.SEARCH_FACE)
    assert entry.username == getpass.getuser() and entry.role == "cli"
    assert entry.justification == "case K-7/2026 missing person"
    assert stored_sightings in entry.target and len(entry.details["input_sha256"]) == 64
    assert entry.details["reference"] == "face_vectors" and entry.details["started_at"]


@pytest.mark.parametrize(("role", "code"), [("investigator", 0), ("operator", 3), ("viewer", 3)])
def test_face_search_runs_as_the_token_user_and_needs_search_face(
    stored_sightings: str,
    photos: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    role: str,
    code: int,
) -> None:
    from safecity.governance.users import UserStore

    users = UserStore(db_here(tmp_path))
    users.add("ana", role, "a long enough password")
    monkeypatch.setenv("SAFECITY_TOKEN", users.issue_token("ana", timedelta(days=1)).secret)
    assert cli("search", "face", str(photos["hopper"]), "--reason", "case K-7/2026 missing person")[0] == code
    expected = AuditAction.SEARCH_FACE if code == 0 else AuditAction.ACCESS_DENIED
    (entry,) = AuditLog(db_here(tmp_path)).entries(expected)
    assert (entry.username, entry.role) == ("ana", role)


@pytest.mark.parametrize("reason", ["", "x", "   test   "])
def test_face_search_without_a_real_reason_is_refused(
    stored_sightings: str, photos: dict[str, Path], tmp_path: Path, reason: str
) -> None:
    code, output = cli("search", "face", str(photos["hopper"]), "--reason", reason)
    assert code == 2 and "reason" in output
    assert AuditLog(db_here(tmp_path)).entries(AuditAction.SEARCH_FACE) == []


def test_eval_faces_prints_the_metrics_as_json(tmp_path: Path) -> None:
    folder = tmp_path / "faces"
    images: dict[str, list[str]] = {}
    for person, name in (("Person_A", "grace_hopper"), ("Person_B", "eileen_collins")):
        base = reference_image(name)
        (folder / person).mkdir(parents=True)
        variants = [base, base[:, ::-1], cv2.convertScaleAbs(base, alpha=1.1, beta=10)]
        for i, image in enumerate(variants):
            path = folder / person / f"{person}_{i:04d}.jpg"
            cv2.imwrite(str(path), np.ascontiguousarray(image))
            images.setdefault(person, []).append(f"{person}/{path.name}")
    with (folder / "pairs.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["img1", "img2", "same"])
        w.writerows(
            [
                [images["Person_A"][0], images["Person_A"][1], 1],
                [images["Person_B"][0], images["Person_B"][2], 1],
            ]
        )
        w.writerows(
            [
                [images["Person_A"][0], images["Person_B"][0], 0],
                [images["Person_A"][2], images["Person_B"][1], 0],
            ]
        )
    (folder / "identities.csv").write_text("person\nPerson_A\nPerson_B\n")
    code, output = cli("eval", "faces", str(folder), "--json")
    assert code == 0, output
    report = json.loads(output.strip().splitlines()[-1])
    assert report["pairs_accuracy"] == 1.0 and report["rank1"] == 1.0
    assert report["detect_recall"] is None and report["ms_embed"] > 0


def test_urgent_authorisation_is_pending_and_can_be_approved(cameras: None) -> None:
    args = [
        "authorisation",
        "add",
        "--authority",
        "Court",
        "--reference",
        "U-1",
        "--purpose",
        "imminent_threat",
    ]
    args += [
        "--camera",
        "cam-1",
        "--from",
        "2026-03-01T00:00:00+00:00",
        "--until",
        "2099-01-01T00:00:00+00:00",
    ]
    code, output = cli(*args, "--urgent")
    assert code == 0 and "pending" in output
    code, output = cli("authorisation", "approve", "U-1")
    assert code == 0 and "approved" in output
    assert json.loads(cli("authorisation", "list", "--json")[1])["status"] == "approved"


def test_refusal_deletes_the_watchlists_under_it(watchlist: str, photos: dict[str, Path]) -> None:
    cli("watchlist", "enrol", watchlist, "--label", "A", "--photo", str(photos["hopper"]))
    code, output = cli("authorisation", "refuse", "Kpp 12/2026", "--reason", "court refused: no grounds")
    assert code == 0 and "1 watchlists, 1 persons" in output
    assert "0 face watchlists" in cli("watchlist", "list")[1]
