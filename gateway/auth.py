"""Authentication as middleware (who is calling), authorisation as hooks (who may)."""
from dataclasses import dataclass

from contracts.errors import Forbidden, Unauthorized
from imageboard.tokens import InvalidToken, verify_token


@dataclass(frozen=True)
class AuthUser:
    id: int
    username: str
    is_admin: bool


class AuthMiddleware:
    """Decodes `Authorization: Bearer <jwt>` into req.context.user. A token that is
    present but invalid is rejected (401) even on public endpoints, as DRF does."""

    def __init__(self, secret):
        self.secret = secret

    def process_resource(self, req, resp, resource, params):
        req.context.user = None
        header = req.get_header("Authorization")
        if not header:
            return
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization header must be 'Bearer <token>'",
                               code="invalid_authorization_header")
        try:
            claims = verify_token(self.secret, token.strip())
        except InvalidToken:
            raise Unauthorized("Token is invalid or expired", code="invalid_token")
        req.context.user = AuthUser(
            id=claims["user_id"],
            username=str(claims.get("username", "")),
            is_admin=claims.get("is_admin") is True,
        )


def require_user(req, resp, resource, params):
    """falcon.before hook for protected responders."""
    if getattr(req.context, "user", None) is None:
        raise Unauthorized("Authentication credentials were not provided",
                           code="not_authenticated")


def require_admin(req, resp, resource, params):
    require_user(req, resp, resource, params)
    if not req.context.user.is_admin:
        raise Forbidden("Administrator rights required", code="admin_required")
