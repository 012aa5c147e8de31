"""The attack tests' fixtures: the API world of tests/server/api/conftest.py, loaded from that file.

Loaded (not copied), so the attacks run against exactly the world the API tests use: two cameras,
a plate-hotlist and a face-match alert, one user and token per role, a second operator and an
investigator limited to cam-1 (see tests/server/api/conftest.py).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_API_TESTS = Path(__file__).resolve().parents[1] / "server" / "api"
sys.path.insert(0, str(_API_TESTS))  # api_world, which the API fixtures import
_spec = importlib.util.spec_from_file_location("api_fixtures_for_security", _API_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_api)

fast_hashing = _api.fast_hashing
template = _api.template
api_settings = _api.api_settings
api_db = _api.api_db
tokens = _api.tokens
world = _api.world
client = _api.client
