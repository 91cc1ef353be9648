"""Bodies shared by every part of the API: the error envelope, author references, the
health answers."""
from typing import Any, Literal

from pydantic import Field

from contracts.schemas.types import Id, Response, omittable


class ErrorBody(Response):
    code: str = Field(description="Stable machine-readable code.")
    message: str
    fields: dict[str, str] = omittable(description="Per-field problems (validation errors only).")
    details: dict[str, Any] = omittable(
        description="v2 decision 3: for codes that document it (user_banned: reason, expires_at).")


class Error(Response):
    """Decision 1: the one error body of every 4xx/5xx."""

    error: ErrorBody


class AuthorRef(Response):
    id: Id
    username: str
    avatar_url: str | None = Field(description="The author's avatar (contract v2 section 3.1); "
                                               "null without one.")


class Health(Response):
    status: Literal["ok"]


class Ready(Response):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str] = Field(description="Per service: `ok` or the error code of its ping.")
