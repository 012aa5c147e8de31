"""The one error type of the camera registry: `RegistryError`, naming the feature and the field at fault.

Validation, GeoJSON import/export and file loading all raise it, so a caller (CLI, API) catches one
type and can show an administrator exactly which camera and which value to fix.
"""

from __future__ import annotations


class RegistryError(ValueError):
    """A camera, site or register file that cannot be accepted.

    `feature` names the record, e.g. ``"feature #12 (id=cam-0012)"`` for a GeoJSON feature or
    ``"camera 'cam-0012'"`` for a `Camera` checked directly; `field` names the offending field
    (a GeoJSON property key such as ``"camera:direction"`` on import, a dataclass field name such
    as ``"heading_deg"`` on direct validation). Either is None when the error is not about one
    record or one field (an unreadable file, a document that is not a FeatureCollection).
    `reason` is the message without the location prefix, for callers that re-label an error.
    """

    def __init__(self, reason: str, *, feature: str | None = None, field: str | None = None) -> None:
        self.reason = reason
        self.feature = feature
        self.field = field
        super().__init__(self._compose())

    def _compose(self) -> str:
        location: list[str] = []
        if self.feature is not None:
            location.append(self.feature)
        if self.field is not None:
            location.append(f"field {self.field!r}")
        return f"{', '.join(location)}: {self.reason}" if location else self.reason

    def __reduce__(self) -> tuple[object, ...]:
        # The keyword-only constructor would otherwise break pickling (worker processes, Ray).
        return (_rebuild, (self.reason, self.feature, self.field))


def _rebuild(reason: str, feature: str | None, field: str | None) -> RegistryError:
    return RegistryError(reason, feature=feature, field=field)
