from gateway.media import json_body
from gateway.resources.me import ProfileCounts
from gateway.rpc import reading


class RegisterResource:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_post(self, req, resp):
        resp.media = self.rpc.write("users", "register", json_body(req))
        resp.status = 201


class LoginResource:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_post(self, req, resp):
        resp.media = self.rpc.write("users", "login", json_body(req))


class ProfileResource:
    """Contract decision 5: public profile; email only for its owner. The counts come
    from the services that own posts and comments, asked in parallel."""

    def __init__(self, rpc, deployed_services):
        self.rpc = rpc
        self.counts = ProfileCounts(rpc, deployed_services)

    def on_get(self, req, resp, user_id):
        profile, *counts = self.rpc.many([reading("users", "get_profile", user_id),
                                          *self.counts.calls(user_id)])
        self.counts.apply(req, profile, counts)
        user = req.context.user
        if user is None or user.id != profile["id"]:
            profile.pop("email", None)
        resp.media = profile
