"""The caller's own account (contract v2 §6.2, decision 19): GET/PATCH /api/users/me/,
PUT/DELETE /api/users/me/avatar/. Changes are writes to the users service; every answer is
"me", composed in one place (`me_view`)."""
import falcon

from gateway.auth import require_user
from gateway.media import json_body
from gateway.media_files import absolute_media_url
from gateway.rpc import reading
from gateway.uploads import read_avatar_form


class ProfileCounts:
    """posts_count and comments_count come from the services that own posts and comments,
    asked in parallel (0 where one is not deployed)."""

    COUNTERS = (("posts", "posts_count"), ("comments", "comments_count"))

    def __init__(self, rpc, deployed_services):
        self.rpc = rpc
        self.counters = [(svc, field) for svc, field in self.COUNTERS if svc in deployed_services]

    def calls(self, user_id):
        return [reading(svc, "count_by_author", user_id) for svc, _ in self.counters]

    def apply(self, req, profile, counts):
        """The users service's profile as clients get it: counts, an absolute avatar_url."""
        profile.setdefault("posts_count", 0)
        profile.setdefault("comments_count", 0)
        for (_, field), count in zip(self.counters, counts):
            profile[field] = count
        profile["avatar_url"] = absolute_media_url(req, profile.get("avatar_url"))
        return profile

    def after_write(self, req, profile):
        """The counts of a profile a write answered with."""
        counts = self.rpc.many(self.calls(profile["id"])) if self.counters else []
        return self.apply(req, profile, counts)


def me_view(profile):
    """"me" (v2 §3.1): the users service's answer with its counts; is_admin as stored, no
    ban. The gateway's access state (feat/access) gives the authoritative is_admin and the
    ban: they are set here, in this one line."""
    profile["ban"] = None
    return profile


class MeResource:
    def __init__(self, rpc, deployed_services):
        self.rpc = rpc
        self.counts = ProfileCounts(rpc, deployed_services)

    @falcon.before(require_user)
    def on_get(self, req, resp):
        user_id = req.context.user.id
        profile, *counts = self.rpc.many([reading("users", "get_me", user_id),
                                          *self.counts.calls(user_id)])
        resp.media = me_view(self.counts.apply(req, profile, counts))

    @falcon.before(require_user)
    def on_patch(self, req, resp):
        profile = self.rpc.write("users", "update_me", req.context.user.id, json_body(req))
        resp.media = me_view(self.counts.after_write(req, profile))


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
        resp.media = me_view(self.counts.after_write(req, profile))

    @falcon.before(require_user)
    def on_delete(self, req, resp):
        self.rpc.write("users", "remove_avatar", req.context.user.id)
        resp.status = falcon.HTTP_204
