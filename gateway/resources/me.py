"""The caller's own account (contract v2 §6.2, §6.3, decision 19): GET/PATCH/DELETE /api/users/me/,
PUT/DELETE /api/users/me/avatar/. Changes are writes to the users service; every answer is
"me", composed in one place (`me_view`)."""
import falcon

from gateway.auth import require_user
from gateway.media import json_body
from gateway.me import ProfileCounts, me_view
from gateway.rpc import reading
from gateway.uploads import read_avatar_form


class MeResource:
    def __init__(self, rpc, deployed_services):
        self.rpc = rpc
        self.counts = ProfileCounts(rpc, deployed_services)

    @falcon.before(require_user)
    def on_get(self, req, resp):
        user_id = req.context.user.id
        profile, *counts = self.rpc.many([reading("users", "get_me", user_id),
                                          *self.counts.calls(user_id)])
        resp.media = me_view(self.counts.apply(req, profile, counts), req.context.user)

    @falcon.before(require_user)
    def on_patch(self, req, resp):
        profile = self.rpc.write("users", "update_me", req.context.user.id, json_body(req))
        resp.media = me_view(self.counts.after_write(req, profile), req.context.user)

    @falcon.before(require_user)
    def on_delete(self, req, resp):
        """Contract v2 §6.3: the account, with the password again (services/users/erasure.py)."""
        self.rpc.write("users", "delete_me", req.context.user.id, json_body(req))
        resp.status = falcon.HTTP_204


class AvatarResource:
    def __init__(self, rpc, config):
        self.rpc = rpc
        self.config = config
        self.counts = ProfileCounts(rpc, config["SERVICES"])

    @falcon.before(require_user)
    def on_put(self, req, resp):
        form = read_avatar_form(req, self.config)
        try:
            profile = self.rpc.write("users", "set_avatar", req.context.user.id, form.upload)
        finally:
            form.discard()  # the service removes what it took; this is for a failed call
        resp.media = me_view(self.counts.after_write(req, profile), req.context.user)

    @falcon.before(require_user)
    def on_delete(self, req, resp):
        self.rpc.write("users", "remove_avatar", req.context.user.id)
        resp.status = falcon.HTTP_204
