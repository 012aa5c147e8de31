"""Camera register persistence on SQLite and PostgreSQL: save, replace, remove, all-or-nothing."""

from __future__ import annotations

import pytest
from factories import camera, motion_track, site

from safecity.config import CountingGeometry, CountingLineConfig, CountingZoneConfig
from safecity.store.cameras import CameraStore, CameraStoreError
from safecity.store.database import Database
from safecity.store.writer import write_batch
from safecity.types import Capability, Site


def test_saved_camera_reads_back_equal(db: Database) -> None:
    cam = camera(capabilities=frozenset(Capability))
    CameraStore(db).save([site()], [cam])
    assert CameraStore(db).get("cam-1") == cam


def test_counting_lines_and_zones_are_stored_with_the_camera(db: Database) -> None:
    geometry = CountingGeometry(
        lines=(CountingLineConfig(name="stop", points=((0, 100), (200, 110))),),
        zones=(CountingZoneConfig(name="box", polygon=((0, 0), (50, 0), (50, 50))),),
        method="loop",
    )
    CameraStore(db).save([site()], [camera(counting=geometry)])
    assert CameraStore(db).get("cam-1").counting == geometry


def test_several_cameras_share_a_site(db: Database) -> None:
    store = CameraStore(db)
    store.save([site()], [camera("cam-1"), camera("cam-2", heading_deg=270.0)])
    assert [s.id for s in store.sites()] == ["site-1"]
    assert [c.id for c in store.all()] == ["cam-1", "cam-2"]


def test_duplicate_camera_id_is_refused_and_nothing_changes(db: Database) -> None:
    store = CameraStore(db)
    store.save([site()], [camera("cam-1")])
    with pytest.raises(CameraStoreError, match="already registered: cam-1"):
        store.save([site("site-2")], [camera("cam-9", "site-2"), camera("cam-1", name="changed")])
    assert [c.id for c in store.all()] == ["cam-1"]
    assert [s.id for s in store.sites()] == ["site-1"]


def test_replace_overwrites_a_camera(db: Database) -> None:
    store = CameraStore(db)
    store.save([site()], [camera("cam-1")])
    store.save([], [camera("cam-1", name="renamed")], replace=True)
    assert store.get("cam-1").name == "renamed"


def test_unknown_site_is_refused(db: Database) -> None:
    with pytest.raises(CameraStoreError, match="unknown site"):
        CameraStore(db).save([], [camera("cam-1", "nowhere")])
    assert CameraStore(db).all() == []


def test_enabled_only_filter(db: Database) -> None:
    store = CameraStore(db)
    store.save([site()], [camera("cam-1"), camera("cam-2", enabled=False)])
    assert [c.id for c in store.all(enabled_only=True)] == ["cam-1"]


def test_remove_refuses_camera_with_observations(db: Database) -> None:
    store = CameraStore(db)
    store.save([site()], [camera("cam-1")])
    write_batch(db, [motion_track()])
    with pytest.raises(CameraStoreError, match="1 stored observation"):
        store.remove("cam-1")
    assert store.get("cam-1").id == "cam-1"


def test_remove_with_purge_deletes_observations_and_empty_site(db: Database) -> None:
    store = CameraStore(db)
    store.save([site()], [camera("cam-1")])
    write_batch(db, [motion_track()])
    store.remove("cam-1", purge=True)
    assert store.all() == [] and store.sites() == []


def test_get_unknown_camera_names_it(db: Database) -> None:
    with pytest.raises(CameraStoreError, match="no camera with id 'ghost'"):
        CameraStore(db).get("ghost")


def test_replace_keeps_observations_attached(db: Database) -> None:
    store = CameraStore(db)
    store.save([site()], [camera("cam-1")])
    write_batch(db, [motion_track()])
    store.save([site()], [camera("cam-1", retention_days=90)], replace=True)
    assert store.get("cam-1").retention_days == 90
    assert store.observation_counts("cam-1")["motion_tracks"] == 1


def test_import_does_not_rewrite_an_existing_site(db: Database) -> None:
    store = CameraStore(db)
    store.save([site()], [camera("cam-1")])
    moved = Site("site-1", "site-1", 44.70, 20.50)
    store.save([moved], [camera("cam-2")])
    assert store.sites() == [site()]


def test_replace_updates_an_existing_site(db: Database) -> None:
    store = CameraStore(db)
    store.save([site()], [camera("cam-1")])
    renamed = Site("site-1", "Slavija pole 3", 44.8027, 20.4665)
    store.save([renamed], [camera("cam-1")], replace=True)
    assert store.sites() == [renamed]
