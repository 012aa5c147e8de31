"""Schemathesis against the served OpenAPI schema: generated requests to every operation, 0 server errors.

The application runs in-process over a database with the test world in it (cameras, a plate and a
face alert, one user per role). Each operation is called with the token of a role that may use it,
so requests get past the door and exercise the handlers; hypothesis generates the bodies, queries
and path parameters. The only check is the one the security issue asks for: no 5xx answer.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import schemathesis
from api_world import FACE
from factories import camera, site, stored_face_alert, stored_plate_alert
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from safecity.config import Settings
from safecity.governance.permissions import Role
from safecity.governance.users import UserStore
from safecity.server.app import create_app
from safecity.sim.faces import reference_image
from safecity.store.cameras import CameraStore
from safecity.store.database import Database
from safecity.store.media import MediaStore

_DIR = Path(tempfile.mkdtemp(prefix="safecity-schemathesis-"))
_SETTINGS = Settings(data_dir=_DIR / "var")
_DB = Database.open(_SETTINGS.effective_database_url, _SETTINGS.store)
CameraStore(_DB).save([site()], [camera("cam-1"), camera("cam-2")])
_MEDIA = MediaStore(_SETTINGS.effective_media_dir)
stored_face_alert(_DB, _MEDIA, reference_image("grace_hopper"), FACE, "cam-1")
stored_plate_alert(_DB, _MEDIA, reference_image("grace_hopper"), "cam-2")
_USERS = UserStore(_DB)
TOKENS: dict[str, str] = {}
for _role in (Role.INVESTIGATOR, Role.ADMIN, Role.AUDITOR):
    _USERS.add(f"{_role.value}-user", _role, "a long enough password")
    TOKENS[_role.value] = _USERS.issue_token(f"{_role.value}-user", timedelta(days=1)).secret

schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(_SETTINGS, _DB))

ADMIN_TAGS = {"users", "authorisations", "cameras"}
AUDITOR_TAGS = {"audit"}


def token_for(case: schemathesis.Case) -> str:
    tags = set(case.operation.definition.raw.get("tags", []))
    if case.method.upper() != "GET" and tags & ADMIN_TAGS:
        return TOKENS["admin"]
    if tags & {"users"}:
        return TOKENS["admin"]
    if tags & AUDITOR_TAGS:
        return TOKENS["auditor"]
    return TOKENS["investigator"]


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_with_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token_for(case)}"}, checks=[not_a_server_error]
    )
