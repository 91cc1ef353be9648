"""The composition of "me" (contract v2 section 3.1: the profile plus email, is_admin and
ban), in one place: the export uses it now, GET /api/users/me/ (feat/profile) can too.
Until the access feed lands, is_admin is the stored flag (users service) and ban is null;
then both come from the gateway's access state, here and only here."""
from gateway.rpc import reading

COUNTERS = (("posts", "posts_count"), ("comments", "comments_count"))


class MeReader:
    def __init__(self, deployed_services):
        self.counters = [(svc, field) for svc, field in COUNTERS if svc in deployed_services]

    def calls(self, user_id):
        """The RPCs "me" needs, to be sent with others in one rpc.many."""
        return [reading("users", "me", user_id)] + [
            reading(svc, "count_by_author", user_id) for svc, _ in self.counters]

    def compose(self, replies):
        """`replies`: the answers to calls(), in order."""
        me, *counts = replies
        me = {"bio": "", "avatar_url": None, **me, "posts_count": 0, "comments_count": 0}
        for (_, field), count in zip(self.counters, counts):
            me[field] = count
        me.setdefault("ban", None)
        return me
