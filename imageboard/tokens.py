"""JWT issue and verification (HS256, exp enforced, sub = user id)."""
import time

import jwt
from imageboard.settings import settings_of

ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


def issue_token(config, user_id, username, is_admin):
    now = int(time.time())
    claims = {
        "sub": str(user_id),  # RFC 7519: sub is a string
        "username": username,
        "is_admin": bool(is_admin),
        "iat": now,
        "exp": now + settings_of(config).JWT_LIFETIME_SECONDS,
    }
    return jwt.encode(claims, settings_of(config).JWT_SECRET, algorithm=ALGORITHM)


def verify_token(secret, token):
    """Return the claims of a valid token; InvalidToken otherwise.

    Passing `algorithms=[HS256]` is what rejects `alg: none` and HS/RS switching.
    """
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
        claims["user_id"] = int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
    return claims
