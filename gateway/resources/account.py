"""DELETE /api/users/me/ (contract v2 section 6.3). A module of its own: GET and PATCH of the
same route are built on another branch (feat/profile); at merge this on_delete joins that
resource (Falcon takes one resource per route)."""
import falcon

from gateway.auth import require_user
from gateway.media import json_body


class MeResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_user)
    def on_delete(self, req, resp):
        self.rpc.write("users", "delete_me", req.context.user.id, json_body(req))
        resp.status = falcon.HTTP_204
