"""From a Kafka message to ClickHouse rows: the envelope of docs/events.md is checked, and
each event type with a typed table gets one row there (plus one in `events`).

Anything that does not fit raises Malformed(reason): the pipeline dead-letters it.
"""
import json
import uuid
from datetime import datetime, timezone

SUPPORTED_VERSION = 1


class Malformed(ValueError):
    """The message cannot be stored; str(exc) is the reason sent to the dead-letter topic."""


def _int(payload, name, nullable=False):
    value = payload.get(name)
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise Malformed(f"payload.{name} must be a non-negative integer")
    return value


def _str(payload, name):
    value = payload.get(name)
    if not isinstance(value, str):
        raise Malformed(f"payload.{name} must be a string")
    return value


def _posts(e, p):
    return (e.event_id, e.occurred_at, e.day, _int(p, "post_id"), _int(p, "author_id"),
            _str(p, "author_username"), _str(p, "title"), 1 if p.get("has_image") else 0)


def _deletions(e, p):
    return (e.event_id, e.occurred_at, e.day, _int(p, "post_id"), _int(p, "author_id"),
            _str(p, "title"), _int(p, "deleted_by"))


def _likes(delta):
    def row(e, p):
        return (e.event_id, e.occurred_at, e.day, delta, _int(p, "post_id"),
                _int(p, "post_author_id"), _str(p, "post_title"), _int(p, "user_id"),
                _str(p, "username"), _int(p, "likes_count"), e.occurred_us)
    return row


def _comments(e, p):
    return (e.event_id, e.occurred_at, e.day, _int(p, "comment_id"), _int(p, "post_id"),
            _int(p, "post_author_id"), _str(p, "post_title"), _int(p, "parent_id", nullable=True),
            _int(p, "parent_author_id", nullable=True), _int(p, "author_id"),
            _str(p, "author_username"))


def _users(e, p):
    return (e.event_id, e.occurred_at, e.day, _int(p, "user_id"), _str(p, "username"))


# table -> columns, in the order the row builders produce them
COLUMNS = {
    "events": ("event_id", "type", "version", "occurred_at", "day", "actor_id", "key",
               "body", "topic", "partition", "offset"),
    "posts": ("event_id", "occurred_at", "day", "post_id", "author_id", "author_username",
              "title", "has_image"),
    "post_deletions": ("event_id", "occurred_at", "day", "post_id", "author_id", "title",
                       "deleted_by"),
    "likes": ("event_id", "occurred_at", "day", "delta", "post_id", "post_author_id",
              "post_title", "user_id", "username", "likes_count", "occurred_us"),
    "comments": ("event_id", "occurred_at", "day", "comment_id", "post_id", "post_author_id",
                 "post_title", "parent_id", "parent_author_id", "author_id", "author_username"),
    "users": ("event_id", "occurred_at", "day", "user_id", "username"),
    # written by the sink from a batch's likes (like_totals.py), not from one event
    "post_like_totals": ("post_id", "likes", "known"),
}

# event type -> (typed table, row builder); other types land in `events` only.
TYPED = {
    "post.created": ("posts", _posts),
    "post.deleted": ("post_deletions", _deletions),
    "post.liked": ("likes", _likes(1)),
    "post.unliked": ("likes", _likes(-1)),
    "comment.created": ("comments", _comments),
    "user.registered": ("users", _users),
}


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Event:
    # occurred_at is kept as Unix seconds: clickhouse-driver writes ints into DateTime
    # columns as they are, skipping a costly per-row timezone conversion. occurred_us is the
    # same instant in microseconds (integer arithmetic, no float rounding): it orders the
    # toggles of one post, which often share a second (likes.occurred_us, post_likes).
    __slots__ = ("event_id", "type", "version", "occurred_at", "occurred_us", "day",
                 "actor_id", "key", "payload", "body")


def parse(value):
    """Check the envelope; returns an Event or raises Malformed."""
    if value is None:
        raise Malformed("empty message")
    try:
        text = value if isinstance(value, str) else value.decode("utf-8")
        body = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed(f"not JSON: {exc}")
    if not isinstance(body, dict):
        raise Malformed("not a JSON object")
    e = Event()
    try:
        e.event_id = uuid.UUID(body["event_id"])
    except KeyError:
        raise Malformed("event_id missing")
    except (TypeError, ValueError, AttributeError):
        raise Malformed("event_id is not a UUID")
    e.type = body.get("type")
    if not isinstance(e.type, str) or not e.type:
        raise Malformed("type missing")
    e.version = body.get("version")
    if isinstance(e.version, bool) or not isinstance(e.version, int):
        raise Malformed("version must be an integer")
    if e.type in TYPED and e.version != SUPPORTED_VERSION:
        raise Malformed(f"unsupported version {e.version} of {e.type}")
    try:
        occurred = datetime.fromisoformat(body["occurred_at"])
    except (KeyError, TypeError, ValueError):
        raise Malformed("occurred_at is not an ISO 8601 timestamp")
    if occurred.tzinfo is None:
        raise Malformed("occurred_at has no UTC offset")
    since_epoch = occurred - EPOCH
    e.occurred_at = since_epoch.days * 86400 + since_epoch.seconds
    e.occurred_us = e.occurred_at * 1_000_000 + since_epoch.microseconds
    e.day = occurred.astimezone(timezone.utc).date()
    e.actor_id = body.get("actor_id")
    if e.actor_id is not None and (isinstance(e.actor_id, bool) or not isinstance(e.actor_id, int)
                                   or e.actor_id < 0):
        raise Malformed("actor_id must be a non-negative integer or null")
    e.key = body.get("key")
    if not isinstance(e.key, str):
        raise Malformed("key must be a string")
    e.payload = body.get("payload")
    if not isinstance(e.payload, dict):
        raise Malformed("payload must be an object")
    e.body = text
    return e


def rows_for(event, topic, partition, offset):
    """[(table, row)] for one event: its `events` row and, if typed, its typed row."""
    out = []
    typed = TYPED.get(event.type)
    if typed is not None:
        table, build = typed
        out.append((table, build(event, event.payload)))
    out.append(("events", (event.event_id, event.type, event.version, event.occurred_at,
                           event.day, event.actor_id, event.key, event.body,
                           topic, partition, offset)))
    return out
