"""Contract v2 §3.3: a banned user can log in and read, not write. The one rule table.

Writes are POST, PUT, PATCH and DELETE under /api/, except the exempt ones below
(decision 4: security, reading and erasure stay open to a banned user). Runs as
middleware after AuthMiddleware, so the order of §3.2 holds: 401 (the token), then 403
user_banned, then the responders' hooks (admin_required), then 429 and the rest."""
import re

from contracts.errors import UserBanned

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT = [(method, re.compile(rf"^/api/{path}/?$")) for method, path in [
    ("POST", r"users/login"),
    ("POST", r"users/register"),
    ("POST", r"users/logout"),
    ("POST", r"users/logout-all"),
    ("POST", r"stream/ticket"),
    ("PATCH", r"notifications/[^/]+/mark-read"),  # as routed (v1)
    ("POST", r"notifications/[^/]+/mark-read"),
    ("POST", r"notifications/mark-all-read"),
    ("POST", r"users/me/password"),
    ("DELETE", r"users/me"),
]]


def is_write(method, path):
    if method not in WRITE_METHODS or not path.startswith("/api/"):
        return False
    return not any(method == m and pattern.match(path) for m, pattern in EXEMPT)


def banned_message(ban):
    if ban.expires_at is None:
        return f"You are banned permanently: {ban.reason}"
    return f"You are banned until {ban.expires_at}: {ban.reason}"


class WriteGuardMiddleware:
    def process_resource(self, req, resp, resource, params):
        user = getattr(req.context, "user", None)
        if user is None or user.ban is None or not is_write(req.method, req.path):
            return
        raise UserBanned(banned_message(user.ban),
                         details={"reason": user.ban.reason, "expires_at": user.ban.expires_at})
