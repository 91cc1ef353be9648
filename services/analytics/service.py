"""Analytics service: post statistics and user activity, answered from ClickHouse."""
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from contracts.errors import NotFound, ServiceUnavailable
from imageboard import service_kit  # bases by module: `nameko run` runs every class imported here
from imageboard.service_kit import RequestContext, rpc
from imageboard.timefmt import utcnow
from services.analytics.dependencies import AnalyticsClickHouse
from services.analytics.exceptions import AnalyticsUserNotFound
from services.analytics.schemas import parse_days, parse_period, parse_user_id


class AnalyticsService(service_kit.DomainService):
    name = "analytics"
    # /metrics is served on METRICS_PORT_BASE + this (compose sets METRICS_PORT instead).
    metrics_port_offset = 5

    store = AnalyticsClickHouse()
    users = RpcProxy("users")
    context = RequestContext()

    @rpc
    def posts_stats(self, start_date=None, end_date=None):
        """Admin-only at the gateway. Dates are inclusive YYYY-MM-DD strings."""
        start, end = parse_period(start_date, end_date)
        return self.store.posts_stats(start, end)

    @rpc
    def moderation_stats(self, days=None):
        """Admin-only at the gateway: today (UTC) and the days-1 before (contract v2 8.3)."""
        return self.store.moderation_stats(parse_days(days), utcnow().date())

    @rpc
    def user_activity(self, caller_id, user_id=None):
        """The last 30 days (UTC, today included) of `user_id`, by default the caller."""
        user_id = parse_user_id(user_id, caller_id)
        if user_id != caller_id:
            self._ensure_user_exists(user_id)
        return self.store.user_activity(user_id, utcnow().date())

    def _ensure_user_exists(self, user_id):
        """ClickHouse's user.registered rows answer almost always; a user whose event has
        not arrived yet (or predates the pipeline) is confirmed by the users service, the
        owner of that fact, so a lagging pipeline never turns a real user into a 404."""
        if self.store.user_registered(user_id):
            return
        try:
            self.users.get_profile(user_id)
        except NotFound:
            raise AnalyticsUserNotFound()
        except UnknownService:
            raise ServiceUnavailable("The users service is not available")
