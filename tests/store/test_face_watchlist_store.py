"""Face watchlists in the store: enrolment, templates, versions, real deletion, match alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from factories import camera, site

from safecity.store.authorisations import AuthorisationStore
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.face_watchlists import (
    FaceWatchlistError,
    FaceWatchlistStore,
    PhotoToEnrol,
    StoredFaceAlert,
    face_match_alert,
)
from safecity.store.media import MediaStore
from safecity.store.models import WatchlistRow
from safecity.types import AlertKind, Authorisation, AuthorisationPurpose, BBox, FaceSighting, new_id

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


@pytest.fixture
def store(db: Database, media: MediaStore) -> FaceWatchlistStore:
    CameraStore(db).save([site()], [camera("cam-1")])
    return FaceWatchlistStore(db, media)


def authorise(
    db: Database, reference: str = "Kpp 12/2026", expires_in: timedelta = timedelta(days=30)
) -> Authorisation:
    return AuthorisationStore(db).create(
        authority="Higher Court Belgrade",
        reference=reference,
        purpose=AuthorisationPurpose.MISSING_PERSON,
        camera_ids=["cam-1"],
        valid_from=NOW,
        valid_until=NOW + timedelta(days=7),
        expires_at=NOW + expires_in,
        created_by="duty officer",
        now=NOW,
    )


def photo(seed: int, quality: float = 0.8) -> PhotoToEnrol:
    rng = np.random.default_rng(seed)
    return PhotoToEnrol(
        image=rng.integers(0, 255, (60, 50, 3), dtype=np.uint8),
        bbox=BBox(5, 5, 40, 50),
        embedding=rng.normal(0, 0.1, 128).astype(np.float32),
        quality=quality,
    )


def new_list(store: FaceWatchlistStore, name: str = "missing persons") -> str:
    return store.create(name, authorise(store.db).id, description="", created_by="duty officer", now=NOW).id


def test_create_starts_at_version_one(store: FaceWatchlistStore) -> None:
    wl = store.get(new_list(store))
    assert (wl.name, wl.version, wl.created_by) == ("missing persons", 1, "duty officer")


def test_get_finds_a_list_by_name(store: FaceWatchlistStore) -> None:
    wl_id = new_list(store)
    assert store.get("missing persons").id == wl_id


@pytest.mark.parametrize(
    ("name", "authorisation", "message"),
    [
        ("", "ok", "needs a name"),
        ("list", "nope", "no authorisation with id 'nope'"),
        ("missing persons", "ok", "already exists"),
        ("list", "expired", "expired at"),
    ],
)
def test_create_refuses_bad_lists(
    store: FaceWatchlistStore, name: str, authorisation: str, message: str
) -> None:
    new_list(store)
    ids = {"ok": authorise(store.db, "other").id, "nope": "nope"}
    if authorisation == "expired":
        ids["expired"] = authorise(store.db, "short", expires_in=timedelta(hours=1)).id
    with pytest.raises(FaceWatchlistError, match=message):
        store.create(name, ids[authorisation], now=NOW + timedelta(hours=2))


def test_enrol_sets_the_template_to_the_mean_and_bumps_the_version(store: FaceWatchlistStore) -> None:
    wl_id = new_list(store)
    photos = [photo(1), photo(2)]
    person = store.enrol(wl_id, "Ana", photos, note="missing since 1 March", now=NOW)
    [template] = store.templates_in_force(NOW)
    expected = np.mean([p.embedding for p in photos], axis=0)
    assert np.allclose(template.vector, expected, atol=1e-6)
    assert (template.entry_id, len(person.photos), store.get(wl_id).version) == (person.id, 2, 2)


def test_enrol_twice_extends_the_person(store: FaceWatchlistStore) -> None:
    wl_id = new_list(store)
    first = store.enrol(wl_id, "Ana", [photo(1)], now=NOW)
    again = store.enrol(wl_id, "Ana", [photo(2), photo(3)], now=NOW)
    [template] = store.templates_in_force(NOW)
    expected = np.mean([photo(i).embedding for i in (1, 2, 3)], axis=0)
    assert (again.id, len(again.photos), store.get(wl_id).version) == (first.id, 3, 3)
    assert np.allclose(template.vector, expected, atol=1e-6)


def test_enrol_stores_the_photos_under_the_watchlist(store: FaceWatchlistStore, media: MediaStore) -> None:
    wl_id = new_list(store)
    person = store.enrol(wl_id, "Ana", [photo(1)], now=NOW)
    [stored] = person.photos
    assert stored.media_ref.startswith(f"watchlists/{wl_id}/") and media.path(stored.media_ref).is_file()


def test_enrol_refuses_a_bad_embedding_and_keeps_nothing(
    store: FaceWatchlistStore, media: MediaStore
) -> None:
    wl_id = new_list(store)
    bad = PhotoToEnrol(
        image=photo(2).image, bbox=BBox(0, 0, 10, 10), embedding=np.zeros(64, np.float32), quality=1
    )
    with pytest.raises(FaceWatchlistError, match="photo 2: a face embedding has 128 values"):
        store.enrol(wl_id, "Ana", [photo(1), bad], now=NOW)
    assert store.persons(wl_id) == [] and not any(media.root.rglob("*.jpg"))


@pytest.mark.parametrize(
    ("label", "photos", "message"),
    [("", [photo(1)], "needs a label"), ("Ana", [], "at least one photo")],
)
def test_enrol_refuses_bad_requests(
    store: FaceWatchlistStore, label: str, photos: list[PhotoToEnrol], message: str
) -> None:
    with pytest.raises(FaceWatchlistError, match=message):
        store.enrol(new_list(store), label, photos)


def test_enrol_on_an_unknown_list_is_refused(store: FaceWatchlistStore) -> None:
    with pytest.raises(FaceWatchlistError, match="no face watchlist"):
        store.enrol("nope", "Ana", [photo(1)])


def test_persons_lists_each_person_with_photos(store: FaceWatchlistStore) -> None:
    wl_id = new_list(store)
    ana = store.enrol(wl_id, "Ana", [photo(1)], now=NOW)
    ben = store.enrol(wl_id, "Ben", [photo(2), photo(3)], now=NOW + timedelta(seconds=1))
    assert store.persons(wl_id) == [ana, ben]


def test_templates_carry_the_best_photo_and_the_authorisation(store: FaceWatchlistStore) -> None:
    wl_id = new_list(store)
    person = store.enrol(wl_id, "Ana", [photo(1, quality=0.4), photo(2, quality=0.9)], now=NOW)
    [template] = store.templates_in_force(NOW)
    assert template.photo_ref == max(person.photos, key=lambda p: p.quality).media_ref
    assert (template.watchlist_name, template.watchlist_version, template.authorisation.reference) == (
        "missing persons",
        2,
        "Kpp 12/2026",
    )


def test_templates_in_force_leave_out_expired_authorisations(store: FaceWatchlistStore) -> None:
    lasting = store.create("lasting", authorise(store.db, "long").id, now=NOW).id
    short = store.create("short", authorise(store.db, "short", timedelta(hours=1)).id, now=NOW).id
    store.enrol(lasting, "Ana", [photo(1)], now=NOW)
    store.enrol(short, "Ben", [photo(2)], now=NOW)
    assert [t.label for t in store.templates_in_force(NOW)] == ["Ana", "Ben"]
    assert [t.label for t in store.templates_in_force(NOW + timedelta(hours=1))] == ["Ana"]


def sighting() -> FaceSighting:
    return FaceSighting(
        id=new_id(),
        camera_id="cam-1",
        timestamp=NOW + timedelta(hours=1),
        bbox=BBox(1, 2, 40, 40),
        confidence=0.9,
        quality=0.7,
        snapshot="cam-1/2026/03/02/x.jpg",
    )


def test_face_alerts_keep_their_evidence(store: FaceWatchlistStore) -> None:
    wl_id = new_list(store)
    store.enrol(wl_id, "Ana", [photo(1)], now=NOW)
    [template] = store.templates_in_force(NOW)
    probe = sighting()
    stored = face_match_alert(probe, template, distance=0.41, threshold=0.5)
    store.save_face_alerts([stored])
    assert store.face_alerts(wl_id) == [stored]
    ev = stored.evidence
    assert (ev.label, ev.probe_ref, ev.photo_ref, ev.watchlist_version, ev.authorisation_reference) == (
        "Ana",
        probe.snapshot,
        template.photo_ref,
        2,
        "Kpp 12/2026",
    )


def test_remove_person_deletes_photos_and_their_alerts(store: FaceWatchlistStore, media: MediaStore) -> None:
    wl_id = new_list(store)
    ana = store.enrol(wl_id, "Ana", [photo(1), photo(2)], now=NOW)
    store.enrol(wl_id, "Ben", [photo(3)], now=NOW)
    templates = {t.label: t for t in store.templates_in_force(NOW)}
    store.save_face_alerts(
        [face_match_alert(sighting(), templates[label], 0.4, 0.5) for label in ("Ana", "Ben")]
    )
    removal = store.remove_person(ana.id)
    assert (removal.persons, removal.photos, removal.media_files, removal.alerts) == (1, 2, 2, 1)
    assert [p.label for p in store.persons(wl_id)] == ["Ben"]
    assert [a.evidence.label for a in store.face_alerts(wl_id)] == ["Ben"]
    assert not any(media.path(p.media_ref).exists() for p in ana.photos)
    assert store.get(wl_id).version == 4


def test_remove_deletes_everything_of_the_list(store: FaceWatchlistStore, media: MediaStore) -> None:
    wl_id = new_list(store)
    ana = store.enrol(wl_id, "Ana", [photo(1), photo(2)], now=NOW)
    [template] = store.templates_in_force(NOW)
    store.save_face_alerts([face_match_alert(sighting(), template, 0.4, 0.5)])
    removal = store.remove(wl_id)
    assert (removal.persons, removal.photos, removal.media_files, removal.alerts) == (1, 2, 2, 1)
    assert not any(media.path(p.media_ref).exists() for p in ana.photos)
    assert not media.path(f"watchlists/{wl_id}").exists()
    assert (store.list_watchlists(), store.face_alerts(), store.templates_in_force(NOW)) == ([], [], [])


@pytest.mark.parametrize(
    ("change", "message"),
    [({"watchlist_id": None}, "names no watchlist"), ({"kind": AlertKind.PLATE_HOTLIST}, "not a face match")],
)
def test_save_face_alerts_refuses_alerts_that_are_not_face_matches(
    store: FaceWatchlistStore, change: dict[str, object], message: str
) -> None:
    wl_id = new_list(store)
    store.enrol(wl_id, "Ana", [photo(1)], now=NOW)
    [template] = store.templates_in_force(NOW)
    good = face_match_alert(sighting(), template, 0.4, 0.5)
    bad = face_match_alert(sighting(), template, 0.4, 0.5)
    bad = StoredFaceAlert(alert=replace(bad.alert, **change), evidence=bad.evidence)  # type: ignore[arg-type]
    with pytest.raises(FaceWatchlistError, match=message):
        store.save_face_alerts([good, bad])
    assert store.face_alerts() == []


def test_list_watchlists_shows_face_lists_only(store: FaceWatchlistStore) -> None:
    wl_id = new_list(store)
    with store.db.session() as s:
        s.add(
            WatchlistRow(id="plates", name="plates", kind="plate", description="", version=1, created_by="")
        )
    assert [w.id for w in store.list_watchlists()] == [wl_id]


@pytest.mark.parametrize(("retain", "kept"), [(False, False), (True, True)], ids=["match", "policy"])
def test_removing_a_list_forgets_vectors_kept_only_for_its_matches(
    store: FaceWatchlistStore, retain: bool, kept: bool
) -> None:
    from safecity.store.observations import ObservationQueries
    from safecity.store.writer import write_batch

    CameraStore(store.db).save([], [camera("cam-1", retain_face_vectors=retain)], replace=True)
    wl_id = new_list(store)
    store.enrol(wl_id, "Ana", [photo(1)], now=NOW)
    [template] = store.templates_in_force(NOW)
    matched = replace(sighting(), embedding=tuple(template.vector))
    write_batch(store.db, [matched])
    store.save_face_alerts([face_match_alert(matched, template, 0.1, 0.4)])
    removal = store.remove(wl_id)
    (stored,) = ObservationQueries(store.db).face_sightings("cam-1")
    assert (stored.embedding is not None) is kept
    assert removal.vectors == (0 if kept else 1)
