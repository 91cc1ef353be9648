"""POST /api/users/register/, POST /api/users/login/, GET /api/users/profile/{id}/."""
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from contracts.schemas.types import (STRIPPED, Count, Explain, Id, Request, Response, Timestamp,
                                     omittable)


def _email(value):
    try:
        # No DNS lookups: a registration must not depend on the network.
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PydanticCustomError("email", "is not a valid email address ({reason})",
                                  {"reason": str(exc)})


Username = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_]+$"),
                     Explain(string_pattern_mismatch="may contain only letters, digits and underscores")]
Password = Annotated[str, Field(min_length=8, max_length=128)]
Email = Annotated[str, Field(min_length=3, max_length=254, json_schema_extra={"format": "email"}),
                  STRIPPED, AfterValidator(_email)]
Name = Annotated[str, Field(max_length=150), STRIPPED]


class RegisterRequest(Request):
    username: Username
    email: Email
    password: Password
    first_name: Name | None = ""
    last_name: Name | None = ""


class Registered(Response):
    id: Id
    username: str
    email: str
    token: str = Field(description="JWT (HS256) for the Authorization header.")
    created_at: Timestamp


class LoginRequest(Request):
    username: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(max_length=128)]


class DeleteAccountRequest(Request):
    """DELETE /api/users/me/ (contract v2 section 6.3): the password, checked again."""

    password: Annotated[str, Field(max_length=128)]


class LoggedIn(Response):
    token: str
    user_id: Id
    username: str


class Profile(Response):
    """Decision 5: public profile; `email` only for its owner."""

    id: Id
    username: str
    first_name: str
    last_name: str
    created_at: Timestamp
    posts_count: Count
    comments_count: Count
    email: str = omittable(description="Only when the caller is this user.")
