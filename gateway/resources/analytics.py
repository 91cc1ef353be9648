"""Analytics endpoints (contract decisions 8-9); the analytics service validates the
parameters and answers from ClickHouse."""
import falcon

from gateway.auth import require_admin, require_user


class PostStatsResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_admin)
    def on_get(self, req, resp):
        resp.media = self.rpc.read("analytics", "posts_stats",
                                   start_date=req.get_param("start_date"),
                                   end_date=req.get_param("end_date"))


class UserActivityResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_user)
    def on_get(self, req, resp):
        resp.media = self.rpc.read("analytics", "user_activity",
                                   caller_id=req.context.user.id,
                                   user_id=req.get_param("user_id"))


class ModerationStatsResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_admin)
    def on_get(self, req, resp):
        resp.media = self.rpc.read("analytics", "moderation_stats", days=req.get_param("days"))
