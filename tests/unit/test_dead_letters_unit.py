"""Dead letters without servers: a message the catalogue refuses (bad JSON, unknown type or
version, a payload that does not fit) goes to a dead-letter table with its kind and reason,
is counted, and its offset is committed only after that write; the consumer goes on.
Both consumers: the analytics pipeline (consumer.py) and the services' Kafka entrypoint."""
import json
from datetime import date

import pytest
from prometheus_client import REGISTRY

from analytics_pipeline import consumer as pipeline_consumer
from analytics_pipeline.rows import COLUMNS
from contracts import events as ev
from imageboard.events.dead_letters import REJECTED, DeadLetter, record_dead_letter
from imageboard.events.kafka_entrypoint import DeadLetterEntrypoint, KafkaEventConsumer
from tests import synthetic_events as syn


class FakeMessage:
    def __init__(self, value, topic="t-post-events", partition=0, offset=0, key=b"1"):
        self._value, self._topic, self._partition, self._offset = value, topic, partition, offset
        self._key = key

    def value(self):
        return self._value

    def key(self):
        return self._key

    def topic(self):
        return self._topic

    def partition(self):
        return self._partition

    def offset(self):
        return self._offset

    def error(self):
        return None


def good(post_id=1):
    return json.dumps(syn.post_created(post_id, 1, "alice", "t", syn.at(date(2026, 1, 1))))


def variants():
    """(value, kind, reason start) of each way a message can be refused."""
    event = json.loads(good())
    return [
        (b"{not json", ev.NOT_JSON, "not JSON"),
        (json.dumps(dict(event, type="post.shared")).encode(), ev.UNKNOWN_TYPE,
         "unknown event type 'post.shared'"),
        (json.dumps(dict(event, version=2)).encode(), ev.UNSUPPORTED_VERSION,
         "unsupported version 2 of post.created"),
        (json.dumps(dict(event, payload=dict(event["payload"], post_id="one"))).encode(),
         ev.BAD_PAYLOAD, "payload.post_id: Expected `int`, got `str`"),
        (json.dumps({k: v for k, v in event.items() if k != "key"}).encode(), ev.BAD_ENVELOPE,
         "missing envelope fields ['key']"),
    ]


def dead_lettered(topic, kind):
    return REGISTRY.get_sample_value("imageboard_pipeline_dead_lettered_total",
                                     {"topic": topic, "reason": kind}) or 0


# ---- the analytics pipeline -----------------------------------------------------------
class FakeConsumer:
    def __init__(self, *_args, **_kwargs):
        self.committed, self.sought = [], []

    def commit(self, offsets, asynchronous):
        self.committed.append([(tp.topic, tp.partition, tp.offset) for tp in offsets])

    def seek(self, tp):
        self.sought.append((tp.topic, tp.partition, tp.offset))


class FakeSink:
    def __init__(self, fail_dead_letters=0):
        self.rows, self.letters, self.fail_dead_letters = {}, [], fail_dead_letters
        self.calls = []

    def write_batch(self, batch):
        self.write(batch.rows)

    def write(self, rows_by_table):
        self.calls.append("rows")
        for table, rows in rows_by_table.items():
            self.rows.setdefault(table, []).extend(rows)

    def write_dead_letters(self, dead_letters):
        self.calls.append("dead_letters")
        if self.fail_dead_letters:
            self.fail_dead_letters -= 1
            raise ConnectionError("clickhouse went away")
        self.letters.extend(dead_letters)


@pytest.fixture
def pipeline(config, monkeypatch):
    monkeypatch.setattr(pipeline_consumer, "Consumer", FakeConsumer)

    def make(sink):
        return pipeline_consumer.Pipeline(dict(config, KAFKA_TOPIC_PREFIX="t-"), sink,
                                          retry_seconds=0.001)
    return make


def test_the_pipeline_dead_letters_refused_messages_and_stores_the_rest(pipeline):
    sink = FakeSink()
    p = pipeline(sink)
    refused = variants()
    before = {kind: dead_lettered("t-post-events", kind) for _, kind, _ in refused}
    p.batch.add(FakeMessage(good(1).encode(), offset=10))
    for i, (value, _, _) in enumerate(refused):
        p.batch.add(FakeMessage(value, offset=11 + i, key=b"k%d" % i))
    p.batch.add(FakeMessage(good(2).encode(), offset=20))
    assert p.flush() is True

    assert [row[COLUMNS["posts"].index("post_id")] for row in sink.rows["posts"]] == [1, 2]
    assert sink.calls == ["rows", "dead_letters"]
    assert [(m.offset(), m.key(), m.value(), exc.kind) for m, exc in sink.letters] == [
        (11 + i, b"k%d" % i, value, kind) for i, (value, kind, _) in enumerate(refused)]
    for (_, exc), (_, _, reason) in zip(sink.letters, refused):
        assert exc.reason.startswith(reason), exc.reason
    assert sink.letters[1][1].event_type == "post.shared"
    assert p.consumer.committed == [[("t-post-events", 0, 21)]]  # all of it, after the letters
    for _, kind, _ in refused:
        assert dead_lettered("t-post-events", kind) == before[kind] + 1


def test_no_commit_until_the_dead_letters_are_written(pipeline):
    sink = FakeSink(fail_dead_letters=1)
    p = pipeline(sink)
    p.batch.add(FakeMessage(good(1).encode(), offset=5))
    p.batch.add(FakeMessage(b"{not json", offset=6))
    assert p.flush() is False
    assert p.consumer.committed == [] and p.consumer.sought == [("t-post-events", 0, 5)]
    assert sink.letters == []


def test_the_sink_writes_the_message_as_received():
    class Client:
        def execute(self, sql, columns, columnar):
            self.sql, self.columns = sql, columns

    sink = pipeline_consumer.ClickHouseSink(Client())
    refused = ev.InvalidEvent(ev.NOT_JSON, "not JSON: x")
    from analytics_pipeline.rows import Malformed
    sink.write_dead_letters([(FakeMessage(b"\xff\xfe", offset=3, key=None),
                              Malformed(refused.kind, refused.reason))])
    assert sink.client.sql.startswith("INSERT INTO dead_letters (`failed_at`, `topic`")
    row = dict(zip(COLUMNS["dead_letters"], [column[0] for column in sink.client.columns]))
    assert row["value"] == b"\xff\xfe" and row["key"] == b"" and row["offset"] == 3
    assert (row["kind"], row["reason"], row["event_type"]) == ("not_json", "not JSON: x", "")


# ---- the services' Kafka entrypoint ------------------------------------------------------
class FakeContainer:
    """Runs workers at once: on_event(event) and on_dead_letter(letter) are plain functions."""

    service_name = "notifications"

    def __init__(self, on_event, on_dead_letter, entrypoints=()):
        self.config = {"KAFKA_TOPIC_PREFIX": "t-"}
        self.on_event, self.on_dead_letter = on_event, on_dead_letter
        self.entrypoints = list(entrypoints)

    def spawn_worker(self, entrypoint, args, kwargs, context_data, handle_result):
        run = self.on_dead_letter if isinstance(entrypoint, DeadLetterEntrypoint) else self.on_event
        try:
            result, exc_info = run(*args), None
        except Exception as exc:
            result, exc_info = None, (type(exc), exc, None)
        handle_result(None, result, exc_info)


class OffsetStore:
    def __init__(self):
        self.stored = []

    def store_offsets(self, message):
        self.stored.append(message.offset())


def entrypoint(on_event, on_dead_letter):
    consumer = KafkaEventConsumer(["post-events"])
    consumer.container = FakeContainer(on_event, on_dead_letter)
    consumer.method_name = "on_event"
    consumer.group_id = "t-notifications"
    consumer.dead_letter_entrypoint = DeadLetterEntrypoint()
    consumer.consumer = OffsetStore()
    consumer.retry_max = 0.01
    consumer._running = True
    return consumer


def service_letters(kind):
    return REGISTRY.get_sample_value("imageboard_kafka_dead_lettered_total", {
        "component": "notifications", "topic": "post-events", "reason": kind}) or 0


@pytest.mark.parametrize("value, kind, reason", variants())
def test_a_refused_message_is_stored_as_a_dead_letter_before_its_offset(value, kind, reason):
    handled, letters = [], []
    consumer = entrypoint(handled.append, letters.append)
    before = service_letters(kind)
    consumer._handle(FakeMessage(value, offset=7))
    consumer._handle(FakeMessage(good().encode(), offset=8))  # and it goes on
    [letter] = letters
    assert isinstance(letter, DeadLetter)
    assert (letter.consumer, letter.topic, letter.partition, letter.offset, letter.value,
            letter.kind) == ("t-notifications", "t-post-events", 0, 7, value, kind)
    assert letter.reason.startswith(reason)
    assert [e.payload.post_id for e in handled] == [1]
    assert consumer.consumer.stored == [7, 8]
    assert service_letters(kind) == before + 1


def test_a_dead_letter_that_cannot_be_written_is_retried_not_skipped():
    attempts, stored = [], []

    def store(letter):
        attempts.append(letter)
        if len(attempts) < 3:
            raise ConnectionError("database down")
        stored.append(letter)
    consumer = entrypoint(lambda event: None, store)
    consumer._handle(FakeMessage(b"{not json", offset=4))
    assert len(attempts) == 3 and len(stored) == 1 and consumer.consumer.stored == [4]


def test_an_event_its_handler_refuses_is_a_rejected_dead_letter():
    letters = []

    def handler(event):
        raise ValueError("cannot use this")
    consumer = entrypoint(handler, letters.append)
    consumer._handle(FakeMessage(good().encode(), offset=9))
    [letter] = letters
    assert letter.kind == REJECTED and "cannot use this" in letter.reason
    assert letter.event_type == "post.created" and letter.event_id
    assert consumer.consumer.stored == [9]


def test_a_service_that_consumes_without_a_dead_letter_method_does_not_start():
    consumer = KafkaEventConsumer(["post-events"])
    consumer.container = FakeContainer(None, None, entrypoints=[consumer])
    consumer.method_name = "on_event"
    with pytest.raises(RuntimeError, match="@dead_letters"):
        consumer.setup()


def test_a_service_dead_letter_row_keeps_the_raw_bytes():
    class Database:
        def execute_sql(self, sql, params):
            self.sql, self.params = sql, params

    db = Database()
    letter = DeadLetter.of("t-notifications", FakeMessage(b"\xff", offset=2), ev.NOT_JSON, "not JSON")
    record_dead_letter(db, letter)
    assert db.sql.startswith("INSERT INTO dead_letters")
    assert db.params == ("t-notifications", "t-post-events", 0, 2, b"1", b"\xff", "not_json",
                         "not JSON", None, None)
