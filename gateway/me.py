"""The composition of "me" (contract v2 section 3.1: the profile plus email, is_admin and
ban), in one place: GET/PATCH /api/users/me/, the avatar answers and the export all use it."""
from gateway.media_files import absolute_media_url
from gateway.rpc import reading


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


def me_view(profile, principal):
    """"me" (v2 §3.1): the users service's answer with its counts, and is_admin and ban as
    every gateway process enforces them: from the access state (req.context.user, a
    Principal), never from the token's claim nor a second read of the stored flag."""
    profile["is_admin"] = principal.is_admin
    ban = principal.ban
    profile["ban"] = None if ban is None else {
        "reason": ban.reason, "created_at": ban.created_at, "expires_at": ban.expires_at}
    return profile


class MeReader:
    """"me" as part of a larger rpc.many (the export): calls() to send, compose() the answers."""

    def __init__(self, rpc, deployed_services):
        self.counts = ProfileCounts(rpc, deployed_services)

    def calls(self, user_id):
        return [reading("users", "get_me", user_id)] + self.counts.calls(user_id)

    def compose(self, req, replies):
        """`replies`: the answers to calls(), in order."""
        profile, *counts = replies
        return me_view(self.counts.apply(req, profile, counts), req.context.user)
