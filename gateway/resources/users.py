from gateway.media import json_body
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

    COUNTERS = (("posts", "posts_count"), ("comments", "comments_count"))

    def __init__(self, rpc, deployed_services):
        self.rpc = rpc
        self.counters = [(svc, field) for svc, field in self.COUNTERS if svc in deployed_services]

    def on_get(self, req, resp, user_id):
        calls = [reading("users", "get_profile", user_id)]
        calls += [reading(svc, "count_by_author", user_id) for svc, _ in self.counters]
        profile, *counts = self.rpc.many(calls)
        profile.setdefault("posts_count", 0)
        profile.setdefault("comments_count", 0)
        for (_, field), count in zip(self.counters, counts):
            profile[field] = count
        user = req.context.user
        if user is None or user.id != profile["id"]:
            profile.pop("email", None)
        resp.media = profile
