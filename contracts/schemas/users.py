"""POST /api/users/register/, POST /api/users/login/, GET /api/users/profile/{id}/, and
v2 §6.2: GET/PATCH /api/users/me/, PUT/DELETE /api/users/me/avatar/."""
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from contracts.schemas.types import (STRIPPED, Count, Explain, Id, Request, Response, Timestamp,
                                     Url, omittable)


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
Bio = Annotated[str, Field(max_length=500), STRIPPED]


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


class StreamTicket(Response):
    """Contract v2 section 7: single use, valid `expires_in` seconds, for GET /api/stream/."""

    ticket: str = Field(max_length=128)
    expires_in: int


class Profile(Response):
    """Decision 5: public profile; `email` only for its owner."""

    id: Id
    username: str
    first_name: str
    last_name: str
    bio: str = Field(description='"" by default (v2 §3.1).')
    avatar_url: Url | None = Field(description="The 256x256 avatar, or null.")
    created_at: Timestamp
    posts_count: Count
    comments_count: Count
    email: str = omittable(description="Only when the caller is this user.")


class Ban(Response):
    reason: str
    created_at: Timestamp
    expires_at: Timestamp | None = Field(description="null: permanent.")


class Me(Profile):
    """v2 §3.1: the caller's profile plus email, is_admin and the current ban."""

    email: str
    is_admin: bool
    ban: Ban | None


# What PATCH /api/users/me/ may change; anything else in the body (username...) is ignored.
EDITABLE_FIELDS = ("first_name", "last_name", "bio", "email")


class ProfileUpdate(Request):
    """v2 §6.2: any of the four; none of them (or all null) is 400 missing_fields."""

    first_name: Name | None = None
    last_name: Name | None = None
    bio: Bio | None = None
    email: Email | None = None


class AvatarForm(Request):
    avatar: Annotated[bytes, WithJsonSchema({
        "type": "string", "contentMediaType": "application/octet-stream",
        "description": "JPEG or PNG, at most 5 MB; decoded, stripped of metadata, centre-"
                       "cropped square and scaled to 256x256 (never enlarged)."})]
class PasswordChangeRequest(Request):
    """POST /api/users/me/password/ (contract v2 §6.1): every other token is revoked."""

    current_password: Annotated[str, Field(max_length=128)]
    new_password: Password
