"""JWT issue and verification (HS256, exp enforced, sub = user id).

Contract v2 §3.3: every token has a unique `jti` and `ver`, the user's token version when
it was issued; the gateway's AccessState (imageboard/access) refuses revoked ones. The
`is_admin` claim stays for v1 clients and is never trusted."""
import time
import uuid

import jwt
from imageboard.settings import settings_of

ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


def issue_token(config, user_id, username, is_admin, version=0):
    now = int(time.time())
    claims = {
        "sub": str(user_id),  # RFC 7519: sub is a string
        "username": username,
        "is_admin": bool(is_admin),
        "jti": uuid.uuid4().hex,
        "ver": int(version),
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
