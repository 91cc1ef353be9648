"""The event catalogue (contracts/events.py): what it generates is current (schema files,
the table in docs/events.md), producers cannot write what it does not declare, and decode
names what is wrong with a message."""
import json
import os
import re
import uuid
from datetime import datetime, timedelta, timezone

import jsonschema
import msgspec
import pytest

from contracts import events as ev
from imageboard import PROJECT_ROOT
from imageboard.events import catalogue_files
from imageboard.events.envelope import (ALL_TOPICS, TOPICS, MalformedEvent, make_event,
                                        parse_event, schema_path)
from imageboard.events.outbox import record_event
from tests.event_schemas import schema_for, validate_event

SAMPLE_PAYLOADS = {
    "user.registered": {"user_id": 7, "username": "alice"},
    "user.logged_in": {"user_id": 7, "username": "alice"},
    "user.updated": {"user_id": 7, "username": "alice", "fields": ["bio", "avatar"],
                     "avatar": "3f2a9c_avatar.png"},
    "post.created": {"post_id": 42, "author_id": 7, "author_username": "alice",
                     "title": "Sunset", "has_image": True},
    "post.deleted": {"post_id": 42, "author_id": 7, "title": "Sunset", "deleted_by": 1},
    "post.liked": {"post_id": 42, "post_author_id": 7, "post_title": "Sunset",
                   "user_id": 8, "username": "bob", "likes_count": 3},
    "post.unliked": {"post_id": 42, "post_author_id": 7, "post_title": "Sunset",
                     "user_id": 8, "username": "bob", "likes_count": 2},
    "comment.created": {"comment_id": 5, "post_id": 42, "post_author_id": 7,
                        "post_title": "Sunset", "parent_id": None, "parent_author_id": None,
                        "author_id": 8, "author_username": "bob"},
    "notification.created": {"notification_id": 3, "user_id": 7, "notification_type": "LIKE",
                             "source_event_id": "0b7c35c6-6d3f-4a0e-a1b4-5bd1e3e8d7a1"},
    "notification.read": {"notification_id": 3, "user_id": 7},
    "post.viewed": {"post_id": 42, "viewer_id": None},
    "user.updated": {"user_id": 7, "username": "alice", "fields": ["avatar"],
                     "avatar": "3f2a_avatar.png"},
    "user.deleted": {"user_id": 7},
    "comment.deleted": {"comment_id": 5, "post_id": 42, "author_id": 8, "deleted_by": 8,
                        "placeholder": True},
    "report.created": {"report_id": 31, "target_type": "comment", "target_id": 5, "post_id": 42,
                       "target_author_id": 8, "reporter_id": 7, "reason": "spam"},
    "report.resolved": {"report_id": 31, "target_type": "comment", "target_id": 5,
                        "action": "remove", "resolved_by": 1,
                        "reported_at": "2026-11-27T14:50:00+00:00"},
    "content.removed": {"target_type": "post", "target_id": 42, "post_id": 42,
                        "post_title": "Sunset", "author_id": 7, "reason": "spam",
                        "removed_by": 1, "report_id": None},
    "content.restored": {"target_type": "comment", "target_id": 5, "post_id": 42,
                         "post_title": "Sunset", "author_id": 8, "reason": "mistake",
                         "restored_by": 1},
    "user.banned": {"user_id": 8, "reason": "spam", "expires_at": "2026-12-04T14:32:42+00:00",
                    "banned_by": 1, "report_id": 31},
    "user.unbanned": {"user_id": 8, "reason": "", "unbanned_by": 1},
}


def liked_event(**changes):
    return make_event("post.liked", 42, 8, dict(SAMPLE_PAYLOADS["post.liked"], **changes))


# ---- what is generated from the catalogue is current ---------------------------------
def test_schema_files_and_the_docs_table_are_generated_from_the_catalogue():
    assert catalogue_files.stale() == [], \
        "run .venv/bin/python -m imageboard.events.catalogue_files"


def docs_rows():
    with open(os.path.join(PROJECT_ROOT, "docs", "events.md")) as fh:
        text = fh.read()
    table = text.split(catalogue_files.BEGIN, 1)[1].split(catalogue_files.END, 1)[0]
    rows = [line.split("|")[1:-1] for line in table.strip().splitlines()[2:]]
    return [[cell.strip() for cell in row] for row in rows]


def test_the_docs_table_names_every_type_with_its_topic_key_and_payload_fields():
    documented = {(r[0], int(r[1])): r for r in docs_rows()}
    # The access feed's messages (RabbitMQ, not Kafka) are in the same table.
    declared = [*ev.CATALOGUE, *ev.FEED_CATALOGUE]
    assert set(documented) == {(e.type, e.version) for e in declared}
    for entry in declared:
        _, _, topic, key, payload, _ = documented[(entry.type, entry.version)]
        assert (topic, key) == (entry.topic, entry.key)
        fields = [f.split(":")[0].strip() for f in payload.split(", ")]
        assert fields == [f.name for f in msgspec.structs.fields(entry.payload)], entry.type


def test_the_docs_envelope_table_is_the_envelope_of_the_catalogue():
    with open(os.path.join(PROJECT_ROOT, "docs", "events.md")) as fh:
        text = fh.read()
    envelope = text.split("| field | type | meaning |", 1)[1].split("\n\n", 1)[0]
    names = [line.split("|")[1].strip() for line in envelope.strip().splitlines()[1:]]
    assert tuple(names) == ev.ENVELOPE_FIELDS
    assert tuple(f.name for f in msgspec.structs.fields(ev.Event)) == ev.ENVELOPE_FIELDS


def test_every_type_has_a_valid_schema_and_topics_come_from_the_catalogue():
    assert set(SAMPLE_PAYLOADS) == set(TOPICS) == set(ev.CATALOGUE.types())
    assert ALL_TOPICS == sorted({e.topic for e in ev.CATALOGUE})
    for entry in ev.CATALOGUE:
        assert os.path.exists(schema_path(entry.type, entry.version))
        schema = schema_for(entry.type, entry.version)
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["properties"]["type"]["const"] == entry.type
        assert schema["properties"]["version"]["const"] == entry.version
        assert TOPICS[entry.type] == entry.topic
        assert set(schema["properties"]["payload"]["required"]) == {
            f.name for f in msgspec.structs.fields(entry.payload)}


def test_a_type_version_cannot_be_declared_twice():
    with pytest.raises(ValueError, match="declared twice"):
        ev.event("post.liked", 1, "post-events", key="post id")(
            type("Again", (ev.Payload,), {"__annotations__": {"x": int}}))


# ---- producers build from it ------------------------------------------------------------
@pytest.mark.parametrize("event_type", sorted(TOPICS))
def test_built_events_match_their_schema_and_decode_to_the_same_event(event_type):
    event = make_event(event_type, 42, 7, SAMPLE_PAYLOADS[event_type])
    typed = validate_event(event)
    assert isinstance(typed.payload, ev.CATALOGUE.latest(event_type).payload)
    assert ev.as_dict(parse_event(json.dumps(event).encode())) == event
    assert event["occurred_at"].endswith("+00:00")  # the wire format predates the catalogue


class FakeOutbox:
    """An outbox model whose database records the SQL instead of running it."""

    class _meta:
        class database:
            statements = []

            @classmethod
            def execute_sql(cls, sql, params):
                cls.statements.append((sql, params))


@pytest.fixture
def outbox():
    FakeOutbox._meta.database.statements = []
    return FakeOutbox


def test_record_event_writes_the_catalogue_envelope(outbox):
    event = record_event(outbox, ev.PostLiked(**SAMPLE_PAYLOADS["post.liked"]), key=42, actor_id=8)
    [(sql, (event_id, topic, key, event_type, body))] = outbox._meta.database.statements
    assert "INSERT INTO outbox" in sql
    assert (event_id, topic, key, event_type) == (str(event.event_id), "post-events", "42",
                                                  "post.liked")
    assert ev.decode(body) == event


@pytest.mark.parametrize("build, error", [
    # a field missing: the model itself refuses it
    (lambda: ev.PostLiked(post_id=42, post_title="t", user_id=8, username="bob",
                          likes_count=1), TypeError),
    # mistyped or out of range: new_event refuses it
    (lambda: ev.PostLiked(**dict(SAMPLE_PAYLOADS["post.liked"], user_id="8")), ev.InvalidEvent),
    (lambda: ev.PostLiked(**dict(SAMPLE_PAYLOADS["post.liked"], user_id=True)), ev.InvalidEvent),
    (lambda: ev.PostLiked(**dict(SAMPLE_PAYLOADS["post.liked"], post_id=0)), ev.InvalidEvent),
    (lambda: ev.PostLiked(**dict(SAMPLE_PAYLOADS["post.liked"], post_title="")), ev.InvalidEvent),
    (lambda: ev.PostLiked(**dict(SAMPLE_PAYLOADS["post.liked"], likes_count=2**63)),
     ev.InvalidEvent),
    (lambda: ev.NotificationCreated(**dict(SAMPLE_PAYLOADS["notification.created"],
                                           notification_type="SPAM")), ev.InvalidEvent),
    (lambda: ev.CommentCreated(**dict(SAMPLE_PAYLOADS["comment.created"], parent_id="5")),
     ev.InvalidEvent),
    # not a catalogue model at all
    (lambda: dict(SAMPLE_PAYLOADS["post.liked"]), TypeError),
])
def test_a_producer_cannot_write_a_payload_the_catalogue_does_not_declare(outbox, build, error):
    with pytest.raises(error):
        record_event(outbox, build(), key=42, actor_id=8)
    assert outbox._meta.database.statements == []


def test_producer_errors_name_the_field(outbox):
    with pytest.raises(ev.InvalidEvent) as refused:
        record_event(outbox, ev.PostLiked(**dict(SAMPLE_PAYLOADS["post.liked"], user_id="8")),
                     key=42, actor_id=8)
    assert refused.value.kind == ev.BAD_PAYLOAD
    assert refused.value.reason == "payload.user_id: Expected `int`, got `str`"
    with pytest.raises(ev.InvalidEvent, match="key"):
        record_event(outbox, ev.PostLiked(**SAMPLE_PAYLOADS["post.liked"]), key="post-42",
                     actor_id=8)


class FakeProducer:
    def __init__(self):
        self.sent = []

    def produce(self, topic, key, value, on_delivery):
        self.sent.append((topic, key, value))

    def poll(self, _timeout):
        return 0


def test_the_best_effort_publisher_drops_what_the_catalogue_refuses():
    from prometheus_client import REGISTRY

    from imageboard.events.publisher import BestEffortPublisher

    def refused():
        return REGISTRY.get_sample_value("imageboard_best_effort_dropped_total",
                                         {"type": "post.viewed", "reason": "refused"}) or 0

    publisher = BestEffortPublisher.__new__(BestEffortPublisher)
    publisher.config, publisher.producer = {"KAFKA_TOPIC_PREFIX": "t-"}, FakeProducer()
    publisher._reports = {"post.viewed": lambda error, message: None}
    before = refused()
    event = publisher.publish(ev.PostViewed(post_id=42, viewer_id=None), key=42, actor_id=None)
    [(topic, key, value)] = publisher.producer.sent
    assert (topic, key) == ("t-analytics-events", "42") and ev.decode(value) == event
    assert publisher.publish(ev.PostViewed(post_id=42, viewer_id=-1), key=42, actor_id=None) is None
    assert refused() == before + 1 and len(publisher.producer.sent) == 1


def test_make_event_refuses_unknown_types_and_bad_payloads():
    with pytest.raises(ValueError, match="unknown event type"):
        make_event("post.shared", 1, 1, {})
    with pytest.raises(MalformedEvent, match="payload.post_id: missing"):
        make_event("post.liked", 1, 1, {})


# ---- consumers parse with it -------------------------------------------------------------
def test_schemas_and_decode_reject_what_consumers_could_not_use():
    event = liked_event()
    for broken in (
        dict(event, version=2),
        dict(event, key="post-42"),
        dict(event, occurred_at="2026-11-27T14:32:42"),  # no UTC offset
        dict(event, payload={k: v for k, v in event["payload"].items() if k != "post_author_id"}),
        dict(event, payload=dict(event["payload"], user_id="8")),
        dict(event, extra=True),
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate_event(broken)
        with pytest.raises(ev.InvalidEvent):
            ev.decode(json.dumps(broken))


def encoded(**changes):
    return json.dumps(dict(liked_event(), **changes)).encode()


@pytest.mark.parametrize("raw, kind, reason", [
    (b"", ev.NOT_JSON, "empty message"),
    (None, ev.NOT_JSON, "empty message"),
    (b"{not json", ev.NOT_JSON, "not JSON"),
    (b"\xff\xfe", ev.NOT_JSON, "not JSON"),
    (b"[1, 2]", ev.NOT_JSON, "not a JSON object"),
    (b'{"type": "post.liked"}', ev.BAD_ENVELOPE, "missing envelope fields ['event_id', 'version'"),
    (encoded(type="post.shared"), ev.UNKNOWN_TYPE, "unknown event type 'post.shared'"),
    (encoded(type=7), ev.BAD_ENVELOPE, "type: Expected `str`, got `int`"),
    (encoded(version=2), ev.UNSUPPORTED_VERSION, "unsupported version 2 of post.liked"),
    (encoded(version="1"), ev.BAD_ENVELOPE, "version: Expected `int`, got `str`"),
    (encoded(event_id="42"), ev.BAD_ENVELOPE, "event_id: Invalid UUID"),
    (encoded(actor_id="7"), ev.BAD_ENVELOPE, "actor_id: Expected `int | null`, got `str`"),
    (encoded(occurred_at="yesterday"), ev.BAD_ENVELOPE, "occurred_at: Invalid RFC3339"),
    (encoded(extra=1), ev.BAD_ENVELOPE, "unknown envelope field `extra`"),
    (encoded(payload=[]), ev.BAD_PAYLOAD, "payload: Expected `object`, got `array`"),
    (encoded(payload={"post_id": 42}), ev.BAD_PAYLOAD, "payload.post_author_id: missing"),
    (encoded(payload=dict(SAMPLE_PAYLOADS["post.liked"], post_id="42")), ev.BAD_PAYLOAD,
     "payload.post_id: Expected `int`, got `str`"),
])
def test_decode_names_the_kind_and_the_reason(raw, kind, reason):
    with pytest.raises(ev.InvalidEvent) as refused:
        ev.decode(raw)
    assert refused.value.kind == kind
    assert refused.value.reason.startswith(reason), refused.value.reason


def test_decode_reads_any_offset_and_ignores_unknown_payload_fields():
    event = liked_event()
    shifted = dict(event, occurred_at="2026-03-01T14:00:05.000001+02:00",
                   payload=dict(event["payload"], added_in_a_later_release=True))
    typed = ev.decode(json.dumps(shifted))
    assert typed.occurred_at == datetime(2026, 3, 1, 12, 0, 5, 1, tzinfo=timezone.utc)
    assert typed.payload == ev.PostLiked(**SAMPLE_PAYLOADS["post.liked"])
    assert isinstance(typed.event_id, uuid.UUID)


def test_new_event_keeps_a_given_time_and_id():
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    event_id = uuid.uuid4()
    event = ev.new_event(ev.UserLoggedIn(user_id=1, username="a"), 1, 1, occurred_at=when,
                         event_id=event_id)
    assert event.event_id == event_id and event.occurred_at == when
    assert re.search(r'"occurred_at":"2026-01-02T02:04:05\+00:00"', ev.encode(event).decode())


def test_reasons_stay_short_whatever_the_message():
    huge = "x" * 100_000
    for raw in (encoded(type=huge), encoded(**{huge: 1}),
                encoded(payload=dict(SAMPLE_PAYLOADS["post.liked"], post_title=[huge]))):
        with pytest.raises(ev.InvalidEvent) as refused:
            ev.decode(raw)
        assert len(refused.value.reason) <= 503 and len(refused.value.type or "") <= 500
