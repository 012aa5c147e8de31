"""Camera registry: sites and cameras, their validation, and GeoJSON import/export with OSM surveillance tags.

The public transparency register is generated from this same registry."""

from safecity.registry.errors import RegistryError
from safecity.registry.geojson import cameras_from_geojson, cameras_to_geojson, load_geojson_file
from safecity.registry.validation import parse_capabilities, validate_camera, validate_site

__all__ = [
    "RegistryError",
    "cameras_from_geojson",
    "cameras_to_geojson",
    "load_geojson_file",
    "parse_capabilities",
    "validate_camera",
    "validate_site",
]
