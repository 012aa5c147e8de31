"""Authorisations for face matching: validation, lookup, and the scope `Authorisation.covers` enforces."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from factories import camera, site

from safecity.store.authorisations import AuthorisationError, AuthorisationStore
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.types import Authorisation, AuthorisationPurpose

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FROM = NOW
UNTIL = NOW + timedelta(days=7)
EXPIRES = NOW + timedelta(days=30)


@pytest.fixture
def store(db: Database) -> AuthorisationStore:
    CameraStore(db).save([site()], [camera("cam-1"), camera("cam-2")])
    return AuthorisationStore(db)


def create(store: AuthorisationStore, **changes: object) -> Authorisation:
    values: dict[str, object] = {
        "authority": "Higher Court Belgrade",
        "reference": "Kpp 12/2026",
        "purpose": AuthorisationPurpose.MISSING_PERSON,
        "camera_ids": ["cam-1", "cam-2"],
        "valid_from": FROM,
        "valid_until": UNTIL,
        "expires_at": EXPIRES,
        "created_by": "duty officer",
        "note": "child missing since 1 March",
        "now": NOW,
    }
    values.update(changes)
    return store.create(**values)  # type: ignore[arg-type]


def test_create_records_every_field(store: AuthorisationStore) -> None:
    auth = create(store)
    assert store.get(auth.id) == auth
    assert (auth.authority, auth.reference, auth.purpose, auth.camera_ids, auth.status, auth.created_at) == (
        "Higher Court Belgrade",
        "Kpp 12/2026",
        AuthorisationPurpose.MISSING_PERSON,
        ("cam-1", "cam-2"),
        "approved",
        NOW,
    )


def test_create_accepts_the_purpose_as_text(store: AuthorisationStore) -> None:
    assert create(store, purpose="imminent_threat").purpose is AuthorisationPurpose.IMMINENT_THREAT


def test_create_drops_repeated_cameras(store: AuthorisationStore) -> None:
    assert create(store, camera_ids=["cam-2", "cam-2", "cam-1"]).camera_ids == ("cam-2", "cam-1")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"authority": "  "}, "needs an authority"),
        ({"reference": ""}, "needs a reference"),
        ({"purpose": "crowd_monitoring"}, "not one the AI Act allows"),
        ({"camera_ids": []}, "at least one camera"),
        ({"camera_ids": ["cam-1", "cam-9"]}, r"unknown camera id\(s\): cam-9"),
        ({"camera_ids": "cam-1"}, "not one string"),
        ({"valid_until": FROM - timedelta(hours=1)}, "window ends"),
        ({"valid_until": FROM}, "window ends"),
        ({"expires_at": FROM - timedelta(seconds=1)}, "before the window starts"),
        ({"valid_from": NOW - timedelta(days=60), "expires_at": NOW - timedelta(days=1)}, "already passed"),
        ({"valid_from": datetime(2026, 3, 2)}, "no UTC offset"),
    ],
)
def test_create_refuses_invalid_authorisations(
    store: AuthorisationStore, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(AuthorisationError, match=message):
        create(store, **changes)
    assert store.list() == []


def test_create_refuses_a_duplicate_authority_and_reference(store: AuthorisationStore) -> None:
    create(store)
    with pytest.raises(AuthorisationError, match="already has an authorisation with reference 'Kpp 12/2026'"):
        create(store)


def test_the_same_reference_may_come_from_another_authority(store: AuthorisationStore) -> None:
    create(store)
    assert create(store, authority="Prosecutor Novi Sad").reference == "Kpp 12/2026"


def test_get_unknown_is_refused(store: AuthorisationStore) -> None:
    with pytest.raises(AuthorisationError, match="no authorisation with id 'nope'"):
        store.get("nope")


def test_list_is_oldest_first(store: AuthorisationStore) -> None:
    first = create(store, reference="A/1")
    second = create(store, reference="A/2", now=NOW + timedelta(seconds=1))
    assert [a.id for a in store.list()] == [first.id, second.id]


def test_find_by_reference(store: AuthorisationStore) -> None:
    auth = create(store)
    assert store.find(" Kpp 12/2026 ") == auth


def test_find_unknown_reference_is_refused(store: AuthorisationStore) -> None:
    with pytest.raises(AuthorisationError, match="no authorisation with reference"):
        store.find("Kpp 99/2026")


def test_find_needs_the_authority_when_the_reference_is_shared(store: AuthorisationStore) -> None:
    create(store)
    other = create(store, authority="Prosecutor Novi Sad")
    with pytest.raises(AuthorisationError, match="several authorities"):
        store.find("Kpp 12/2026")
    assert store.find("Kpp 12/2026", authority="Prosecutor Novi Sad") == other


AUTH = Authorisation(
    id="a1",
    authority="court",
    reference="r",
    purpose=AuthorisationPurpose.SERIOUS_CRIME_SUSPECT,
    camera_ids=("cam-1",),
    valid_from=FROM,
    valid_until=UNTIL,
    expires_at=EXPIRES,
    created_by="x",
    created_at=NOW,
)


@pytest.mark.parametrize(
    ("auth", "camera_id", "ts", "now", "covered"),
    [
        (AUTH, "cam-1", NOW + timedelta(days=1), NOW + timedelta(days=1), True),
        (AUTH, "cam-1", FROM, FROM, True),
        (AUTH, "cam-1", UNTIL, UNTIL, True),
        (AUTH, "cam-2", NOW + timedelta(days=1), NOW + timedelta(days=1), False),
        (AUTH, "cam-1", FROM - timedelta(seconds=1), NOW, False),
        (AUTH, "cam-1", UNTIL + timedelta(seconds=1), UNTIL + timedelta(seconds=1), False),
        (
            replace(AUTH, expires_at=UNTIL - timedelta(days=1)),
            "cam-1",
            UNTIL - timedelta(hours=1),
            NOW,
            False,
        ),
        (AUTH, "cam-1", NOW + timedelta(days=1), EXPIRES, False),
        (replace(AUTH, status="refused"), "cam-1", NOW + timedelta(days=1), NOW + timedelta(days=1), False),
        (replace(AUTH, status="pending"), "cam-1", NOW + timedelta(days=1), NOW + timedelta(days=1), False),
    ],
    ids=[
        "inside",
        "window start",
        "window end",
        "camera outside",
        "before window",
        "after window",
        "sighting after expiry",
        "matched after expiry",
        "refused",
        "pending",
    ],
)
def test_covers(auth: Authorisation, camera_id: str, ts: datetime, now: datetime, covered: bool) -> None:
    assert auth.covers(camera_id, ts, now) is covered
