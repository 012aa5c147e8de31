"""Roles, permissions and the table between them: who may do what, on which cameras.

This module owns the role -> permission table and the two questions asked of it (`role_can`,
`user_can`); storing users and checking their credentials is `safecity.governance.users`.

| permission            | viewer | operator | investigator | auditor | admin |
|-----------------------|:------:|:--------:|:------------:|:-------:|:-----:|
| view_live             |   x    |    x     |      x       |         |       |
| view_observations     |        |    x     |      x       |    x    |       |
| search_plate          |        |    x     |      x       |         |       |
| confirm_match         |        |    x     |      x       |         |       |
| search_face           |        |          |      x       |         |       |
| manage_watchlists     |        |          |      x       |         |       |
| export                |        |          |      x       |         |       |
| view_audit            |        |          |              |    x    |   x   |
| manage_users          |        |          |              |         |   x   |
| manage_cameras        |        |          |              |         |   x   |
| manage_authorisations |        |          |              |         |   x   |

Separation of duties: the admin manages users, cameras and authorisations but cannot search,
watch or export; otherwise one account could grant itself a face watchlist and use it unseen.
The auditor reads the audit log and the observations it refers to, but runs no searches of its
own. Each role above viewer is a superset of the one before it only along the operational line
(viewer < operator < investigator); auditor and admin stand apart.

Camera groups: a user may be limited to a set of camera ids (`camera_ids`; None means every
camera). `user_can(user, p, camera_id)` answers for one camera; without a camera id it answers
whether the role allows `p` at all, and a caller that reads across cameras must then limit what
it returns to `user.camera_ids`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Protocol


class Role(enum.StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    INVESTIGATOR = "investigator"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(enum.StrEnum):
    VIEW_LIVE = "view_live"
    VIEW_OBSERVATIONS = "view_observations"
    SEARCH_PLATE = "search_plate"
    SEARCH_FACE = "search_face"
    MANAGE_WATCHLISTS = "manage_watchlists"
    CONFIRM_MATCH = "confirm_match"
    EXPORT = "export"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    MANAGE_CAMERAS = "manage_cameras"
    MANAGE_AUTHORISATIONS = "manage_authorisations"


WHAT_IT_ALLOWS: Mapping[Permission, str] = {
    Permission.VIEW_LIVE: "watch live video and the live alerts",
    Permission.VIEW_OBSERVATIONS: "see plate reads, face sightings, alerts and recordings",
    Permission.SEARCH_PLATE: "search licence plates",
    Permission.SEARCH_FACE: "search faces by photo",
    Permission.MANAGE_WATCHLISTS: "manage watchlists and hotlists",
    Permission.CONFIRM_MATCH: "confirm, reject or acknowledge alerts",
    Permission.EXPORT: "export evidence",
    Permission.VIEW_AUDIT: "read the audit log",
    Permission.MANAGE_USERS: "manage users",
    Permission.MANAGE_CAMERAS: "manage cameras",
    Permission.MANAGE_AUTHORISATIONS: "record and decide authorisations",
}
"""Each permission in words a user reads on a refusal."""

P = Permission
_VIEWER = frozenset({P.VIEW_LIVE})
_OPERATOR = _VIEWER | {P.VIEW_OBSERVATIONS, P.SEARCH_PLATE, P.CONFIRM_MATCH}
_INVESTIGATOR = _OPERATOR | {P.SEARCH_FACE, P.MANAGE_WATCHLISTS, P.EXPORT}

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.OPERATOR: _OPERATOR,
    Role.INVESTIGATOR: _INVESTIGATOR,
    Role.AUDITOR: frozenset({P.VIEW_AUDIT, P.VIEW_OBSERVATIONS}),
    Role.ADMIN: frozenset({P.MANAGE_USERS, P.MANAGE_CAMERAS, P.MANAGE_AUTHORISATIONS, P.VIEW_AUDIT}),
}
"""The whole table: anything not listed is refused."""


class RoleError(ValueError):
    """A role name that is not one of `Role`; the message lists the valid ones."""


def parse_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise RoleError(f"unknown role {role!r}; use one of: {allowed}") from None


class Principal(Protocol):
    """What a permission check needs to know about a user."""

    @property
    def role(self) -> Role: ...

    @property
    def disabled(self) -> bool: ...

    @property
    def camera_ids(self) -> frozenset[str] | None: ...


def role_can(role: Role | str, permission: Permission | str) -> bool:
    """Whether `role` holds `permission`; unknown roles and permissions hold nothing."""
    try:
        return Permission(permission) in ROLE_PERMISSIONS.get(Role(role), frozenset())
    except ValueError:
        return False


def may_see_camera(user: Principal, camera_id: str) -> bool:
    return user.camera_ids is None or camera_id in user.camera_ids


def user_can(user: Principal, permission: Permission | str, camera_id: str | None = None) -> bool:
    """Whether `user` may use `permission` (on `camera_id` when given); a disabled user may nothing."""
    if user.disabled or not role_can(user.role, permission):
        return False
    return camera_id is None or may_see_camera(user, camera_id)
