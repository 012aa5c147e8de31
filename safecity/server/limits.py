"""Request limits that depend on the settings: how many items a list in a request body may hold.

Text lengths are fixed by the schema and checked by the request bodies themselves
(`store.field_limits`); a list's length is a setting (`api.max_list_items`), so it is checked here,
first thing in a route, and refused as pydantic refuses a body: a 422 naming the field. Without
it, a search naming 100,000 cameras took 30 s and wrote a megabyte into the audit log.
"""

from __future__ import annotations

from collections.abc import Sized

from fastapi.exceptions import RequestValidationError

from safecity.config import Settings


def check_list_length(settings: Settings, items: Sized | None, *loc: str) -> None:
    """Refuse (422, at `loc`, e.g. ``("body", "cameras")``) a list over `api.max_list_items`."""
    most = settings.api.max_list_items
    if items is not None and len(items) > most:
        raise RequestValidationError(
            [
                {
                    "loc": loc,
                    "msg": f"List should have at most {most} items (api.max_list_items), not {len(items)}",
                    "type": "too_long",
                }
            ]
        )
