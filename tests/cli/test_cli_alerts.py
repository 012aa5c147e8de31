"""`safecity alert list|show|confirm|reject|ack|export` as operators, investigators and others drive them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from factories import camera, site
from typer.testing import CliRunner

from safecity.analytics.faces.detector import FaceDetector
from safecity.cli.app import app
from safecity.config import Settings
from safecity.governance.audit import AuditAction, AuditEntry, AuditLog
from safecity.governance.users import UserStore
from safecity.sim.faces import reference_image
from safecity.store.alerts import alert_row
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.face_watchlists import FaceWatchlistStore, face_match_alert
from safecity.store.media import MediaStore
from safecity.store.models import AlertRow
from safecity.store.writer import write_batch
from safecity.types import (
    PROBE_EXTRA_MARGIN,
    Alert,
    AlertKind,
    BBox,
    BGRImage,
    Capability,
    FaceSighting,
    PlateRead,
    context_box,
    new_id,
    probe_face_box,
)

runner = CliRunner()
T0 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
PASSWORD = "a long enough password"
REASON = "case K-9/2026 missing person"
RECIPIENTS = "Higher Court Belgrade, judge M. Petrovic"
CAPS = frozenset({Capability.FACES, Capability.PLATES, Capability.MOTION})
USERS = {
    "olga": ("operator", None),
    "ivan": ("investigator", None),
    "iris": ("investigator", None),
    "lena": ("investigator", ["cam-1"]),
    "vera": ("viewer", None),
    "audrey": ("auditor", None),
    "adam": ("admin", None),
}
"""username: (role, cameras); lena is limited to cam-1, where the face match is."""


@dataclass(frozen=True, slots=True)
class World:
    """What the template store holds: the two alerts, the matched face in the snapshot, tokens."""

    face_alert: str
    plate_alert: str
    face_snapshot: str
    plate_snapshot: str
    photo_ref: str
    watchlist_version: int
    matched: BBox
    """Where the matched face lies in the face snapshot."""
    tokens: dict[str, str]


@dataclass(frozen=True, slots=True)
class Here:
    """One test's copy of the store."""

    world: World
    var: Path

    def db(self) -> Database:
        return Database.open(f"sqlite:///{self.var / 'safecity.db'}")

    def media(self, ref: str) -> BGRImage:
        return read_jpeg(self.var / "media" / ref)

    def audit(self, action: AuditAction | None = None) -> list[AuditEntry]:
        db = self.db()
        try:
            return AuditLog(db).entries(action)
        finally:
            db.close()


def read_jpeg(path: Path) -> BGRImage:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return np.asarray(image, dtype=np.uint8)


def cli(*args: str, user: str | None = None, world: World | None = None) -> tuple[int, str, str]:
    """Run `safecity`; as the console, or as `user` (their token in SAFECITY_TOKEN)."""
    token = world.tokens[user] if user is not None and world is not None else None
    result = runner.invoke(app, list(args), env={"SAFECITY_TOKEN": token})
    return result.exit_code, result.stdout, result.output


def _plate_image() -> BGRImage:
    image = np.full((240, 320, 3), 70, np.uint8)
    cv2.rectangle(image, (90, 150), (230, 185), (235, 235, 235), -1)
    cv2.putText(image, "BG123AB", (96, 177), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2)
    return image


def _build(var: Path, photo: Path) -> World:
    """Cameras, users, a watchlist with Grace Hopper, her sighting and match, and a plate alert."""
    s = Settings(data_dir=var)
    db = Database.open(f"sqlite:///{var / 'safecity.db'}")
    CameraStore(db).save([site()], [camera("cam-1", capabilities=CAPS), camera("cam-2", capabilities=CAPS)])
    args = ["authorisation", "add", "--authority", "Higher Court Belgrade", "--reference", "Kpp 12/2026"]
    args += ["--purpose", "missing_person", "--camera", "cam-1", "--from", "2026-03-01T00:00:00+00:00"]
    args += ["--until", "2026-03-31T00:00:00+00:00", "--expires", "2099-01-01T00:00:00+00:00"]
    for command in (
        args,
        ["watchlist", "create", "missing", "--authorisation", "Kpp 12/2026"],
        ["watchlist", "enrol", "missing", "--label", "Person A", "--photo", str(photo)],
    ):
        result = runner.invoke(app, command, env={"SAFECITY_TOKEN": None})
        assert result.exit_code == 0, result.output
    media = MediaStore(s.effective_media_dir, s.store.snapshot_jpeg_quality)
    (template,) = FaceWatchlistStore(db, media).templates_in_force()

    # The frame is her photo; the sighting's snapshot is the crop the pipeline keeps around the face.
    frame = reference_image("grace_hopper")
    detector = FaceDetector(s.faces.model_copy(update={"detector": "hog", "upsample": 1}))
    (found,) = detector.detect(np.ascontiguousarray(frame[:, :, ::-1]))
    face = found.bbox
    crop = context_box(face, frame.shape, s.store.snapshot_margin + PROBE_EXTRA_MARGIN)
    sighting_id, read_id = new_id(), new_id()
    face_ref = media.save_snapshot("cam-1", T0, sighting_id, np.ascontiguousarray(frame), crop)
    plate_ref = media.save_snapshot("cam-2", T0, read_id, _plate_image())
    sighting = FaceSighting(
        id=sighting_id,
        camera_id="cam-1",
        timestamp=T0,
        bbox=face,
        confidence=0.9,
        quality=0.8,
        snapshot=face_ref,
        embedding=template.vector,
    )
    read = PlateRead(
        id=read_id,
        camera_id="cam-2",
        timestamp=T0 + timedelta(minutes=1),
        bbox=BBox(90, 150, 140, 35),
        confidence=0.95,
        text="BG 123-AB",
        normalised="BG123AB",
        country="RS",
        snapshot=plate_ref,
    )
    write_batch(db, [sighting, read])
    match = face_match_alert(sighting, template, distance=0.31, threshold=0.5)
    plate = Alert(
        id=new_id(),
        kind=AlertKind.PLATE_HOTLIST,
        camera_id="cam-2",
        timestamp=read.timestamp,
        message="BG123AB on hotlist: stolen",
        observation_id=read.id,
        score=0.95,
    )
    with db.session() as session:
        FaceWatchlistStore(db, media).save_face_alerts([match], session=session)
        session.add(AlertRow(**alert_row(plate, evidence={"plate_text": "BG 123-AB", "snapshot": plate_ref})))

    users = UserStore(db)
    tokens = {}
    for name, (role, cams) in USERS.items():
        users.add(name, role, PASSWORD, camera_ids=cams)
        tokens[name] = users.issue_token(name, timedelta(days=1)).secret
    db.close()
    return World(
        face_alert=match.alert.id,
        plate_alert=plate.id,
        face_snapshot=face_ref,
        plate_snapshot=plate_ref,
        photo_ref=template.photo_ref,
        watchlist_version=template.watchlist_version,
        matched=probe_face_box(face, s.store.snapshot_margin),
        tokens=tokens,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Path]]:
    """The store built once; each test works on its own copy (`here`)."""
    root = tmp_path_factory.mktemp("alerts-template")
    photo = root / "hopper.jpg"
    cv2.imwrite(str(photo), reference_image("grace_hopper"))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("SAFECITY_DATA_DIR", str(root / "var"))
        mp.delenv("SAFECITY_DATABASE_URL", raising=False)
        mp.delenv("SAFECITY_CONFIG", raising=False)
        yield _build(root / "var", photo), root / "var"


@pytest.fixture
def here(template: tuple[World, Path], cli_data_dir: Path) -> Here:
    world, var = template
    shutil.copytree(var, cli_data_dir / "var")
    return Here(world, cli_data_dir / "var")


def confirm_twice(here: Here, first: str = "olga", second: str = "ivan") -> None:
    for user in (first, second):
        code, _, output = cli("alert", "confirm", here.world.face_alert, user=user, world=here.world)
        assert code == 0, output


def export(
    here: Here, to: Path, *extra: str, user: str | None = "ivan", alert: str | None = None
) -> tuple[int, str]:
    args = ["alert", "export", alert or here.world.face_alert, "--to", str(to)]
    code, _, output = cli(
        *args, "--reason", REASON, "--recipients", RECIPIENTS, *extra, user=user, world=here.world
    )
    return code, output


def listed(here: Here, user: str | None = None) -> list[dict[str, object]]:
    code, stdout, output = cli("alert", "list", "--json", user=user, world=here.world)
    assert code == 0, output
    return [json.loads(line) for line in stdout.splitlines()]


def shown(here: Here, alert: str) -> dict[str, object]:
    code, stdout, output = cli("alert", "show", alert, "--json", user="ivan", world=here.world)
    assert code == 0, output
    body: dict[str, object] = json.loads(stdout)
    return body


def mean_diff(a: BGRImage, b: BGRImage, box: BBox) -> float:
    def region(image: BGRImage) -> np.ndarray:
        return image[box.y : box.y + box.h, box.x : box.x + box.w].astype(np.float32)

    return float(np.abs(region(a) - region(b)).mean())


# ------------------------------------------------------------------ list and show


def test_list_shows_both_alerts_newest_first(here: Here) -> None:
    alerts = listed(here)
    assert [(a["id"], a["kind"], a["status"]) for a in alerts] == [
        (here.world.plate_alert, "plate_hotlist", "new"),
        (here.world.face_alert, "face_watchlist", "new"),
    ]


def test_list_is_recorded_with_the_alert_ids(here: Here) -> None:
    listed(here, user="olga")
    (entry,) = here.audit(AuditAction.VIEW_SIGHTING)
    assert entry.username == "olga" and entry.details["what"] == "alerts"
    assert set(entry.target.split(",")) == {here.world.face_alert, here.world.plate_alert}


def test_camera_limited_user_sees_only_their_cameras(here: Here) -> None:
    assert [a["id"] for a in listed(here, user="lena")] == [here.world.face_alert]
    (entry,) = here.audit(AuditAction.VIEW_SIGHTING)
    assert entry.target == here.world.face_alert and entry.details["cameras"] == ["cam-1"]


def test_camera_limited_user_may_not_show_another_cameras_alert(here: Here) -> None:
    code, _, output = cli("alert", "show", here.world.plate_alert, user="lena", world=here.world)
    assert code == 3 and "cam-2" in output
    assert here.audit(AuditAction.VIEW_SIGHTING) == []
    (denied,) = here.audit(AuditAction.ACCESS_DENIED)
    assert denied.username == "lena" and "cam-2" in denied.details["why"]


def test_list_filters_by_status_and_kind(here: Here) -> None:
    cli("alert", "ack", here.world.plate_alert, user="olga", world=here.world)
    code, stdout, _ = cli("alert", "list", "--json", "--status", "new", user="olga", world=here.world)
    assert code == 0 and [json.loads(line)["id"] for line in stdout.splitlines()] == [here.world.face_alert]
    code, stdout, _ = cli("alert", "list", "--json", "--kind", "plate_hotlist")
    assert code == 0 and [json.loads(line)["id"] for line in stdout.splitlines()] == [here.world.plate_alert]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "bogus"], "--kind"),
        (["--since", "2026-03-01T00:00:00"], "--since"),
    ],
    ids=["unknown kind", "naive time"],
)
def test_list_refuses_bad_filters(here: Here, args: list[str], message: str) -> None:
    code, _, output = cli("alert", "list", *args)
    assert code == 2 and message in output


def test_list_prints_a_table(here: Here) -> None:
    code, _, output = cli("alert", "list")
    assert code == 0 and "2 alert(s)" in output and "plate_hotlist" in output


def test_viewer_may_not_list_and_the_refusal_is_recorded(here: Here) -> None:
    code, stdout, _ = cli("alert", "list", "--json", user="vera", world=here.world)
    assert code == 3 and stdout == ""
    (denied,) = here.audit(AuditAction.ACCESS_DENIED)
    assert denied.username == "vera" and denied.target == "view_sighting"
    assert here.audit(AuditAction.VIEW_SIGHTING) == []


def test_show_returns_the_evidence(here: Here) -> None:
    body = shown(here, here.world.face_alert)
    assert body["status"] == "new" and body["decisions"] == []
    evidence = body["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["label"] == "Person A" and evidence["probe_ref"] == here.world.face_snapshot
    (entry,) = here.audit(AuditAction.VIEW_SIGHTING)
    assert entry.target == here.world.face_alert and entry.details["what"] == "alert"


def test_show_of_an_unknown_alert_fails(here: Here) -> None:
    code, _, output = cli("alert", "show", "no-such-alert")
    assert code == 2 and "no-such-alert" in output


# ------------------------------------------------------------------ two-person confirmation


def test_console_may_not_confirm(here: Here) -> None:
    code, _, output = cli("alert", "confirm", here.world.face_alert)
    assert code == 3 and "SAFECITY_TOKEN" in output
    assert shown(here, here.world.face_alert)["status"] == "new"
    (denied,) = here.audit(AuditAction.ACCESS_DENIED)
    assert denied.role == "cli" and denied.target == "confirm_match"


def test_first_confirmation_leaves_the_match_confirming(here: Here) -> None:
    code, _, output = cli("alert", "confirm", here.world.face_alert, user="olga", world=here.world)
    assert code == 0 and "confirming (1 of 2 confirmations)" in output
    assert shown(here, here.world.face_alert)["status"] == "confirming"


def test_one_user_cannot_confirm_twice(here: Here) -> None:
    cli("alert", "confirm", here.world.face_alert, user="olga", world=here.world)
    code, _, output = cli("alert", "confirm", here.world.face_alert, user="olga", world=here.world)
    assert code == 2 and "already decided" in output
    assert shown(here, here.world.face_alert)["status"] == "confirming"


def test_second_user_confirms_the_match(here: Here) -> None:
    cli("alert", "confirm", here.world.face_alert, "--note", "same scar", user="olga", world=here.world)
    code, _, output = cli("alert", "confirm", here.world.face_alert, user="ivan", world=here.world)
    assert code == 0 and "confirmed (2 of 2 confirmations)" in output
    body = shown(here, here.world.face_alert)
    assert body["status"] == "confirmed" and body["handled_by"] == "olga,ivan"
    decisions = body["decisions"]
    assert isinstance(decisions, list)
    assert [(d["user"], d["role"], d["decision"], d["note"]) for d in decisions] == [
        ("olga", "operator", "confirm", "same scar"),
        ("ivan", "investigator", "confirm", ""),
    ]


def test_completing_confirmation_records_who_verified(here: Here) -> None:
    confirm_twice(here)
    first, completing = here.audit(AuditAction.CONFIRM_MATCH)
    assert first.details["status"] == "confirming" and first.details["verified_by"] == []
    assert completing.username == "ivan" and completing.target == here.world.face_alert
    assert completing.details["status"] == "confirmed"
    assert completing.details["verified_by"] == ["olga", "ivan"]
    assert completing.details["watchlist_version"] == here.world.watchlist_version


def test_rejection_ends_the_match(here: Here) -> None:
    code, _, output = cli(
        "alert", "reject", here.world.face_alert, "--note", "different person", user="iris", world=here.world
    )
    assert code == 0 and "rejected" in output
    assert shown(here, here.world.face_alert)["status"] == "rejected"
    (entry,) = here.audit(AuditAction.REJECT_MATCH)
    assert entry.username == "iris" and entry.justification == "different person"


def test_rejected_match_cannot_be_confirmed(here: Here) -> None:
    cli("alert", "reject", here.world.face_alert, user="iris", world=here.world)
    code, _, output = cli("alert", "confirm", here.world.face_alert, user="olga", world=here.world)
    assert code == 2 and "rejected already" in output
    assert shown(here, here.world.face_alert)["status"] == "rejected"


@pytest.mark.parametrize("user", ["vera", "audrey", "adam"], ids=["viewer", "auditor", "admin"])
def test_roles_without_confirm_match_may_not_confirm(here: Here, user: str) -> None:
    code, _, output = cli("alert", "confirm", here.world.face_alert, user=user, world=here.world)
    assert code == 3 and "confirm_match" in output
    assert shown(here, here.world.face_alert)["status"] == "new"
    (denied,) = here.audit(AuditAction.ACCESS_DENIED)
    assert denied.username == user


def test_plate_alert_is_not_confirmed(here: Here) -> None:
    code, _, output = cli("alert", "confirm", here.world.plate_alert, user="olga", world=here.world)
    assert code == 2 and "only face matches" in output


def test_confirm_of_an_unknown_alert_fails(here: Here) -> None:
    code, _, output = cli("alert", "confirm", "no-such-alert", user="olga", world=here.world)
    assert code == 2 and "no-such-alert" in output


# ------------------------------------------------------------------ acknowledge


def test_operator_acknowledges_a_plate_alert(here: Here) -> None:
    code, _, output = cli("alert", "ack", here.world.plate_alert, user="olga", world=here.world)
    assert code == 0 and "acknowledged" in output
    body = shown(here, here.world.plate_alert)
    assert body["status"] == "acknowledged" and body["handled_by"] == "olga"
    (entry,) = here.audit(AuditAction.ACKNOWLEDGE_ALERT)
    assert entry.username == "olga" and entry.target == here.world.plate_alert


def test_face_match_is_not_acknowledged(here: Here) -> None:
    code, _, output = cli("alert", "ack", here.world.face_alert, user="olga", world=here.world)
    assert code == 2 and "confirm or reject" in output
    assert shown(here, here.world.face_alert)["status"] == "new"


def test_acknowledged_alert_is_not_acknowledged_again(here: Here) -> None:
    cli("alert", "ack", here.world.plate_alert, user="olga", world=here.world)
    code, _, output = cli("alert", "ack", here.world.plate_alert, user="ivan", world=here.world)
    assert code == 2 and "acknowledged already" in output


@pytest.mark.parametrize("user", [None, "vera", "audrey"], ids=["console", "viewer", "auditor"])
def test_who_may_not_confirm_may_not_acknowledge(here: Here, user: str | None) -> None:
    code, _, _ = cli("alert", "ack", here.world.plate_alert, user=user, world=here.world)
    assert code == 3
    assert shown(here, here.world.plate_alert)["status"] == "new"


# ------------------------------------------------------------------ export


def test_unconfirmed_face_match_is_not_exported(here: Here, tmp_path: Path) -> None:
    code, output = export(here, tmp_path / "out")
    assert code == 2 and "may not be exported" in output
    assert not (tmp_path / "out").exists(), "a refused export writes nothing"
    assert here.audit(AuditAction.EXPORT) == []


def test_half_confirmed_face_match_is_not_exported(here: Here, tmp_path: Path) -> None:
    cli("alert", "confirm", here.world.face_alert, user="olga", world=here.world)
    code, output = export(here, tmp_path / "out")
    assert code == 2 and "1 of 2 confirmations" in output
    assert not (tmp_path / "out").exists(), "a refused export writes nothing"


@pytest.mark.parametrize(
    ("drop", "message"),
    [("--reason", "reason"), ("--recipients", "recipients")],
)
def test_export_needs_a_reason_and_recipients(here: Here, tmp_path: Path, drop: str, message: str) -> None:
    confirm_twice(here)
    given = {"--reason": REASON, "--recipients": RECIPIENTS}
    del given[drop]
    args = [x for kv in given.items() for x in kv]
    code, _, output = cli(
        "alert",
        "export",
        here.world.face_alert,
        "--to",
        str(tmp_path / "out"),
        *args,
        user="ivan",
        world=here.world,
    )
    assert code == 2 and message in output
    assert not (tmp_path / "out" / f"alert-{here.world.face_alert}").exists()
    assert here.audit(AuditAction.EXPORT) == []


def test_short_reason_is_refused(here: Here, tmp_path: Path) -> None:
    confirm_twice(here)
    args = ["alert", "export", here.world.face_alert, "--to", str(tmp_path / "out")]
    code, _, output = cli(
        *args, "--reason", "case", "--recipients", RECIPIENTS, user="ivan", world=here.world
    )
    assert code == 2 and "at least 10 characters" in output


def test_confirmed_face_match_is_exported_with_its_record(here: Here, tmp_path: Path) -> None:
    confirm_twice(here)
    code, output = export(here, tmp_path / "out")
    assert code == 0, output
    folder = tmp_path / "out" / f"alert-{here.world.face_alert}"
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "evidence.json", "snapshot.jpg"]
    manifest = json.loads((folder / "evidence.json").read_text())
    assert manifest["justification"] == REASON and manifest["recipients"] == RECIPIENTS
    assert manifest["exported_by"] == {"user": "ivan", "role": "investigator"}
    assert [d["user"] for d in manifest["decisions"]] == ["olga", "ivan"]
    assert "photo_ref" not in manifest["evidence"] and manifest["faces"] == "all blurred"
    (entry,) = here.audit(AuditAction.EXPORT)
    assert manifest["audit"] == {"seq": entry.seq, "hash": entry.hash}
    assert entry.recipients == RECIPIENTS and entry.justification == REASON
    assert entry.target == here.world.face_alert and entry.details["verified_by"] == ["olga", "ivan"]
    assert not list((tmp_path / "out").glob(".alert-*"))


def test_exported_snapshot_blurs_the_matched_face(here: Here, tmp_path: Path) -> None:
    confirm_twice(here)
    assert export(here, tmp_path / "out")[0] == 0
    exported = read_jpeg(tmp_path / "out" / f"alert-{here.world.face_alert}" / "snapshot.jpg")
    stored = here.media(here.world.face_snapshot)
    assert exported.shape == stored.shape
    assert mean_diff(exported, stored, here.world.matched) > 8.0


def test_unblurred_export_leaves_the_matched_face_and_adds_the_reference(here: Here, tmp_path: Path) -> None:
    confirm_twice(here)
    code, output = export(here, tmp_path / "out", "--unblurred")
    assert code == 0 and "matched face visible" in output and "0 blurred" in output
    folder = tmp_path / "out" / f"alert-{here.world.face_alert}"
    assert sorted(p.name for p in folder.iterdir()) == [
        "SHA256SUMS",
        "evidence.json",
        "reference.jpg",
        "snapshot.jpg",
    ]
    exported = read_jpeg(folder / "snapshot.jpg")
    assert mean_diff(exported, here.media(here.world.face_snapshot), here.world.matched) < 3.0
    reference = read_jpeg(folder / "reference.jpg")
    assert reference.shape == here.media(here.world.photo_ref).shape
    manifest = json.loads((folder / "evidence.json").read_text())
    assert manifest["evidence"]["photo_ref"] == here.world.photo_ref
    assert here.audit(AuditAction.EXPORT)[0].details["unblurred"] is True


def test_unblurred_export_of_a_plate_alert_is_refused(here: Here, tmp_path: Path) -> None:
    code, output = export(here, tmp_path / "out", "--unblurred", alert=here.world.plate_alert)
    assert code == 2 and "only a confirmed face match" in output
    assert not (tmp_path / "out").exists(), "a refused export writes nothing"


@pytest.mark.parametrize("user", ["ivan", None], ids=["investigator", "console"])
def test_plate_alert_is_exported_without_confirmation(here: Here, tmp_path: Path, user: str | None) -> None:
    code, output = export(here, tmp_path / "out", alert=here.world.plate_alert, user=user)
    assert code == 0, output
    (entry,) = here.audit(AuditAction.EXPORT)
    assert entry.role == (USERS[user][0] if user else "cli")
    folder = tmp_path / "out" / f"alert-{here.world.plate_alert}"
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "evidence.json", "snapshot.jpg"]
    assert json.loads((folder / "evidence.json").read_text())["alert"]["kind"] == "plate_hotlist"


def test_export_does_not_overwrite_an_earlier_export(here: Here, tmp_path: Path) -> None:
    confirm_twice(here)
    assert export(here, tmp_path / "out")[0] == 0
    code, output = export(here, tmp_path / "out")
    assert code == 2 and "exists already" in output
    assert len(here.audit(AuditAction.EXPORT)) == 1


def test_operator_may_not_export(here: Here, tmp_path: Path) -> None:
    confirm_twice(here)
    code, output = export(here, tmp_path / "out", user="olga")
    assert code == 3 and "export" in output
    assert not (tmp_path / "out" / f"alert-{here.world.face_alert}").exists()
    (denied,) = here.audit(AuditAction.ACCESS_DENIED)
    assert denied.username == "olga" and denied.target == "export"


def test_camera_limited_investigator_may_not_export_another_cameras_alert(here: Here, tmp_path: Path) -> None:
    code, output = export(here, tmp_path / "out", user="lena", alert=here.world.plate_alert)
    assert code == 3 and "cam-2" in output
    assert not (tmp_path / "out").exists(), "a refused export writes nothing"


def test_audit_chain_verifies_after_all_of_it(here: Here, tmp_path: Path) -> None:
    w = here.world
    listed(here, user="lena")
    cli("alert", "list", user="vera", world=w)
    cli("alert", "confirm", w.face_alert, world=w)
    confirm_twice(here)
    cli("alert", "confirm", w.face_alert, user="iris", world=w)
    cli("alert", "ack", w.plate_alert, user="olga", world=w)
    export(here, tmp_path / "out", user="olga")
    assert export(here, tmp_path / "out", "--unblurred")[0] == 0
    actions = {e.action for e in here.audit()}
    assert {"view_sighting", "access_denied", "confirm_match", "acknowledge_alert", "export"} <= actions
    code, _, output = cli("audit", "verify")
    assert code == 0 and "chain intact" in output
