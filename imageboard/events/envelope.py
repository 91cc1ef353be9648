"""The event envelope in the kernel. contracts/events.py declares it and every event type
(the catalogue); this module derives the topics from it and keeps the kernel's names.

    {"event_id": "<uuid4>", "type": "post.liked", "version": 1,
     "occurred_at": "2026-11-27T14:32:42.123456+00:00", "actor_id": 7,
     "key": "42", "payload": {...}}

`key` is the aggregate id (post id for post and comment events, user id for user
events): it is also the Kafka message key, so order holds per post and per user.
"""
import os

from contracts.events import CATALOGUE, ENVELOPE_FIELDS, InvalidEvent, as_dict, decode, new_event
from contracts.events import payload_from_dict

__all__ = ["TOPICS", "ALL_TOPICS", "ENVELOPE_FIELDS", "MalformedEvent", "make_event",
           "parse_event", "schema_path"]

# event type -> topic (without KAFKA_TOPIC_PREFIX)
TOPICS = CATALOGUE.topics()
ALL_TOPICS = sorted(set(TOPICS.values()))

# A message the catalogue refuses (InvalidEvent: .kind, .reason); the old name.
MalformedEvent = InvalidEvent


def make_event(event_type, key, actor_id, payload, occurred_at=None):
    """The envelope, as the plain dict its JSON decodes to, of an event given as a payload
    dict: for tests and tools. Validated against the catalogue (InvalidEvent otherwise).
    Services build payload models instead (outbox.record_event)."""
    return as_dict(new_event(payload_from_dict(event_type, payload), key, actor_id, occurred_at))


def parse_event(raw):
    """One Kafka message value -> a typed contracts.events.Event, or raises InvalidEvent."""
    return decode(raw)


SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")


def schema_path(event_type, version=1):
    """JSON Schema (draft 2020-12) of one event type, generated from the catalogue
    (imageboard/events/catalogue_files.py): schemas/<type>.json, <type>.v<n>.json after 1."""
    suffix = "" if version == 1 else f".v{version}"
    return os.path.join(SCHEMA_DIR, f"{event_type}{suffix}.json")
