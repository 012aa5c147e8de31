"""Response and request bodies shared by several routes: pages of results, the caller, a problem.

Route modules define the bodies only they use; what crosses modules lives here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class _WithExtra:
    """A domain record seen through attribute access, with a few values it does not hold itself."""

    __slots__ = ("_extra", "_record")

    def __init__(self, record: object, extra: dict[str, object]) -> None:
        self._record = record
        self._extra = extra

    def __getattr__(self, name: str) -> object:
        if name in self._extra:
            return self._extra[name]
        return getattr(self._record, name)


class DomainOut(BaseModel):
    """A response body read from a domain record's attributes (renamed ones by `validation_alias`),
    so a field added to the record and the body cannot be forgotten in a hand-written copy.

    `of(record, **extra)` gives the values the record does not hold (a count, a state at a time, what
    depends on the caller); every value is validated either way."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, record: object, **extra: object) -> Self:
        return cls.model_validate(_WithExtra(record, extra) if extra else record)


class Page(BaseModel, Generic[T]):
    """One page of a listing: `items`, and the `offset` of the next page (None: this is the last)."""

    items: list[T]
    limit: int
    offset: int
    next_offset: int | None = Field(None, description="Offset of the next page; null on the last page.")


class Problem(BaseModel):
    """An error body (RFC 9457, application/problem+json)."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str


class Me(BaseModel):
    username: str
    role: str
    cameras: list[str] | None = Field(None, description="Cameras the user may see; null: every camera.")
    permissions: list[str]


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class LoginResponse(BaseModel):
    token: str = Field(description="The session token; also set as an HttpOnly cookie.")
    expires_at: datetime
    user: Me


def page_of(items: list[T], limit: int, offset: int) -> Page[T]:
    """A page from `limit + 1` fetched items: the extra one only tells that a next page exists."""
    more = len(items) > limit
    return Page[T](
        items=items[:limit], limit=limit, offset=offset, next_offset=offset + limit if more else None
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": Problem, "description": text}
    for code, text in (
        (400, "Malformed request"),
        (401, "Not logged in, or the token was refused"),
        (403, "The role or camera limits do not allow it (recorded)"),
        (404, "No such item"),
        (422, "Invalid request, or a reason/recipients missing"),
    )
}
