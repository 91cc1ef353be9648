import re

from email_validator import EmailNotValidError, validate_email

from imageboard.timefmt import iso
from imageboard.validation import Schema, String

USERNAME_RE = re.compile(r"[A-Za-z0-9_]{3,32}")


class Email(String):
    def __init__(self, **kwargs):
        super().__init__(min_length=3, max_length=254, strip=True, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            # No DNS lookups: a registration must not depend on the network.
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"is not a valid email address ({exc})")


class RegisterSchema(Schema):
    fields = {
        "username": String(
            min_length=3, max_length=32, pattern=USERNAME_RE,
            pattern_message="may contain only letters, digits and underscores",
        ),
        "email": Email(),
        "password": String(min_length=8, max_length=128),
        "first_name": String(max_length=150, required=False, default="", strip=True),
        "last_name": String(max_length=150, required=False, default="", strip=True),
    }


class LoginSchema(Schema):
    fields = {
        "username": String(max_length=254),
        "password": String(max_length=128),
    }


def user_public(user):
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "created_at": iso(user.created_at),
    }
