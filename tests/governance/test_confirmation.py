"""Two-person confirmation: a face match is confirmed only by two different users with the right role."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import camera, site, stored_face_alert, stored_plate_alert

from safecity.governance.access import AccessDenied, AccessGate, Caller
from safecity.governance.audit import AuditAction, AuditLog
from safecity.governance.confirmation import (
    AlertStatus,
    ConfirmationError,
    Decision,
    MatchConfirmations,
    NotConfirmed,
    acknowledge,
    require_confirmed,
)
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore
from safecity.store.models import AlertRow
from safecity.types import BBox

FACE = BBox(160, 137, 216, 216)  # Grace Hopper's face in her portrait


@pytest.fixture
def alert_id(db: Database, tmp_path: Path) -> str:
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2")])
    return stored_face_alert(db, MediaStore(tmp_path / "media"), reference_image("grace_hopper"), FACE)


def person(db: Database, name: str, role: Role = Role.OPERATOR) -> Caller:
    return Caller.of(UserStore(db).add(name, role, "a long enough password"))


def confirmations(db: Database) -> MatchConfirmations:
    return MatchConfirmations(AccessGate(db), required=2)


def status(db: Database, alert_id: str) -> str:
    with db.session() as session:
        row = session.get(AlertRow, alert_id)
        assert row is not None
        return row.status


def test_one_confirmation_leaves_the_match_unconfirmed(db: Database, alert_id: str) -> None:
    state = confirmations(db).decide(person(db, "ana"), alert_id, Decision.CONFIRM)
    assert state.status is AlertStatus.CONFIRMING and not state.confirmed
    assert status(db, alert_id) == "confirming"


def test_two_different_users_confirm_the_match(db: Database, alert_id: str) -> None:
    c = confirmations(db)
    c.decide(person(db, "ana"), alert_id, Decision.CONFIRM)
    state = c.decide(person(db, "ben", Role.INVESTIGATOR), alert_id, Decision.CONFIRM)
    assert state.confirmed and state.confirmed_by == ("ana", "ben")
    assert status(db, alert_id) == "confirmed"


def test_the_same_user_cannot_confirm_twice(db: Database, alert_id: str) -> None:
    c, ana = confirmations(db), person(db, "ana")
    c.decide(ana, alert_id, Decision.CONFIRM)
    with pytest.raises(ConfirmationError, match="already decided"):
        c.decide(ana, alert_id, Decision.CONFIRM)
    assert status(db, alert_id) == "confirming"


def test_a_rejection_ends_the_match(db: Database, alert_id: str) -> None:
    c = confirmations(db)
    c.decide(person(db, "ana"), alert_id, Decision.REJECT, "not the person: different ears")
    with pytest.raises(ConfirmationError, match="rejected"):
        c.decide(person(db, "ben"), alert_id, Decision.CONFIRM)
    assert status(db, alert_id) == "rejected"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR, Role.ADMIN])
def test_roles_without_confirm_match_are_refused(db: Database, alert_id: str, role: Role) -> None:
    with pytest.raises(AccessDenied, match="confirm_match"):
        confirmations(db).decide(person(db, "someone", role), alert_id, Decision.CONFIRM)
    assert status(db, alert_id) == "new"


def test_the_console_cannot_confirm(db: Database, alert_id: str) -> None:
    with pytest.raises(AccessDenied, match="logged-in user"):
        confirmations(db).decide(Caller.console("root"), alert_id, Decision.CONFIRM)


def test_a_user_limited_to_other_cameras_cannot_confirm(db: Database, alert_id: str) -> None:
    user = UserStore(db).add("cara", Role.OPERATOR, "a long enough password", camera_ids=["cam-2"])
    with pytest.raises(AccessDenied, match="cam-1"):
        confirmations(db).decide(Caller.of(user), alert_id, Decision.CONFIRM)


def test_plate_alerts_are_not_confirmed(db: Database, tmp_path: Path) -> None:
    CameraStore(db).save([site()], [camera("cam-1")])
    plate = stored_plate_alert(db, MediaStore(tmp_path / "media"), reference_image("grace_hopper"))
    with pytest.raises(ConfirmationError, match="only face matches"):
        confirmations(db).decide(person(db, "ana"), plate, Decision.CONFIRM)


def test_unknown_alert(db: Database, alert_id: str) -> None:
    with pytest.raises(ConfirmationError, match="no alert"):
        confirmations(db).decide(person(db, "ana"), "nope", Decision.CONFIRM)


def test_the_completing_confirmation_records_the_verifiers_and_the_watchlist_version(
    db: Database, alert_id: str
) -> None:
    c = confirmations(db)
    c.decide(person(db, "ana"), alert_id, Decision.CONFIRM, "same scar, same glasses")
    c.decide(person(db, "ben"), alert_id, Decision.CONFIRM, "agree")
    first, second = AuditLog(db).entries(AuditAction.CONFIRM_MATCH)
    assert first.details["verified_by"] == [] and first.justification == "same scar, same glasses"
    assert second.details["verified_by"] == ["ana", "ben"]
    assert second.details["watchlist_version"] == 3 and second.target == alert_id
    assert AuditLog(db).verify().ok


def test_require_confirmed_refuses_an_unconfirmed_face_match(db: Database, alert_id: str) -> None:
    confirmations(db).decide(person(db, "ana"), alert_id, Decision.CONFIRM)
    with db.session() as session, pytest.raises(NotConfirmed, match="1 of 2"):
        row = session.get(AlertRow, alert_id)
        assert row is not None
        require_confirmed(session, row, 2)


def test_more_confirmations_can_be_required(db: Database, alert_id: str) -> None:
    c = MatchConfirmations(AccessGate(db), required=3)
    c.decide(person(db, "ana"), alert_id, Decision.CONFIRM)
    assert c.decide(person(db, "ben"), alert_id, Decision.CONFIRM).status is AlertStatus.CONFIRMING


def test_fewer_than_two_confirmations_cannot_be_configured(db: Database) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        MatchConfirmations(AccessGate(db), required=1)


def test_an_operator_acknowledges_a_plate_alert(db: Database, tmp_path: Path) -> None:
    CameraStore(db).save([site()], [camera("cam-1")])
    plate = stored_plate_alert(db, MediaStore(tmp_path / "media"), reference_image("grace_hopper"))
    assert acknowledge(AccessGate(db), person(db, "ana"), plate) is AlertStatus.ACKNOWLEDGED
    assert status(db, plate) == "acknowledged"
    (entry,) = AuditLog(db).entries(AuditAction.ACKNOWLEDGE_ALERT)
    assert entry.username == "ana" and entry.target == plate


def test_a_face_match_cannot_be_acknowledged(db: Database, alert_id: str) -> None:
    with pytest.raises(ConfirmationError, match="confirm or reject"):
        acknowledge(AccessGate(db), person(db, "ana"), alert_id)
