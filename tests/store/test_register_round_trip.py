"""A hand-written OSM-style register file through the database and back, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy

from safecity.config import CameraDefaults
from safecity.registry.geojson import cameras_from_geojson, cameras_to_geojson
from safecity.store.cameras import CameraStore
from safecity.store.database import Database


def _feature(ref: str, lon: float, lat: float, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "id": ref,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"man_made": "surveillance", "surveillance": "public", "ref": ref, **props},
    }


# Written by hand the way a city's GIS team would, in the exporter's canonical form.
REGISTER: dict[str, object] = {
    "type": "FeatureCollection",
    "features": [
        _feature(
            "bg-slavija-n",
            20.46642,
            44.80262,
            **{
                "surveillance:type": "ALPR",
                "surveillance:zone": "traffic",
                "camera:type": "fixed",
                "camera:direction": "0",
                "height": "7.5",
                "operator": "Grad Beograd",
                "name": "Slavija north",
                "safecity:site": "slavija",
                "safecity:site_name": "Trg Slavija",
                "safecity:site_address": "Trg Slavija 1, Beograd",
                "safecity:capabilities": "plates;traffic;motion",
                "safecity:stream_url": "rtsp://10.10.0.21/ch1",
                "safecity:retention_days": 30,
                "safecity:legal_basis": "Zakon o bezbednosti saobraćaja na putevima, čl. 8",
                "safecity:enabled": True,
            },
        ),
        _feature(
            "bg-slavija-s",
            20.46642,
            44.80262,
            **{
                "surveillance:type": "camera",
                "surveillance:zone": "town",
                "camera:type": "dome",
                "camera:direction": "180",
                "height": "7.5",
                "operator": "Grad Beograd",
                "name": "Slavija south",
                "safecity:site": "slavija",
                "safecity:site_name": "Trg Slavija",
                "safecity:site_address": "Trg Slavija 1, Beograd",
                "safecity:capabilities": "faces;motion",
                "safecity:retention_days": 7,
                "safecity:legal_basis": "",
                "safecity:enabled": False,
            },
        ),
        _feature(
            "bg-terazije",
            20.46041,
            44.81335,
            **{
                "surveillance:type": "camera",
                "surveillance:zone": "street",
                "camera:type": "panning",
                "operator": "MUP Srbije",
                "name": "Terazije",
                "safecity:site": "site-bg-terazije",
                "safecity:site_name": "Terazije",
                "safecity:capabilities": "motion",
                "safecity:retention_days": 14,
                "safecity:legal_basis": "Zakon o policiji, čl. 43",
                "safecity:enabled": True,
            },
        ),
    ],
}


def test_register_file_survives_the_database_unchanged(db: Database) -> None:
    sites, cameras = cameras_from_geojson(copy.deepcopy(REGISTER), CameraDefaults())
    store = CameraStore(db)
    store.save(sites, cameras)
    assert cameras_to_geojson(store.all(), store.sites()) == REGISTER
