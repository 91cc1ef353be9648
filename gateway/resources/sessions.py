"""Contract v2 §6.1: logout, logout everywhere, password change. Each is acknowledged by
the users service after its change is in the access log and on its way to every gateway
(imageboard/access)."""
import falcon

from gateway.auth import require_user
from gateway.media import json_body


class LogoutResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_user)
    def on_post(self, req, resp):
        user = req.context.user
        self.rpc.write("users", "logout", user.id, user.jti, user.exp)
        resp.status = falcon.HTTP_204


class LogoutAllResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_user)
    def on_post(self, req, resp):
        self.rpc.write("users", "logout_all", req.context.user.id)
        resp.status = falcon.HTTP_204


class PasswordResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_user)
    def on_post(self, req, resp):
        user = req.context.user
        self.rpc.write("users", "change_password", user.id, user.jti, json_body(req))
        resp.status = falcon.HTTP_204
