"""The event envelope every producer writes and every consumer reads.

    {"event_id": "<uuid4>", "type": "post.liked", "version": 1,
     "occurred_at": "2026-11-27T14:32:42.123456+00:00", "actor_id": 7,
     "key": "42", "payload": {...}}

`key` is the aggregate id (post id for post and comment events, user id for user
events): it is also the Kafka message key, so order holds per post and per user.
"""
import json
import os
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


ENVELOPE_FIELDS = ("event_id", "type", "version", "occurred_at", "actor_id", "key", "payload")


class MalformedEvent(ValueError):
    """A message that is not a valid envelope: consumers log it and skip it."""


def parse_event(raw):
    """Decode one Kafka message value into an envelope dict, or raise MalformedEvent.

    Checks the envelope only; each consumer checks the payload fields it reads."""
    try:
        event = json.loads(raw)
    except (TypeError, ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"not JSON: {exc}")
    if not isinstance(event, dict):
        raise MalformedEvent("not a JSON object")
    missing = [name for name in ENVELOPE_FIELDS if name not in event]
    if missing:
        raise MalformedEvent(f"missing envelope fields {missing}")
    if event["type"] not in TOPICS:
        raise MalformedEvent(f"unknown event type {event['type']!r}")
    if not isinstance(event["payload"], dict):
        raise MalformedEvent("payload is not an object")
    try:
        uuid.UUID(str(event["event_id"]))
    except ValueError:
        raise MalformedEvent("event_id is not a UUID")
    return event


SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")


def schema_path(event_type):
    """JSON Schema (draft 2020-12) of one event type: imageboard/events/schemas/<type>.json."""
    return os.path.join(SCHEMA_DIR, f"{event_type}.json")
