"""Moderation service: reports, bans and the modlog (contract v2 section 5), over RPC; an
access source (bans reach every gateway within 1 s) and a consumer of the removal and
deletion events the posts and comments services publish."""
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from nameko.timer import timer

from imageboard.access import feed as access_feed  # by module: see services/users/service.py
from imageboard.events.kafka_entrypoint import consume_events, dead_letters
from imageboard.events.relay import OutboxRelay
from imageboard import service_kit  # bases by module: `nameko run` runs every class imported here
from imageboard.rpc_queues import WRITE_PRIORITY
from imageboard.service_kit import RequestContext, rpc
from imageboard.settings import settings_of
from services.moderation.dependencies import ModerationDatabase, active_bans
from services.moderation.models import AccessChange
from services.moderation.peers import Peers

# Seconds between two reads of the queue gauges (imageboard_moderation_open_reports and
# imageboard_moderation_oldest_open_report_age_seconds); the age itself is exact at scrape.
QUEUE_METRICS_INTERVAL = 5


class ModerationService(service_kit.OutboxService, access_feed.AccessSource):
    name = "moderation"
    # /metrics is served on METRICS_PORT_BASE + this (compose sets METRICS_PORT instead).
    metrics_port_offset = 6

    moderation = ModerationDatabase()
    context = RequestContext()
    relay = OutboxRelay()  # publishes moderation-events from the outbox table
    # Bans and unbans to every gateway (imageboard/access); snapshots add the current bans.
    access = access_feed.AccessFeed(AccessChange, snapshot=active_bans)
    # Calls made for a moderator's or reporter's write: ahead of the feed reads.
    posts = RpcProxy("posts", priority=WRITE_PRIORITY)
    comments = RpcProxy("comments", priority=WRITE_PRIORITY)
    users = RpcProxy("users", priority=WRITE_PRIORITY)
    config = Config()

    def _peers(self):
        return Peers(self.posts, self.comments, self.users, settings_of(self.config).RPC_TIMEOUT)

    # -- reports (section 5.1) ---------------------------------------------------------
    @rpc
    def create_report(self, payload, reporter):
        """payload: target_type, target_id, reason, details?; reporter: {"id", "username"}."""
        return self.moderation.create_report(payload, reporter, self._peers())

    @rpc
    def list_reports(self, status=None, page=1, limit=20):
        return self.moderation.list_reports(status, page, limit)

    @rpc
    def reports_by_id(self, report_ids):
        """The stream process: {id (text): report} of those that exist (the admin view)."""
        return {str(k): v for k, v in self.moderation.reports_by_id(report_ids).items()}

    @rpc
    def resolve_report(self, report_id, payload, moderator):
        return self.moderation.resolve_report(report_id, payload, moderator, self._peers())

    @rpc
    def reports_of_user(self, user_id):
        """The data export: the reports the user made, oldest first."""
        return self.moderation.reports_of_user(user_id)

    # -- bans (section 5.2) ------------------------------------------------------------
    @rpc
    def ban_user(self, user_id, payload, moderator):
        return self.moderation.ban(user_id, payload, moderator, self._peers())

    @rpc
    def unban_user(self, user_id, payload, moderator):
        return self.moderation.unban(user_id, payload, moderator)

    @rpc
    def current_ban(self, user_id):
        return self.moderation.current_ban(user_id)

    # -- modlog (section 5.3) ----------------------------------------------------------
    @rpc
    def modlog(self, action=None, page=1, limit=20, is_admin=False):
        return self.moderation.modlog(action, page, limit, is_admin)

    # -- operators: removal and restore through the content services --------------------
    @rpc
    def remove_content(self, target_type, target_id, reason, moderator_id):
        """Operators (`imageboard remove`): posts.remove_post / comments.remove_comment."""
        return self._peers().content("remove", target_type, target_id, reason, moderator_id)

    @rpc
    def restore_content(self, target_type, target_id, reason, moderator_id):
        """Operators (`imageboard restore`): posts.restore_post / comments.restore_comment."""
        return self._peers().content("restore", target_type, target_id, reason, moderator_id)

    # -- metrics -------------------------------------------------------------------------
    @timer(interval=QUEUE_METRICS_INTERVAL, eager=True)
    def export_queue_metrics(self):
        """The open report count and the oldest one's age for Prometheus (the
        ModerationReportWaiting alert): one indexed query every few seconds, on every
        replica alike (dashboards and alerts take max())."""
        return self.moderation.refresh_queue_metrics()

    # -- events in ---------------------------------------------------------------------
    @consume_events(["moderation-events", "post-events", "comment-events", "user-events"])
    def on_event(self, event):
        """content.removed/restored -> modlog (a direct removal resolves the item's open
        reports); post/comment.deleted by an admin -> modlog; user.deleted -> erasure."""
        return self.moderation.handle_event(event, self._peers())

    @dead_letters
    def on_dead_letter(self, letter):
        self.moderation.record_dead_letter(letter)
