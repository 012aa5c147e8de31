"""What the public reads without logging in: health, the register as GeoJSON and as a page."""

from __future__ import annotations

from api_world import World
from fastapi.testclient import TestClient


def test_health_needs_no_login(client: TestClient) -> None:
    r = client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["database"] == "ok"


def test_register_geojson_without_login_has_no_stream_urls(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/register.geojson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    features = r.json()["features"]
    assert {f["id"] for f in features} == {"cam-1", "cam-2"}
    assert "rtsp" not in r.text and "secret" not in r.text
    faces = {f["id"]: f["properties"]["safecity:analyses_faces"] for f in features}
    assert faces == {"cam-1": True, "cam-2": False}


def test_register_page_without_login_loads_nothing_from_elsewhere(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/register.html")
    assert r.status_code == 200 and "default-src 'none'" in r.headers["content-security-policy"]
    assert "cam-1" in r.text and "http://" not in r.text and "https://" not in r.text


def test_the_openapi_schema_is_served_and_the_cdn_docs_are_not(client: TestClient) -> None:
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "Open Safe City API"
    assert client.get("/docs").status_code == 404


def test_the_openapi_schema_is_valid_openapi(client: TestClient) -> None:
    from openapi_spec_validator import validate

    schema = client.get("/api/v1/openapi.json").json()
    validate(schema)  # raises naming the first violation of the OpenAPI 3.1 specification
    assert len(schema["paths"]) >= 40
