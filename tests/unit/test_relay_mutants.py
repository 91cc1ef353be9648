"""The outbox relay (imageboard/events/relay.py) without PostgreSQL or Kafka: its SQL, its
producer and its clock are fakes, so every decision it takes (who publishes, which rows are
marked sent, when a broker outage is replayed, how long it backs off) is checked exactly.
Written to kill the mutants mutmut left alive (`make mutate`, docs/robustness.md "Mutation
testing"); tests/integration/test_outbox_relay.py runs the same code against the real
servers."""
import logging
import zlib

import psycopg2
import pytest
from confluent_kafka import KafkaError, KafkaException

from imageboard import metrics
from imageboard.config import topic
from imageboard.events import relay as relay_module
from imageboard.events.kafka import TopicsUnavailable
from imageboard.events.relay import PRUNE_INTERVAL, OutboxRelay, Relay

CONFIG = {"OUTBOX_POLL_INTERVAL": 2.5, "OUTBOX_COALESCE_SECONDS": 0.25,
          "OUTBOX_REPLAY_SECONDS": 120.0, "OUTBOX_RETENTION_DAYS": 7.0,
          "KAFKA_MESSAGE_TIMEOUT_MS": 3000, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
          "POSTGRES_URL": "postgresql://relay:pw@127.0.0.1:1/", "DB_PREFIX": "mutants"}


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


class FakeError:
    def __init__(self, code=KafkaError._MSG_TIMED_OUT, fatal=False, text="boom"):
        self._code, self._fatal, self._text = code, fatal, text

    def code(self):
        return self._code

    def fatal(self):
        return self._fatal

    def str(self):
        return self._text

    def __str__(self):
        return self._text


class FakeProducer:
    """Delivery reports arrive on poll(), as with librdkafka; `fail` names the rows (by
    value) whose report is an error, `lost` those that never get one."""

    def __init__(self, fail=(), lost=(), buffer_full=0, broken=False):
        self.fail, self.lost = set(fail), set(lost)
        self.buffer_full, self.broken = buffer_full, broken
        self.produced, self.pending, self.polls, self.purged = [], [], 0, []

    def produce(self, topic_name, key=None, value=None, on_delivery=None):
        if self.broken:
            raise KafkaException(FakeError(text="fatal state"))
        if self.buffer_full:
            self.buffer_full -= 1
            raise BufferError("queue full")
        self.produced.append((topic_name, key, value))
        if value not in self.lost:
            self.pending.append((on_delivery, FakeError() if value in self.fail else None))

    def poll(self, timeout):
        assert timeout == 0  # never a blocking poll on the hub
        self.polls += 1
        pending, self.pending = self.pending, []
        for callback, error in pending:
            callback(error, None)
        return len(pending)

    def purge(self, **kwargs):
        self.purged.append(kwargs)


class Statements:
    """Stands in for Relay._query: records (sql, params) and answers by the SQL's start."""

    def __init__(self, answers=None):
        self.calls, self.answers = [], dict(answers or {})

    def __call__(self, sql, params=()):
        self.calls.append((sql, params))
        for start, answer in self.answers.items():
            if sql.startswith(start):
                return answer(params) if callable(answer) else answer
        return 0

    def sql(self):
        return [sql for sql, _ in self.calls]


@pytest.fixture
def clock(monkeypatch):
    wall, mono = Clock(1_700_000_000.0), Clock(5000.0)
    monkeypatch.setattr(relay_module.time, "time", wall)
    monkeypatch.setattr(relay_module.time, "monotonic", mono)
    return wall, mono


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(relay_module.eventlet, "sleep", lambda seconds=0: slept.append(seconds))
    return slept


def leader(rows=(), service="users", batch_size=500, **answers):
    relay = Relay(CONFIG, service, batch_size=batch_size)
    relay.is_leader, relay.topics_ready = True, True
    relay._pending_counted_at = relay._pruned_at = float("inf")  # not due in these tests
    statements = Statements({"SELECT id, topic": list(rows), **answers})
    relay._query = statements
    relay.producer = FakeProducer()
    return relay, statements


def counter(metric, *labels):
    return metric.labels(*labels)._value.get()


def logged(caplog, message):
    """The one record with exactly this message (a log line operators grep for)."""
    (record,) = [r for r in caplog.records if r.getMessage() == message]
    return record


# -- construction ----------------------------------------------------------------------

def test_a_new_relay_reads_its_settings_and_starts_as_nobody():
    relay = Relay(CONFIG, "posts")
    assert (relay.config, relay.service, relay.batch_size) == (CONFIG, "posts", 500)
    assert (relay.poll_interval, relay.coalesce, relay.replay_seconds, relay.retention_days,
            relay.message_timeout) == (2.5, 0.25, 120.0, 7.0, 3.0)
    assert relay.lock_id == zlib.crc32(b"outbox-relay:posts")
    assert relay.lock_id != Relay(CONFIG, "users").lock_id  # one lock per service
    assert relay.conn is None and relay.producer is None and relay.admin is None
    assert relay.is_leader is False and relay.topics_ready is False
    assert relay.broker_down_since is None and relay.pending is None
    assert relay.published_total == 0 and relay.failed_total == 0
    assert relay._pending_counted_at is None and relay._pruned_at is None
    assert Relay(CONFIG, "posts", batch_size=7).batch_size == 7


# -- PostgreSQL: connection, lock, pending count, waiting ----------------------------------

class FakeCursor:
    def __init__(self, conn, description=None, rows=(), rowcount=0):
        self.conn, self.description, self.rows, self.rowcount = conn, description, rows, rowcount

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, params=()):
        self.conn.executed.append((sql, params))

    def fetchall(self):
        return list(self.rows)

    def fetchone(self):
        return self.rows[0]


class FakeConn:
    def __init__(self, description=None, rows=(), rowcount=0):
        self.closed, self.autocommit, self.executed, self.notifies = 0, False, [], []
        self.polls, self.close_calls = 0, 0
        self.cursor_args = dict(description=description, rows=rows, rowcount=rowcount)
        self.on_poll = None

    def cursor(self):
        return FakeCursor(self, **self.cursor_args)

    def poll(self):
        self.polls += 1
        if self.on_poll:
            self.on_poll(self)

    def close(self):
        self.close_calls += 1
        self.closed = 1


class Connections(list):
    cursor_args = {}

    def connect(self, **kwargs):
        conn = FakeConn(**self.cursor_args)
        conn.kwargs = kwargs
        self.append(conn)
        return conn


@pytest.fixture
def connections(monkeypatch):
    made = Connections()
    monkeypatch.setattr(relay_module.psycopg2, "connect", made.connect)
    return made


def test_the_connection_is_autocommit_listens_and_is_reused_until_closed(connections):
    relay = Relay(CONFIG, "users")
    relay.is_leader = True
    conn = relay._connection()
    assert conn is relay.conn and conn.autocommit is True
    assert conn.executed == [("LISTEN outbox", ())]
    assert relay.is_leader is False  # a new session holds no advisory lock yet
    assert conn.kwargs == {"dbname": "mutants_users", "host": "127.0.0.1", "port": 1,
                           "user": "relay", "password": "pw", "connect_timeout": 3}
    relay.is_leader = True
    assert relay._connection() is conn and len(connections) == 1 and relay.is_leader is True
    conn.closed = 1
    assert relay._connection() is not conn and len(connections) == 2


def test_query_returns_rows_for_a_select_and_the_row_count_otherwise(connections):
    relay = Relay(CONFIG, "users")
    relay.conn = FakeConn(description=[("id",)], rows=[(1,), (2,)])
    assert relay._query("SELECT 1", (5,)) == [(1,), (2,)]
    assert relay.conn.executed[-1] == ("SELECT 1", (5,))
    relay.conn = FakeConn(rowcount=3)
    assert relay._query("UPDATE x") == 3
    assert relay.conn.executed[-1] == ("UPDATE x", ())


def test_only_the_holder_of_the_advisory_lock_leads_and_it_asks_once():
    relay = Relay(CONFIG, "users")
    statements = Statements({"SELECT pg_try_advisory_lock": [(False,)]})
    relay._query = statements
    assert relay._lead() is False
    statements.answers["SELECT pg_try_advisory_lock"] = [(True,)]
    assert relay._lead() is True and relay._lead() is True
    assert statements.calls == [("SELECT pg_try_advisory_lock(%s)", (relay.lock_id,))] * 2


def test_pending_count_uses_a_connection_of_its_own_and_closes_it(connections):
    connections.cursor_args = {"rows": [(42,)]}
    relay = Relay(CONFIG, "users")
    assert relay.pending_count() == 42
    (conn,) = connections
    assert conn.executed == [("SELECT count(*) FROM outbox WHERE published_at IS NULL", ())]
    assert conn.close_calls == 1 and relay.conn is None
    assert conn.kwargs == {"dbname": "mutants_users", "host": "127.0.0.1", "port": 1,
                           "user": "relay", "password": "pw", "connect_timeout": 3}


def test_waiting_sleeps_on_the_socket_then_lets_a_burst_of_commits_land(monkeypatch, sleeps):
    relay = Relay(CONFIG, "users")
    relay.conn = conn = FakeConn()
    selected = []
    monkeypatch.setattr(relay_module.select, "select",
                        lambda r, w, x, timeout: selected.append((r, w, x, timeout)))
    relay.wait_for_work(2.5)  # nothing arrives: one select, no coalescing sleep
    assert selected == [([conn], [], [], 2.5)] and conn.polls == 1 and sleeps == []

    conn.on_poll = lambda c: c.notifies.append("outbox")
    relay.wait_for_work(2.5)  # a NOTIFY: wait OUTBOX_COALESCE_SECONDS, poll again, clear
    assert len(selected) == 2 and sleeps == [0.25] and conn.polls == 3 and conn.notifies == []

    conn.on_poll = None
    conn.notifies.append("already here")
    relay.wait_for_work(2.5)  # already notified: no select at all
    assert len(selected) == 2 and sleeps == [0.25, 0.25] and conn.notifies == []

    relay.coalesce = 0
    conn.notifies.append("no coalescing")
    relay.wait_for_work(2.5)
    assert sleeps == [0.25, 0.25] and conn.notifies == []


# -- Kafka: errors, producer, topics --------------------------------------------------------

def test_all_brokers_down_starts_the_outage_clock_once(clock, caplog):
    wall, _ = clock
    relay = Relay(CONFIG, "users")
    relay.producer = producer = FakeProducer()
    relay._on_error(FakeError(code=KafkaError._MSG_TIMED_OUT))
    assert relay.broker_down_since is None and relay.producer is producer
    relay._on_error(FakeError(code=KafkaError._ALL_BROKERS_DOWN))
    assert relay.broker_down_since == wall.now
    wall.now += 30
    relay._on_error(FakeError(code=KafkaError._ALL_BROKERS_DOWN))
    assert relay.broker_down_since == wall.now - 30  # the outage began at the first report
    assert relay.producer is producer
    record = logged(caplog, "kafka broker unreachable; outbox rows wait")  # once, not twice
    assert record.levelno == logging.WARNING and record.service == "users"


def test_a_fatal_producer_error_drops_the_producer(caplog):
    relay = Relay(CONFIG, "users")
    relay.producer = FakeProducer()
    relay._on_error(FakeError(fatal=True, text="fenced"))
    assert relay.producer is None and relay.broker_down_since is None
    record = logged(caplog, "fatal producer error; recreating the producer")
    assert record.levelno == logging.ERROR and record.error == "fenced"


def test_the_producer_is_made_once_with_the_error_callback(monkeypatch):
    made = []
    monkeypatch.setattr(relay_module, "Producer", lambda conf: made.append(conf) or object())
    relay = Relay(CONFIG, "users")
    first = relay._producer()
    assert relay._producer() is first and len(made) == 1
    assert made[0]["error_cb"] == relay._on_error
    assert made[0]["enable.idempotence"] is True and made[0]["acks"] == "all"


def test_topics_are_ensured_with_one_admin_client(monkeypatch):
    admins, calls = [], []
    monkeypatch.setattr(relay_module, "AdminClient", lambda conf: admins.append(conf) or object())
    monkeypatch.setattr(relay_module, "ensure_topics",
                        lambda config, timeout, admin: calls.append((config, timeout, admin)))
    relay = Relay(CONFIG, "users")
    relay._ensure_topics()
    relay._ensure_topics()
    assert admins == [relay_module.client_config(CONFIG)] and relay.topics_ready is True
    assert calls == [(CONFIG, 5, relay.admin)] * 2


def test_dropping_the_producer_purges_without_blocking():
    relay = Relay(CONFIG, "users")
    relay.producer = producer = FakeProducer()
    relay._drop_producer()
    assert relay.producer is None
    assert producer.purged == [{"in_queue": True, "in_flight": True, "blocking": False}]
    assert producer.polls == 1
    relay._drop_producer()  # nothing to drop: no error


# -- publishing --------------------------------------------------------------------------

ROWS = [(1, "post-events", b"7", b"a"), (2, "post-events", b"7", b"b"),
        (3, "user-events", b"9", b"c")]


def test_publish_sends_each_row_to_its_prefixed_topic_and_reports_the_delivered(sleeps):
    relay, _ = leader()
    ok, failed = relay._publish(ROWS)
    assert (sorted(ok), failed) == ([1, 2, 3], 0)
    assert relay.producer.produced == [(topic(CONFIG, "post-events"), b"7", b"a"),
                                       (topic(CONFIG, "post-events"), b"7", b"b"),
                                       (topic(CONFIG, "user-events"), b"9", b"c")]


def test_publish_keeps_failed_rows_out_of_the_delivered(sleeps, caplog):
    relay, _ = leader()
    relay.producer = FakeProducer(fail={b"b"})
    ok, failed = relay._publish(ROWS)
    assert (sorted(ok), failed) == ([1, 3], 1)
    warning = logged(caplog, "outbox events not delivered; will retry")
    assert warning.failed == 1 and warning.error == "boom" and warning.service == "users"


def test_publish_gives_up_on_reports_that_never_come_after_the_message_timeout(monkeypatch, sleeps,
                                                                              caplog):
    relay, _ = leader()
    relay.producer = FakeProducer(lost={b"c"})
    mono = Clock(100.0)
    monkeypatch.setattr(relay_module.time, "monotonic", mono)

    def sleep(seconds=0):
        sleeps.append(seconds)
        mono.now += 1.0
    monkeypatch.setattr(relay_module.eventlet, "sleep", sleep)
    ok, failed = relay._publish(ROWS)
    assert (sorted(ok), failed) == ([1, 2], 1)
    # message timeout (3 s) + 5 s of grace, one green sleep of 2 ms per round.
    assert len(sleeps) == 8 and set(sleeps) == {0.002}
    assert logged(caplog, "outbox events not delivered; will retry").error == "no delivery report"


def test_publish_waits_only_while_reports_are_missing(monkeypatch, sleeps):
    relay, _ = leader()
    relay.producer = producer = FakeProducer()
    ok, failed = relay._publish(ROWS)
    assert failed == 0 and producer.polls == 1 and sleeps == [0.002]


def test_a_full_local_queue_is_drained_and_the_row_sent_again(sleeps):
    relay, _ = leader()
    relay.producer = producer = FakeProducer(buffer_full=2)
    ok, failed = relay._publish(ROWS[:1])
    assert (ok, failed) == ([1], 0)
    assert producer.produced == [(topic(CONFIG, "post-events"), b"7", b"a")]
    assert sleeps[:2] == [0.01, 0.01]


def test_a_producer_in_a_fatal_state_fails_the_whole_batch_and_is_dropped(sleeps, caplog):
    relay, _ = leader()
    relay.producer = producer = FakeProducer(broken=True)
    assert relay._publish(ROWS) == ([], 3)
    assert relay.producer is None and producer.purged
    warning = logged(caplog, "producer failed; recreating it")
    assert warning.service == "users" and warning.error == "fatal state"


def test_the_replay_after_an_outage_unmarks_what_was_sent_just_before_it(caplog):
    relay, statements = leader(**{"UPDATE outbox SET published_at = NULL": 4})
    relay.broker_down_since = 10_000.0
    relay._replay_after_outage()
    assert statements.calls == [
        ("UPDATE outbox SET published_at = NULL WHERE published_at >= to_timestamp(%s)",
         (10_000.0 - 120.0,))]
    assert relay.broker_down_since is None
    warning = logged(caplog, "re-publishing events the broker may have lost")
    assert warning.events == 4 and warning.service == "users"


def test_a_replay_that_found_nothing_says_nothing(caplog):
    relay, _ = leader()
    relay.broker_down_since = 10_000.0
    relay._replay_after_outage()
    assert not [r for r in caplog.records if "re-publishing" in r.getMessage()]


# -- one round ---------------------------------------------------------------------------

def test_a_round_publishes_in_id_order_and_marks_exactly_the_delivered(sleeps):
    relay, statements = leader(ROWS, service="mutants_round", batch_size=50)
    relay.producer = FakeProducer(fail={b"b"})
    before = counter(metrics.OUTBOX_PUBLISHED, "mutants_round", "post-events")
    assert relay.run_once() == 2
    select, update = statements.calls
    assert select == ("SELECT id, topic, event_key, body FROM outbox WHERE published_at IS NULL "
                      "ORDER BY id LIMIT %s", (50,))
    assert update[0] == "UPDATE outbox SET published_at = now() WHERE id = ANY(%s)"
    assert sorted(update[1][0]) == [1, 3]
    assert (relay.published_total, relay.failed_total) == (2, 1)
    assert counter(metrics.OUTBOX_PUBLISHED, "mutants_round", "post-events") == before + 1
    assert counter(metrics.OUTBOX_PUBLISHED, "mutants_round", "user-events") >= 1
    # A failure: check the topics next round, with a fresh producer.
    assert relay.topics_ready is False and relay.producer is None


def test_a_clean_round_keeps_the_producer_and_counts_no_error(sleeps):
    relay, _ = leader(ROWS, service="mutants_clean")
    producer = relay.producer
    errors = counter(metrics.OUTBOX_PUBLISH_ERRORS, "mutants_clean")
    assert relay.run_once() == 3
    assert relay.producer is producer and relay.topics_ready is True
    assert (relay.published_total, relay.failed_total) == (3, 0)
    assert counter(metrics.OUTBOX_PUBLISH_ERRORS, "mutants_clean") == errors
    assert counter(metrics.OUTBOX_PUBLISHED, "mutants_clean", "post-events") == 2
    relay.producer = FakeProducer(fail={b"a"})
    assert relay.run_once() == 2  # the statements fake answers the same rows again
    assert (relay.published_total, relay.failed_total) == (5, 1)  # totals add up
    relay.producer, relay.topics_ready = FakeProducer(fail={b"b"}), True  # as after a check
    assert relay.run_once() == 2
    assert (relay.published_total, relay.failed_total) == (7, 2)


def test_failed_rows_are_counted_as_publish_errors(sleeps):
    relay, _ = leader(ROWS, service="mutants_errors")
    relay.producer = FakeProducer(fail={b"a", b"c"})
    relay.run_once()
    assert counter(metrics.OUTBOX_PUBLISH_ERRORS, "mutants_errors") == 2
    assert counter(metrics.OUTBOX_PUBLISHED, "mutants_errors", "user-events") == 0


def test_nothing_delivered_marks_nothing(sleeps):
    relay, statements = leader(ROWS)
    relay.producer = FakeProducer(fail={b"a", b"b", b"c"})
    assert relay.run_once() == 0
    assert [sql for sql in statements.sql() if sql.startswith("UPDATE")] == []


def test_an_empty_outbox_publishes_nothing(sleeps):
    relay, statements = leader([])
    producer = relay.producer
    assert relay.run_once() == 0
    assert len(statements.calls) == 1 and producer.produced == [] and relay.producer is producer


def test_a_follower_polls_its_producer_and_touches_no_row():
    relay = Relay(CONFIG, "users")
    relay.producer = producer = FakeProducer()
    statements = Statements({"SELECT pg_try_advisory_lock": [(False,)]})
    relay._query = statements
    assert relay.run_once() == 0
    assert producer.polls == 1 and statements.sql() == ["SELECT pg_try_advisory_lock(%s)"]
    assert relay.pending is None


def test_the_first_round_ensures_the_topics(monkeypatch, sleeps):
    relay, _ = leader(ROWS)
    relay.topics_ready = False
    ensured = []
    monkeypatch.setattr(relay, "_ensure_topics", lambda: ensured.append(1))
    assert relay.run_once() == 3 and ensured == [1]


def test_the_round_after_an_outage_replays_with_a_fresh_producer(monkeypatch, sleeps):
    relay, statements = leader(ROWS, **{"UPDATE outbox SET published_at = NULL": 2})
    relay.broker_down_since = 50_000.0
    old = relay.producer
    made = []
    monkeypatch.setattr(relay_module, "Producer", lambda conf: made.append(FakeProducer()) or made[-1])
    monkeypatch.setattr(relay, "_ensure_topics", lambda: None)
    assert relay.run_once() == 3
    assert old.purged and relay.broker_down_since is None
    sql = statements.sql()
    assert sql[0].startswith("UPDATE outbox SET published_at = NULL") and sql[1].startswith("SELECT id")
    assert made and made[0].produced  # the rows went out on the new producer


def test_topics_unavailable_during_an_outage_leaves_the_rows_unsent(monkeypatch):
    relay, statements = leader(ROWS)
    relay.broker_down_since = 50_000.0

    def unavailable():
        raise TopicsUnavailable("down")
    monkeypatch.setattr(relay, "_ensure_topics", unavailable)
    with pytest.raises(TopicsUnavailable):
        relay.run_once()
    assert statements.calls == [] and relay.broker_down_since == 50_000.0


def test_pending_is_counted_at_most_once_a_second(clock):
    _, mono = clock
    relay, statements = leader([], **{"SELECT count(*)": [(17,)]})
    relay._pending_counted_at = None
    relay._count_pending()
    assert relay.pending == 17 and relay._pending_counted_at == mono.now
    statements.answers["SELECT count(*)"] = [(18,)]
    mono.now += 0.999
    relay._count_pending()
    assert relay.pending == 17
    mono.now += 0.001
    relay._count_pending()
    assert relay.pending == 18
    assert statements.sql() == ["SELECT count(*) FROM outbox WHERE published_at IS NULL"] * 2


def test_the_leader_counts_pending_and_prunes_as_part_of_a_round(clock, sleeps):
    relay, statements = leader([], **{"SELECT count(*)": [(5,)]})
    relay._pending_counted_at = relay._pruned_at = None
    relay.run_once()
    sql = statements.sql()
    assert sql[0].startswith("SELECT count(*)") and sql[1].startswith("DELETE FROM outbox")
    assert relay.pending == 5


def test_prune_deletes_published_rows_past_the_retention_in_batches(monkeypatch, clock, caplog):
    caplog.set_level(logging.INFO, logger=relay_module.__name__)
    _, mono = clock
    calls = []

    def delete_older_than(query, table, key, age_column, days, batch_size):
        calls.append((query, table, key, age_column, days, batch_size))
        return 3
    monkeypatch.setattr(relay_module, "delete_older_than", delete_older_than)
    relay, statements = leader()
    relay._pruned_at = None
    assert relay._prune_published() == 3
    assert calls == [(statements, "outbox", "id", "published_at", 7.0, 10000)]
    assert relay._pruned_at == mono.now
    info = logged(caplog, "pruned published outbox events")
    assert info.deleted == 3 and info.service == "users"
    mono.now += PRUNE_INTERVAL - 1
    assert relay._prune_published() == 0 and len(calls) == 1  # not due yet
    mono.now += 1
    assert relay._prune_published(batch_size=5) == 3 and calls[-1][-1] == 5


def test_a_prune_that_deleted_nothing_logs_nothing(monkeypatch, clock, caplog):
    caplog.set_level(logging.INFO, logger=relay_module.__name__)
    monkeypatch.setattr(relay_module, "delete_older_than", lambda *args: 0)
    relay, _ = leader()
    relay._pruned_at = None
    assert relay._prune_published() == 0
    assert not [r for r in caplog.records if "pruned" in r.getMessage()]


# -- the loop ----------------------------------------------------------------------------

def rounds(outcomes):
    """should_run for as many rounds as `outcomes`; run_once follows them in turn."""
    left = list(outcomes)
    return left, (lambda: bool(left))


def test_the_loop_waits_only_when_a_round_did_not_fill_a_batch(monkeypatch, sleeps):
    relay = Relay(CONFIG, "users", batch_size=10)
    outcomes, should_run = rounds([10, 3, 0])
    waits = []
    monkeypatch.setattr(relay, "run_once", lambda: outcomes.pop(0))
    monkeypatch.setattr(relay, "wait_for_work", waits.append)
    relay.is_leader = True
    relay.run(should_run)
    assert waits == [2.5, 2.5] and sleeps == []


def test_a_follower_waits_five_poll_intervals(monkeypatch, sleeps):
    relay = Relay(CONFIG, "users")
    outcomes, should_run = rounds([0])
    waits = []
    monkeypatch.setattr(relay, "run_once", lambda: outcomes.pop(0))
    monkeypatch.setattr(relay, "wait_for_work", waits.append)
    relay.run(should_run)
    assert waits == [12.5]


def failing_rounds(monkeypatch, relay, outcomes):
    left, should_run = rounds(outcomes)

    def run_once():
        outcome = left.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome
    monkeypatch.setattr(relay, "run_once", run_once)
    monkeypatch.setattr(relay, "wait_for_work", lambda timeout: None)
    return should_run


def test_kafka_unavailable_backs_off_doubling_up_to_ten_seconds(monkeypatch, sleeps, caplog):
    relay = Relay(CONFIG, "mutants_loop")
    before = counter(metrics.OUTBOX_PUBLISH_ERRORS, "mutants_loop")
    down = TopicsUnavailable("no broker")
    should_run = failing_rounds(monkeypatch, relay, [down] * 7 + [0, down])
    relay.run(should_run)
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 10, 10, 0.5]  # a good round resets it
    assert counter(metrics.OUTBOX_PUBLISH_ERRORS, "mutants_loop") == before + 8
    warning = next(r for r in caplog.records if r.getMessage() == "kafka unavailable; outbox relay waiting")
    assert warning.error == "no broker" and warning.service == "mutants_loop"


def test_a_lost_database_connection_is_closed_and_retried_with_backoff(monkeypatch, sleeps, caplog):
    relay = Relay(CONFIG, "users")
    relay.conn, relay.is_leader = FakeConn(), True
    conn = relay.conn
    should_run = failing_rounds(monkeypatch, relay, [psycopg2.OperationalError("gone \n")] * 7)
    relay.run(should_run)
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 10, 10] and conn.close_calls == 1
    assert relay.conn is None and relay.is_leader is False
    warning = next(r for r in caplog.records
                   if r.getMessage() == "outbox relay lost its database connection")
    assert warning.error == "gone" and warning.service == "users"


def test_any_other_failure_is_logged_with_its_traceback_and_retried(monkeypatch, sleeps, caplog):
    relay = Relay(CONFIG, "users")
    should_run = failing_rounds(monkeypatch, relay, [ValueError("bug")] * 6)
    relay.run(should_run)
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 10]
    record = next(r for r in caplog.records if r.getMessage() == "outbox relay round failed")
    assert record.exc_info and record.service == "users"


def test_status_and_closing():
    relay = Relay(CONFIG, "users")
    relay.is_leader, relay.published_total, relay.failed_total = True, 5, 2
    assert relay.status() == {"service": "users", "leader": True, "published_total": 5,
                              "failed_total": 2, "broker_down": False}
    relay.broker_down_since = 1.0
    assert relay.status()["broker_down"] is True

    class Unclosable(FakeConn):
        def close(self):
            raise psycopg2.InterfaceError("already closed")
    relay.conn = Unclosable()
    relay.close_db()
    assert relay.conn is None and relay.is_leader is False
    relay.close_db()  # no connection: nothing to do

    relay.conn, relay.producer = FakeConn(), FakeProducer()
    conn, producer = relay.conn, relay.producer
    relay.close()
    assert conn.close_calls == 1 and producer.purged and relay.producer is None


# -- the nameko dependency -------------------------------------------------------------------

class FakeThread:
    def __init__(self, fn):
        self.fn, self.waited, self.killed = fn, 0, 0

    def wait(self):
        self.waited += 1

    def kill(self):
        self.killed += 1


class FakeContainer:
    def __init__(self, service_name="comments"):
        self.service_name, self.config, self.spawned = service_name, CONFIG, []

    def spawn_managed_thread(self, fn, identifier=None):
        self.spawned.append(identifier)
        self.thread = FakeThread(fn)
        return self.thread


@pytest.fixture
def provider(monkeypatch):
    watched = []

    def unwatch(fn):
        watched[:] = [w for w in watched if w[1] != fn]
    monkeypatch.setattr(relay_module.metrics, "watch_outbox", lambda s, fn: watched.append((s, fn)))
    monkeypatch.setattr(relay_module.metrics, "unwatch_outbox", unwatch)
    dep = OutboxRelay()
    dep.container = FakeContainer()
    dep.setup()
    dep.relay.close = lambda: setattr(dep.relay, "closed", True)
    dep.watched = watched
    return dep


class FakeTimeout:
    """eventlet.Timeout as stop() uses it: how long it waits, and that it does not raise."""
    made = []

    def __init__(self, seconds=None, exception=None):
        self.made.append((seconds, exception))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_the_dependency_runs_one_relay_for_its_service(provider, monkeypatch):
    monkeypatch.setattr(relay_module.eventlet, "Timeout", FakeTimeout)
    FakeTimeout.made = []
    assert OutboxRelay().relay is None
    assert provider.relay.service == "comments" and provider.relay.batch_size == 500
    assert provider._running is False and provider._thread is None
    provider.start()
    assert provider._running is True and provider.container.spawned == ["outbox_relay"]
    assert provider.watched == [("comments", provider._pending)]
    ran = []
    provider.relay.run = lambda should_run: ran.append(should_run())
    provider.container.thread.fn()
    assert ran == [True]
    assert provider.get_dependency(None) is provider
    provider.stop()
    assert provider._running is False and provider.watched == []
    assert provider.container.thread.waited == 1 and provider.container.thread.killed == 1
    assert provider.relay.closed is True
    # The current round may finish: up to the message timeout (3 s) and 10 s more, silently.
    assert FakeTimeout.made == [(13.0, False)]


def test_starting_exports_the_error_counter_at_zero(monkeypatch):
    monkeypatch.setattr(relay_module.metrics, "watch_outbox", lambda s, fn: None)
    dep = OutboxRelay()
    dep.container = FakeContainer("mutants_start")
    dep.setup()
    assert ("mutants_start",) not in metrics.OUTBOX_PUBLISH_ERRORS._metrics
    dep.start()
    assert ("mutants_start",) in metrics.OUTBOX_PUBLISH_ERRORS._metrics
    assert counter(metrics.OUTBOX_PUBLISH_ERRORS, "mutants_start") == 0


def test_a_named_dependency_and_its_batch_size(monkeypatch):
    dep = OutboxRelay("posts", batch_size=9)
    dep.container = FakeContainer()
    dep.setup()
    assert (dep.relay.service, dep.relay.batch_size) == ("posts", 9)


def test_kill_stops_the_thread_without_waiting(provider):
    provider.start()
    provider.kill()
    assert provider._running is False and provider.watched == []
    assert provider.container.thread.waited == 0 and provider.container.thread.killed == 1
    assert provider.relay.closed is True


def test_stop_and_kill_before_start_only_close(provider):
    provider.stop()
    assert provider.relay.closed is True
    provider.relay.closed = False
    provider.kill()
    assert provider.relay.closed is True


def test_only_the_leader_reports_pending(provider):
    provider.relay.pending = 12
    assert provider._pending() is None
    provider.relay.is_leader = True
    assert provider._pending() == 12


def test_status_adds_the_pending_count(provider, monkeypatch):
    monkeypatch.setattr(provider.relay, "pending_count", lambda: 3)
    assert provider.status() == dict(provider.relay.status(), pending=3)
