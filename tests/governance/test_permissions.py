"""The role -> permission table, cell by cell, and the camera-group limit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from safecity.governance.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Role,
    RoleError,
    parse_role,
    role_can,
    user_can,
)

P = Permission
ALLOWED: dict[Role, set[Permission]] = {
    Role.VIEWER: {P.VIEW_LIVE},
    Role.OPERATOR: {P.VIEW_LIVE, P.VIEW_OBSERVATIONS, P.SEARCH_PLATE, P.CONFIRM_MATCH},
    Role.INVESTIGATOR: {
        P.VIEW_LIVE,
        P.VIEW_OBSERVATIONS,
        P.SEARCH_PLATE,
        P.CONFIRM_MATCH,
        P.SEARCH_FACE,
        P.MANAGE_WATCHLISTS,
        P.EXPORT,
    },
    Role.AUDITOR: {P.VIEW_AUDIT, P.VIEW_OBSERVATIONS},
    Role.ADMIN: {P.MANAGE_USERS, P.MANAGE_CAMERAS, P.MANAGE_AUTHORISATIONS, P.VIEW_AUDIT},
}
MATRIX = [(role, perm, perm in ALLOWED[role]) for role in Role for perm in Permission]


@dataclass(frozen=True)
class Someone:
    role: Role
    disabled: bool = False
    camera_ids: frozenset[str] | None = None


@pytest.mark.parametrize(("role", "permission", "allowed"), MATRIX)
def test_role_table(role: Role, permission: Permission, allowed: bool) -> None:
    assert role_can(role, permission) is allowed


def test_table_lists_every_role() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


@pytest.mark.parametrize("permission", [P.SEARCH_FACE, P.SEARCH_PLATE, P.EXPORT, P.MANAGE_WATCHLISTS])
def test_admin_cannot_search_or_watch(permission: Permission) -> None:
    """Separation of duties: who grants access does not use it."""
    assert not role_can(Role.ADMIN, permission)


@pytest.mark.parametrize(("role", "permission"), [("root", "view_live"), ("viewer", "sudo")])
def test_unknown_names_hold_nothing(role: str, permission: str) -> None:
    assert not role_can(role, permission)


@pytest.mark.parametrize(
    ("cameras", "camera_id", "allowed"),
    [
        (None, "cam-1", True),
        (frozenset({"cam-1"}), "cam-1", True),
        (frozenset({"cam-1"}), "cam-2", False),
        (frozenset(), "cam-1", False),
        (frozenset({"cam-1"}), None, True),
    ],
)
def test_camera_group_limit(cameras: frozenset[str] | None, camera_id: str | None, allowed: bool) -> None:
    assert user_can(Someone(Role.OPERATOR, camera_ids=cameras), P.SEARCH_PLATE, camera_id) is allowed


def test_camera_limit_does_not_add_permissions() -> None:
    assert not user_can(Someone(Role.VIEWER, camera_ids=frozenset({"cam-1"})), P.SEARCH_PLATE, "cam-1")


def test_disabled_user_may_nothing() -> None:
    assert not user_can(Someone(Role.INVESTIGATOR, disabled=True), P.VIEW_LIVE)


def test_parse_role_names_the_valid_roles() -> None:
    with pytest.raises(RoleError, match="viewer, operator, investigator, auditor, admin"):
        parse_role("superuser")
