"""The event envelope every producer writes and every consumer reads.

    {"event_id": "<uuid4>", "type": "post.liked", "version": 1,
     "occurred_at": "2026-11-27T14:32:42.123456+00:00", "actor_id": 7,
     "key": "42", "payload": {...}}

`key` is the aggregate id (post id for post and comment events, user id for user
events): it is also the Kafka message key, so order holds per post and per user.
"""
import uuid

from imageboard.timefmt import iso, utcnow

ENVELOPE_VERSION = 1

# event type -> topic (without KAFKA_TOPIC_PREFIX)
TOPICS = {
    "user.registered": "user-events",
    "user.logged_in": "user-events",
    "post.created": "post-events",
    "post.deleted": "post-events",
    "post.liked": "post-events",
    "post.unliked": "post-events",
    "comment.created": "comment-events",
    "notification.created": "notification-events",
    "notification.read": "notification-events",
    "post.viewed": "analytics-events",
}
ALL_TOPICS = sorted(set(TOPICS.values()))


def make_event(event_type, key, actor_id, payload, version=ENVELOPE_VERSION):
    if event_type not in TOPICS:
        raise ValueError(f"unknown event type {event_type!r}")
    return {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "version": version,
        "occurred_at": iso(utcnow()),
        "actor_id": actor_id,
        "key": str(key),
        "payload": payload,
    }
