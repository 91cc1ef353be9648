"""Notifications service: turns post, comment and user events from Kafka into users'
notifications (contract decision 7), and serves them over RPC."""
import logging

from nameko.timer import timer

from imageboard.events.kafka_entrypoint import consume_events, dead_letters
from imageboard.events.relay import OutboxRelay
from imageboard import service_kit  # bases by module: `nameko run` runs every class imported here
from imageboard.service_kit import RequestContext, rpc
from services.notifications.dependencies import NotificationsDatabase
from services.notifications import export

log = logging.getLogger(__name__)
PRUNE_INTERVAL = 3600  # seconds


class NotificationsService(service_kit.OutboxService):
    name = "notifications"
    # /metrics is served on METRICS_PORT_BASE + this (compose sets METRICS_PORT instead).
    metrics_port_offset = 4

    notifications = NotificationsDatabase()
    context = RequestContext()
    relay = OutboxRelay()  # publishes notification-events from the outbox table

    @consume_events(["post-events", "comment-events", "user-events", "moderation-events"])
    def on_event(self, event):
        """Every event once (idempotent on event_id); the offset is committed after."""
        return self.notifications.handle_event(event)

    @dead_letters
    def on_dead_letter(self, letter):
        """A message on_event cannot use (not an event of the catalogue, or one it
        refused): kept in the dead_letters table, then its offset is committed."""
        self.notifications.record_dead_letter(letter)

    @timer(interval=PRUNE_INTERVAL)
    def prune_processed_events(self):
        """Hourly: the dedup records of events older than PROCESSED_EVENTS_RETENTION_DAYS
        go, so the table does not grow forever."""
        deleted = self.notifications.prune_processed_events()
        if deleted:
            log.info("pruned processed events", extra={"deleted": deleted})
        return deleted

    @rpc
    def list_notifications(self, user_id, unread_only=False, page=1, limit=20):
        """{"count": total, "results": [...]}, newest first."""
        return self.notifications.list(user_id, unread_only, page, limit)

    @rpc
    def unread_count(self, user_id):
        return self.notifications.unread_count(user_id)

    @rpc
    def mark_read(self, user_id, notification_id):
        return self.notifications.mark_read(user_id, notification_id)

    @rpc
    def mark_all_read(self, user_id):
        return self.notifications.mark_all_read(user_id)

    @rpc
    def broadcast(self, message):
        """Operators: n.rpc.notifications.broadcast("Maintenance at 22:00 UTC")."""
        return self.notifications.broadcast(message)

    @rpc
    def notifications_of_user(self, user_id):
        """The data export: every notification of the user, oldest first."""
        return export.notifications_of_user(user_id)
