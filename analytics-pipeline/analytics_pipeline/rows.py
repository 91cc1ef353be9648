"""From a Kafka message to ClickHouse rows. The message is parsed with the event catalogue
(contracts.events.decode: envelope, type, version and payload model, docs/events.md); each
event type with a typed table gets one row there (plus one in `events`).

Anything that does not fit raises Malformed(kind, reason): the pipeline dead-letters it.
"""
from datetime import datetime, timezone

from contracts.events import (BAD_ENVELOPE, NOT_JSON, CommentCreated, ContentRemoved, InvalidEvent,
                              PostCreated, PostDeleted, PostLiked, PostUnliked, ReportCreated,
                              ReportResolved, UserRegistered, decode)


class Malformed(ValueError):
    """The message cannot be stored; `kind` (the kinds of contracts.events) and `reason` go to the
    dead_letters table, str(exc) is the reason."""

    def __init__(self, kind, reason, event_type=None):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.event_type = event_type


# Row builders: (Event, payload model) -> row tuple. The payload is already validated.
def _posts(e, p):
    return (e.event_id, e.occurred_at, e.day, p.post_id, p.author_id, p.author_username,
            p.title, 1 if p.has_image else 0)


def _deletions(e, p):
    return (e.event_id, e.occurred_at, e.day, p.post_id, p.author_id, p.title, p.deleted_by)


def _likes(delta):
    def row(e, p):
        return (e.event_id, e.occurred_at, e.day, delta, p.post_id, p.post_author_id,
                p.post_title, p.user_id, p.username, p.likes_count, e.occurred_us)
    return row


def _comments(e, p):
    return (e.event_id, e.occurred_at, e.day, p.comment_id, p.post_id, p.post_author_id,
            p.post_title, p.parent_id, p.parent_author_id, p.author_id, p.author_username)


def _users(e, p):
    return (e.event_id, e.occurred_at, e.day, p.user_id, p.username)


def _reports(e, p):
    return (e.event_id, e.occurred_at, e.day, p.report_id, p.target_type, p.target_id,
            p.post_id, p.reason)


def _resolutions(e, p):
    return (e.event_id, e.occurred_at, e.day, p.report_id, p.action, _seconds(p.reported_at))


def _removals(e, p):
    return (e.event_id, e.occurred_at, e.day, p.target_type, p.target_id, p.post_id, p.reason,
            p.report_id)


def _seconds(moment):
    """An aware datetime as Unix seconds, clamped into ClickHouse's DateTime range."""
    since_epoch = moment - EPOCH
    return min(max(since_epoch.days * 86400 + since_epoch.seconds, 0), DATETIME_END - 1)


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
    "reports": ("event_id", "occurred_at", "day", "report_id", "target_type", "target_id",
                "post_id", "reason"),
    "report_resolutions": ("event_id", "occurred_at", "day", "report_id", "action",
                           "reported_at"),
    "removals": ("event_id", "occurred_at", "day", "target_type", "target_id", "post_id",
                 "reason", "report_id"),
    # written by the sink from a batch's likes (like_totals.py), not from one event
    "post_like_totals": ("post_id", "likes", "known"),
    # messages that could not be stored (analytics_store/migrations/0007_dead_letters.sql)
    "dead_letters": ("failed_at", "topic", "partition", "offset", "key", "value", "kind",
                     "reason", "event_type"),
}

# payload model (one (type, version) of the catalogue) -> (typed table, row builder); the
# other types land in `events` only.
TYPED = {
    PostCreated: ("posts", _posts),
    PostDeleted: ("post_deletions", _deletions),
    PostLiked: ("likes", _likes(1)),
    PostUnliked: ("likes", _likes(-1)),
    CommentCreated: ("comments", _comments),
    UserRegistered: ("users", _users),
    ReportCreated: ("reports", _reports),
    ReportResolved: ("report_resolutions", _resolutions),
    ContentRemoved: ("removals", _removals),
}


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
DATETIME_END = 2**32  # ClickHouse DateTime: seconds since 1970 in a UInt32


class Event:
    # occurred_at is kept as Unix seconds: clickhouse-driver writes ints into DateTime
    # columns as they are, skipping a costly per-row timezone conversion. occurred_us is the
    # same instant in microseconds (integer arithmetic, no float rounding): it orders the
    # toggles of one post, which often share a second (likes.occurred_us, post_likes).
    __slots__ = ("event_id", "type", "version", "occurred_at", "occurred_us", "day",
                 "actor_id", "key", "payload", "body")


def parse(value):
    """Parse one message value with the catalogue; returns an Event or raises Malformed."""
    try:
        event = decode(value)
        text = value if isinstance(value, str) else value.decode("utf-8")
    except InvalidEvent as exc:
        raise Malformed(exc.kind, exc.reason, exc.type)
    except UnicodeDecodeError as exc:
        raise Malformed(NOT_JSON, f"not UTF-8: {exc}")
    occurred = event.occurred_at
    since_epoch = occurred - EPOCH
    e = Event()
    e.occurred_at = since_epoch.days * 86400 + since_epoch.seconds
    if not 0 <= e.occurred_at < DATETIME_END:
        raise Malformed(BAD_ENVELOPE, "occurred_at: outside ClickHouse's DateTime range "
                        "(1970 to 2106)", event.type)
    e.occurred_us = e.occurred_at * 1_000_000 + since_epoch.microseconds
    e.day = occurred.astimezone(timezone.utc).date()
    e.event_id = event.event_id
    e.type = event.type
    e.version = event.version
    e.actor_id = event.actor_id
    e.key = event.key
    e.payload = event.payload
    e.body = text
    return e


def rows_for(event, topic, partition, offset):
    """[(table, row)] for one event: its `events` row and, if typed, its typed row."""
    out = []
    typed = TYPED.get(type(event.payload))
    if typed is not None:
        table, build = typed
        out.append((table, build(event, event.payload)))
    out.append(("events", (event.event_id, event.type, event.version, event.occurred_at,
                           event.day, event.actor_id, event.key, event.body,
                           topic, partition, offset)))
    return out
