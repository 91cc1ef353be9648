"""Authentication as middleware (who is calling), authorisation as hooks (who may).

Who is calling comes from the token's signature plus the process's AccessState
(imageboard/access): a revoked token is refused, admin rights and bans come from current
state, never from the token's is_admin claim, and no request costs an RPC for it."""
from contracts.errors import Forbidden, TokenRevoked, Unauthorized
from imageboard.access.state import Principal
from imageboard.tokens import InvalidToken, verify_token

# What resources read as req.context.user (id, username, is_admin; ban, jti, exp).
AuthUser = Principal


class AuthMiddleware:
    """Decodes `Authorization: Bearer <jwt>` into req.context.user. A token that is
    present but invalid or revoked is rejected (401) even on public endpoints, as DRF does."""

    def __init__(self, secret, access):
        self.secret = secret
        self.access = access

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
        req.context.user = self.access.check(claims)  # TokenRevoked (401) for a revoked one


def require_user(req, resp, resource, params):
    """falcon.before hook for protected responders."""
    if getattr(req.context, "user", None) is None:
        raise Unauthorized("Authentication credentials were not provided",
                           code="not_authenticated")


def require_admin(req, resp, resource, params):
    """Admin rights from the AccessState's admin set (fail closed when it is stale)."""
    require_user(req, resp, resource, params)
    if not req.context.user.is_admin:
        raise Forbidden("Administrator rights required", code="admin_required")


__all__ = ["AuthMiddleware", "AuthUser", "TokenRevoked", "require_admin", "require_user"]
