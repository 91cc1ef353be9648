"""The notifications service's domain wrapper, handed to each worker by the Database provider."""
import uuid

from peewee import fn

from contracts.schemas import Broadcast, load
from contracts.events import NotificationCreated, NotificationRead, PostDeleted, UserDeleted
from imageboard.db import delete_older_than
from imageboard.events.dead_letters import record_dead_letter
from imageboard.events.outbox import record_event
from imageboard.pagination import check_page
from imageboard.service_kit import Database
from imageboard.timefmt import utcnow
from services.notifications import erasure
from services.notifications.exceptions import NotificationNotFound, NotYourNotification
from services.notifications.models import (KnownUser, Notification, Outbox, ProcessedEvent,
                                           database)
from services.notifications.rules import SYSTEM, known_user, notifications_for
from services.notifications.schemas import notification_public
from imageboard.settings import settings_of


class NotificationsStore:
    def __init__(self, db, config):
        self.db = db
        self.config = config

    # -- events in --------------------------------------------------------------------

    def handle_event(self, event):
        """Apply one consumed event (a contracts.events.Event, parsed and validated by the
        consumer) exactly once; returns the ids of new notifications ([] for a redelivered
        event or one that notifies nobody)."""
        payload = getattr(event, "payload", None)
        if isinstance(payload, UserDeleted):
            erasure.erase_user(self.db, payload.user_id)
            return []
        if isinstance(payload, PostDeleted):
            erasure.forget_erased_post(self.db, event)
        drafts = notifications_for(event)
        user = known_user(event)
        if not drafts and user is None:
            return []  # nothing to do (post.created, post.unliked...): nothing to dedupe
        if erasure.names_erased_user(self.db, event):
            return []  # contract v2 section 6.3: nothing of an erased user comes back
        with self.db.atomic():
            claimed = list(
                ProcessedEvent.insert(event_id=event.event_id, event_type=event.type)
                .on_conflict_ignore().returning(ProcessedEvent.event_id).execute()
            )
            if not claimed:
                return []  # seen before: its effects are already committed
            if user is not None:
                self._remember(*user)
            made = [self._notify(d.user_id, d.type, d.message, d.data, event.event_id,
                                 event.actor_id) for d in drafts]
            return [notification_id for notification_id in made if notification_id is not None]

    def record_dead_letter(self, letter):
        """A message the consumer cannot use (imageboard/events/dead_letters.py): one row
        of dead_letters, committed before the consumer moves past it."""
        with self.db.atomic():
            record_dead_letter(self.db, letter)

    def prune_processed_events(self, older_than_days=None, batch_size=10000):
        """Forget the ids of events handled more than `older_than_days` ago
        (PROCESSED_EVENTS_RETENTION_DAYS); returns how many. The settings hold that longer
        than the topics' retention (KAFKA_RETENTION_HOURS), and a copy arriving later anyway
        (an operator's republish) makes no second notification (_notify). Deletes in
        batches, so the table is never locked for long."""
        if older_than_days is None:
            older_than_days = settings_of(self.config).PROCESSED_EVENTS_RETENTION_DAYS
        return delete_older_than(lambda sql, params: self.db.execute_sql(sql, params).rowcount,
                                 "processed_events", "event_id", "processed_at",
                                 older_than_days, batch_size)

    def _remember(self, user_id, username):
        KnownUser.insert(id=user_id, username=username, updated_at=utcnow()).on_conflict(
            conflict_target=[KnownUser.id],
            update={KnownUser.username: username, KnownUser.updated_at: utcnow()},
        ).execute()

    def _notify(self, user_id, kind, message, data, source_event_id, actor_id):
        """The notification's id, or None if this event already notified this user: an
        event redelivered after its processed_events row was pruned (a consumer group reset
        to the earliest offset) finds its notification by the unique (source_event_id,
        user_id) and makes neither a second one nor a second notification.created."""
        inserted = list(
            Notification.insert(user_id=user_id, type=kind, message=message, data=data,
                                source_event_id=source_event_id)
            .on_conflict(conflict_target=[Notification.source_event_id, Notification.user_id],
                         action="IGNORE")
            .returning(Notification.id).tuples().execute()
        )
        if not inserted:
            return None
        notification_id = inserted[0][0]
        record_event(Outbox, NotificationCreated(
            notification_id=notification_id, user_id=user_id,
            notification_type=kind, source_event_id=source_event_id,
        ), key=user_id, actor_id=actor_id)
        return notification_id

    # -- operators --------------------------------------------------------------------

    def broadcast(self, message):
        """A SYSTEM notification to every known user, in one transaction."""
        text = load(Broadcast, {"message": message})["message"]
        broadcast_id = str(uuid.uuid4())
        with self.db.atomic():
            user_ids = [u.id for u in KnownUser.select(KnownUser.id).order_by(KnownUser.id)]
            for user_id in user_ids:
                self._notify(user_id, SYSTEM, text, {"actor_id": None}, broadcast_id, None)
        return {"broadcast_id": broadcast_id, "recipients": len(user_ids)}

    # -- users ------------------------------------------------------------------------

    def list(self, user_id, unread_only=False, page=1, limit=20):
        check_page(page, limit)
        query = Notification.select().where(Notification.user_id == user_id)
        if unread_only:
            query = query.where(Notification.read == False)  # noqa: E712 (SQL, not Python)
        total = query.count()
        rows = query.order_by(Notification.id.desc()).paginate(page, limit)
        return {"count": total, "results": [notification_public(n) for n in rows]}

    def unread_count(self, user_id):
        count = (Notification.select(fn.count(Notification.id))
                 .where((Notification.user_id == user_id) & (Notification.read == False))  # noqa: E712
                 .scalar())
        return {"unread_count": count}

    def mark_read(self, user_id, notification_id):
        notification = None
        if isinstance(notification_id, int) and 0 < notification_id < 2**63:
            notification = Notification.get_or_none(Notification.id == notification_id)
        if notification is None:
            raise NotificationNotFound()
        if notification.user_id != user_id:
            raise NotYourNotification()
        with self.db.atomic():
            self._set_read(user_id, Notification.id == notification_id)
        return {"id": notification.id, "read": True}

    def mark_all_read(self, user_id):
        with self.db.atomic():
            marked = self._set_read(user_id, Notification.user_id == user_id)
        return {"marked": marked}

    def _set_read(self, user_id, condition):
        """Mark unread rows read; a notification.read event for each that changed."""
        ids = [row[0] for row in (
            Notification.update(read=True)
            .where(condition & (Notification.user_id == user_id) & (Notification.read == False))  # noqa: E712
            .returning(Notification.id).tuples().execute()
        )]
        for notification_id in ids:
            record_event(Outbox, NotificationRead(notification_id=notification_id,
                                                  user_id=user_id),
                         key=user_id, actor_id=user_id)
        return len(ids)


class NotificationsDatabase(Database):
    def __init__(self):
        super().__init__(database, NotificationsStore, service_name="notifications")
