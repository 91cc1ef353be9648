"""The analytics pipeline and service over the real Kafka broker (tansu) and ClickHouse:
synthetic events in the documented envelope go through Kafka, the pipeline and ClickHouse,
and the service's answers are compared with the truth computed from the same actions."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import requests
from confluent_kafka import Consumer, Producer, TopicPartition
from nameko.standalone.rpc import ServiceRpcProxy

from tests import synthetic_events as syn
from analytics_store.client import database_name, make_client
from analytics_pipeline.consumer import ClickHouseSink, Pipeline, group_id, source_topics
from analytics_store.schema import migrate as migrate_clickhouse
from imageboard import PROJECT_ROOT
from imageboard.config import topic
from contracts.errors import BadRequest, ServiceUnavailable
from imageboard.timefmt import utcnow
from services.analytics.exceptions import AnalyticsUserNotFound, InvalidPeriod
from services.analytics.service import AnalyticsService
from services.users.service import UsersService
from analytics_pipeline.rows import parse, rows_for
from tests.analytics_reference import reference_posts_stats
from tests.analytics_truth import Truth, rounded
from tests.ports import free_port

pytestmark = pytest.mark.integration


def produce(config, events, raw=()):
    producer = Producer({"bootstrap.servers": config["KAFKA_BOOTSTRAP_SERVERS"], "acks": "all"})
    for event in events:
        name, key, value = syn.encode(event)
        producer.produce(topic(config, name), value, key=key)
    for name, value in raw:
        producer.produce(topic(config, name), value, key=b"1")
    assert producer.flush(15) == 0


def drain(pipeline, ch, expected_events, timeout=40):
    """Run the pipeline until `expected_events` distinct events are stored and committed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pipeline.step()
        if not pipeline.batch.size and stored(ch) >= expected_events:
            return
    raise AssertionError(f"only {stored(ch)} of {expected_events} events stored")


def stored(ch):
    return ch.execute("SELECT uniqExact(event_id) FROM events")[0][0]


@pytest.fixture
def pipeline(ch_config, ch):
    made = []

    def make(sink=None, **kwargs):
        p = Pipeline(ch_config, sink or ClickHouseSink(make_client(ch_config)), **kwargs)
        p.start()
        made.append(p)
        return p
    yield make
    for p in made:
        p.consumer.close()


@pytest.fixture
def analytics(ch_config, rabbit_config, container_factory, migrated):
    migrated("users")
    cfg = dict(ch_config, AMQP_URI=rabbit_config["AMQP_URI"])
    container_factory(UsersService, cfg).start()
    container_factory(AnalyticsService, cfg).start()
    with ServiceRpcProxy("analytics", cfg, timeout=20) as proxy:
        yield proxy


class Recorder:
    """Emits synthetic events for actions and records them in the Truth."""

    def __init__(self):
        self.truth, self.events = Truth(), []
        self.names, self.titles, self.authors = {}, {}, {}
        self.tick = 0

    def when(self, day):
        self.tick += 1  # distinct, increasing times within a day keep toggles in order
        return syn.at(day, 3600 + self.tick)

    def user(self, user_id, name, day):
        self.names[user_id] = name
        self.events.append(syn.user_registered(user_id, name, self.when(day)))

    def post(self, post_id, author, day):
        title = f"title {post_id}"
        self.titles[post_id], self.authors[post_id] = title, author
        self.truth.post(post_id, author, self.names[author], title, day)
        self.events.append(syn.post_created(post_id, author, self.names[author], title, self.when(day)))

    def like(self, post_id, user, day):
        liked = self.truth.toggle_like(post_id, user, day)
        self.events.append(syn.post_like(liked, post_id, self.authors[post_id], self.titles[post_id],
                                         user, self.names[user], self.truth.likes_count(post_id),
                                         self.when(day)))

    def comment(self, comment_id, post_id, user, day):
        self.truth.comment(post_id, user, day)
        self.events.append(syn.comment_created(comment_id, post_id, self.authors[post_id],
                                               self.titles[post_id], user, self.names[user],
                                               self.when(day)))

    def delete(self, post_id, day):
        self.truth.delete(post_id)
        author = self.authors[post_id]
        self.events.append(syn.post_deleted(post_id, author, self.titles[post_id], author,
                                            self.when(day)))


def scripted(today):
    """A small hand-made history across 60 days with every kind of action."""
    r, d = Recorder(), (lambda n: today - timedelta(days=n))
    for uid, name in ((1, "alice"), (2, "bob"), (3, "carol"), (4, "dave")):
        r.user(uid, name, d(60))
    r.post(1, 1, d(40))
    r.post(2, 1, d(10))
    r.post(3, 2, d(10))
    r.post(4, 2, d(3))
    r.post(5, 3, d(3))
    r.post(6, 1, d(0))
    r.like(2, 2, d(9))
    r.like(2, 3, d(8))
    r.like(2, 3, d(2))   # carol unlikes ...
    r.like(2, 3, d(1))   # ... and likes again: one standing like, dated d(1)
    r.like(3, 1, d(3))
    r.like(3, 1, d(3))   # liked and unliked the same day: nothing stands
    r.like(5, 4, d(2))   # on a post deleted below: does not count
    r.like(1, 1, d(35))  # outside the 30-day window
    r.like(4, 4, d(0))
    r.comment(1, 2, 2, d(9))
    r.comment(2, 3, 1, d(3))
    r.comment(3, 5, 3, d(2))  # on the deleted post
    r.comment(4, 1, 4, d(39))
    r.delete(5, d(1))
    return r


def random_history(today, seed, actions=1500):
    """Random actions over 60 days by 12 users, in time order."""
    rand, r = random.Random(seed), Recorder()
    for uid in range(1, 13):
        r.user(uid, f"user{uid}", today - timedelta(days=61))
    next_post, next_comment, live = 1, 1, []
    for i in range(actions):
        day = today - timedelta(days=60 - (60 * i) // actions)
        user, roll = rand.randint(1, 12), rand.random()
        if not live or roll < 0.2:
            r.post(next_post, user, day)
            live.append(next_post)
            next_post += 1
        elif roll < 0.75:
            r.like(rand.choice(live[-15:]), user, day)
        elif roll < 0.95:
            r.comment(next_comment, rand.choice(live[-15:]), user, day)
            next_comment += 1
        else:
            r.delete(live.pop(rand.randrange(len(live))), day)
    return r


def periods(today):
    d = lambda n: today - timedelta(days=n)  # noqa: E731
    # d(0) in the scripted history: a post without likes (the tie at zero likes).
    return [(d(10), d(0)), (d(40), d(40)), (d(3), d(3)), (d(0), d(0)), (d(60), d(0)), (d(25), d(11)),
            (today + timedelta(days=1), today + timedelta(days=5))]


def assert_answers_match(analytics, truth, today, users):
    for start, end in periods(today):
        got = analytics.posts_stats(start.isoformat(), end.isoformat())
        assert rounded(got) == rounded(truth.post_stats(start, end)), (start, end)
    for uid in users:
        assert analytics.user_activity(uid, uid) == truth.user_activity(uid, today), uid


def assert_matches_reference(analytics, ch, today):
    """The service's posts/stats equals the query-time deduplicating SQL of before 0006."""
    for start, end in periods(today) + [(today - timedelta(days=365), today)]:
        got = analytics.posts_stats(start.isoformat(), end.isoformat())
        assert rounded(got) == rounded(reference_posts_stats(ch, start, end)), (start, end)


def test_scripted_history_through_kafka_matches_truth(ch_config, ch, pipeline, analytics):
    today = utcnow().date()
    r = scripted(today)
    produce(ch_config, r.events)
    drain(pipeline(), ch, len(r.events))

    assert_answers_match(analytics, r.truth, today, users=(1, 2, 3, 4))
    # A few numbers by hand, so a mistake shared by Truth and the SQL would still show.
    stats = analytics.posts_stats((today - timedelta(days=10)).isoformat(), today.isoformat())
    assert stats["total_posts"] == 4 and stats["posts_per_day"] == pytest.approx(4 / 11)
    assert stats["likes_statistics"]["most_liked_post"] == {"post_id": 2, "title": "title 2",
                                                            "likes_count": 2}
    assert stats["most_active_users"][0] == {"user_id": 1, "username": "alice", "posts_count": 2}
    carol = analytics.user_activity(3, 3)
    assert (carol["posts_created"], carol["comments_written"], carol["likes_given"]) == (0, 0, 1)
    timeline = carol["activity_timeline"]
    assert len(timeline) == 30 and timeline[0]["date"] == (today - timedelta(days=29)).isoformat()
    assert timeline[-1]["date"] == today.isoformat() and timeline[-2]["likes"] == 1
    empty = analytics.posts_stats((today + timedelta(days=1)).isoformat(),
                                  (today + timedelta(days=1)).isoformat())
    assert empty["total_posts"] == 0 and empty["likes_statistics"]["most_liked_post"] is None
    # Dates ClickHouse cannot store are clamped, not silently read as 1970-01-01.
    assert analytics.posts_stats("1900-01-01", "1900-01-05")["total_posts"] == 0
    wide = analytics.posts_stats("2100-01-01", "2109-12-31")
    assert wide["total_posts"] == 0 and wide["period"]["end_date"] == "2109-12-31"
    assert analytics.posts_stats("1962-01-01", "1971-12-31")["total_posts"] == 0
    assert analytics.posts_stats((today - timedelta(days=3000)).isoformat(),
                                 (today + timedelta(days=600)).isoformat())["total_posts"] == 5


def test_random_history_with_redelivery_stays_exact(ch_config, ch, pipeline, analytics):
    today = utcnow().date()
    r = random_history(today, seed=5)
    produce(ch_config, r.events)
    p = pipeline()
    drain(p, ch, len(r.events))
    # The relay re-publishing, or the pipeline re-reading a batch, delivers copies later.
    copies = random.Random(1).sample(r.events, len(r.events) // 3)
    produce(ch_config, copies)
    deadline = time.monotonic() + 20
    while ch.execute("SELECT count() FROM events")[0][0] < len(r.events) + len(copies):
        assert time.monotonic() < deadline, "copies never arrived"
        p.step()
    raw, distinct = ch.execute("SELECT count(), uniqExact(event_id) FROM likes")[0]
    assert raw > distinct, "the copies must really be in the table, unmerged"
    rows, posts = ch.execute("SELECT count(), uniqExact(post_id) FROM post_likes")[0]
    assert rows > posts, "post_likes must really hold several rows per post, unmerged"
    assert_answers_match(analytics, r.truth, today, users=range(1, 13))
    assert_matches_reference(analytics, ch, today)


def test_toggles_in_one_second_and_late_copies_count_once(ch_config, ch, pipeline, analytics):
    """posts/stats reads each post's latest toggle from post_likes (migration 0005). A burst of
    toggles on one post within one second (microseconds apart), then copies of its early
    toggles delivered late (a relay re-send): the final count, before any merge, after
    OPTIMIZE, and after post_likes is rebuilt from the stored history by the migration."""
    today = utcnow().date()
    r = scripted(today)
    r.post(7, 4, today - timedelta(days=2))
    second, ticks = syn.at(today - timedelta(days=1), 50000), iter(range(1, 100))
    r.when = lambda day: second + timedelta(microseconds=next(ticks))
    for user in (1, 2, 3, 4, 2, 1, 2, 3):  # ends with 2 and 4 liking: 2 standing
        r.like(7, user, today - timedelta(days=1))
    burst = r.events[-8:]
    last_us = int(second.timestamp()) * 1_000_000 + 8
    produce(ch_config, r.events)
    p = pipeline()
    drain(p, ch, len(r.events))
    produce(ch_config, burst[:5])  # the early toggles again, after the latest one
    deadline = time.monotonic() + 20
    while ch.execute("SELECT count() FROM likes WHERE post_id = 7")[0][0] < 13:
        assert time.monotonic() < deadline, "copies never arrived"
        p.step()

    def post_7():
        return ch.execute("SELECT count(), argMax(likes_count, toggled_us), max(toggled_us) "
                          "FROM post_likes WHERE post_id = 7")[0]
    rows, likes, toggled = post_7()
    assert rows >= 2 and (likes, toggled) == (2, last_us)
    assert_answers_match(analytics, r.truth, today, users=(1, 2, 3, 4))
    week = analytics.posts_stats((today - timedelta(days=6)).isoformat(), today.isoformat())
    assert week["likes_statistics"]["most_liked_post"] == {"post_id": 7, "title": "title 7",
                                                           "likes_count": 2}

    ch.execute("OPTIMIZE TABLE post_likes FINAL")
    assert post_7() == (1, 2, last_us)
    assert_answers_match(analytics, r.truth, today, users=(1, 2, 3, 4))

    # A database upgraded to 0005 with this history: likes without occurred_us (its default
    # is the whole second), no post_likes. Every migration re-applied (each is idempotent);
    # 0005's backfill takes the microseconds from events.body.
    for table in ("post_likes_from_likes", "post_likes", "schema_migrations"):
        ch.execute(f"DROP TABLE {table}")
    ch.execute("ALTER TABLE likes DROP COLUMN occurred_us")
    assert len(migrate_clickhouse(ch_config)) == 9  # 0001-0006, 0007 (dead_letters), 0008 (erased_users), 0009 (moderation)
    assert post_7()[1:] == (2, last_us)
    assert_answers_match(analytics, r.truth, today, users=(1, 2, 3, 4))


def rows_of(events):
    """{table: [row]} as the pipeline builds a batch of these events."""
    rows = {}
    for offset, event in enumerate(events):
        name, _, value = syn.encode(event)
        for table, row in rows_for(parse(value), name, 0, offset):
            rows.setdefault(table, []).append(row)
    return rows


def test_batch_written_twice_and_events_resent_count_once(ch_config, ch, pipeline, analytics):
    """posts and post_deletions are made unique at write time and post_like_totals holds
    changes computed against what is stored (migration 0006): a batch written twice by the
    sink, events re-sent by the relay at new offsets, and copies left by an older pipeline
    (removed by the migration) must not count twice anywhere, before any merge."""
    today = utcnow().date()
    r = random_history(today, seed=23)
    produce(ch_config, r.events)
    p = pipeline()
    drain(p, ch, len(r.events))
    # A batch written twice: the same rows through the sink again (a crash before commit).
    batch = rows_of(random.Random(2).sample(r.events, len(r.events) // 2))
    p.sink.write(batch)
    p.sink.write(batch)
    # The relay re-sending: posts, deletions, likes again at new offsets, one batch each.
    kinds = ("post.created", "post.deleted", "post.liked", "post.unliked")
    copies = [e for e in r.events if e["type"] in kinds]
    produce(ch_config, copies)
    deadline = time.monotonic() + 20
    while ch.execute("SELECT count() FROM events")[0][0] < len(r.events) * 1.5 + len(copies) - 1:
        assert time.monotonic() < deadline, "copies never arrived"
        p.step()
    while p.batch.size:
        p.step()
    raw, distinct = ch.execute("SELECT count(), uniqExact(event_id) FROM likes")[0]
    assert raw > distinct, "the like copies must really be in the table, unmerged"
    for table in ("posts", "post_deletions"):
        assert ch.execute(f"SELECT count() - uniqExact(post_id) FROM {table}")[0][0] == 0, table
    # Per post, the sums equal the latest toggle's likes (0 and unknown once deleted).
    wrong = ch.execute("""
        SELECT post_id, likes, known, latest, deleted FROM
        (
            SELECT post_id, sum(likes) AS likes, sum(known) AS known,
                   post_id IN (SELECT post_id FROM post_deletions) AS deleted
            FROM post_like_totals GROUP BY post_id
        )
        ANY LEFT JOIN
        (SELECT post_id, greatest(argMax(likes_count, toggled_us), 0) AS latest
         FROM post_likes GROUP BY post_id) USING post_id
        WHERE (likes, known) != (if(deleted, 0, latest), if(deleted, 0, 1))""")
    assert wrong == []
    assert_answers_match(analytics, r.truth, today, users=range(1, 13))
    assert_matches_reference(analytics, ch, today)

    # Copies stored by a pipeline older than 0006 (it wrote posts without the check): the
    # migration removes them, and everything still counts once.
    ch.execute("INSERT INTO posts SELECT * FROM posts WHERE post_id % 3 = 0")
    ch.execute("INSERT INTO post_deletions SELECT * FROM post_deletions")
    assert ch.execute("SELECT count() > uniqExact(post_id) FROM posts")[0][0] == 1
    ch.execute("DROP TABLE schema_migrations")
    assert "0006_unique_posts" in migrate_clickhouse(ch_config)
    for table in ("posts", "post_deletions"):
        assert ch.execute(f"SELECT count() - uniqExact(post_id) FROM {table}")[0][0] == 0, table
    assert_answers_match(analytics, r.truth, today, users=range(1, 13))
    assert_matches_reference(analytics, ch, today)


class FailsBeforeLikes:
    """A ClickHouse client whose first INSERT INTO likes fails: the batch's posts and
    post_like_totals rows are written, its likes are not."""

    def __init__(self, client):
        self.client, self.failed = client, False

    def execute(self, sql, *args, **kwargs):
        if sql.startswith("INSERT INTO likes") and not self.failed:
            self.failed = True
            raise ConnectionError("clickhouse went away")
        return self.client.execute(sql, *args, **kwargs)


def test_a_retry_after_the_totals_landed_adds_nothing(ch_config, ch, pipeline, analytics):
    today = utcnow().date()
    r = scripted(today)
    produce(ch_config, r.events)
    p = pipeline(sink=ClickHouseSink(FailsBeforeLikes(make_client(ch_config))), retry_seconds=0.1)
    drain(p, ch, len(r.events))
    assert p.sink.client.failed
    assert_answers_match(analytics, r.truth, today, users=(1, 2, 3, 4))
    assert_matches_reference(analytics, ch, today)


def test_likes_and_deletions_without_their_post_keep_answers_exact(ch_config, ch, pipeline,
                                                                    analytics):
    """Ids inside a period's range whose post.created never arrived (dead-lettered, say):
    liked (post 8) and deleted (post 9). Their likes must not count, nor the deletion take
    a post from its author: posts/stats sees the sums disagree and asks by the set of the
    period's post ids."""
    today = utcnow().date()
    r = scripted(today)
    r.post(10, 3, today)
    orphans = [syn.post_like(True, 8, 1, "never seen", 99, "zed", 5, syn.at(today, 100)),
               syn.post_deleted(9, 1, "never seen", 1, syn.at(today, 200))]
    produce(ch_config, r.events + orphans)
    drain(pipeline(), ch, len(r.events) + len(orphans))
    assert ch.execute("SELECT sum(known), sum(likes) FROM post_like_totals "
                      "WHERE post_id = 8")[0] == (1, 5), "the orphan like is really summed"
    assert_answers_match(analytics, r.truth, today, users=(1, 2, 3, 4))
    assert_matches_reference(analytics, ch, today)


class FlakySink(ClickHouseSink):
    def __init__(self, client, failures):
        super().__init__(client)
        self.failures = failures

    def write(self, rows_by_table):
        if self.failures:
            # Half the batch lands, then "ClickHouse" fails: the retry must not double it.
            first = sorted(rows_by_table)[0]
            super().write({first: rows_by_table[first]})
            self.failures -= 1
            raise ConnectionError("clickhouse went away")
        super().write(rows_by_table)


def committed(config, group):
    """{topic: [committed offset of each partition]} (negative: nothing committed)."""
    consumer = Consumer({"bootstrap.servers": config["KAFKA_BOOTSTRAP_SERVERS"],
                         "group.id": group, "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(timeout=10).topics
        wanted = [TopicPartition(t, p) for t in source_topics(config) for p in metadata[t].partitions]
        offsets = {}
        for tp in consumer.committed(wanted, timeout=10):
            offsets.setdefault(tp.topic, []).append(tp.offset)
        return offsets
    finally:
        consumer.close()


def test_offsets_are_committed_only_after_the_write(ch_config, ch, pipeline):
    today = utcnow().date()
    r = scripted(today)
    produce(ch_config, r.events)
    p = pipeline(sink=FlakySink(make_client(ch_config), failures=2), retry_seconds=0.1)
    deadline = time.monotonic() + 30
    while p.sink.failures and time.monotonic() < deadline:
        p.step()
    assert p.sink.failures == 0
    # Two writes failed: nothing is committed yet, whatever landed half-way.
    assert all(o < 0 for parts in committed(ch_config, group_id(ch_config)).values() for o in parts)
    drain(p, ch, len(r.events))
    offsets = committed(ch_config, group_id(ch_config))
    # Every message of every partition is committed: the offsets sum to the messages sent.
    assert sum(max(o, 0) for o in offsets[topic(ch_config, "post-events")]) == sum(
        1 for e in r.events if e["type"].startswith("post."))
    assert stored(ch) == len(r.events)
    assert ch.execute("SELECT uniqExact(post_id), uniqExact(event_id) FROM posts")[0] == (6, 6)


def test_malformed_messages_are_dead_lettered_and_the_rest_flows(ch_config, ch, pipeline):
    """Refused messages on real topics land in ClickHouse's dead_letters table with their
    raw value, place and reason; the events after them (same partition: same key) are
    stored, and every offset is committed."""
    from prometheus_client import REGISTRY

    def letters_counted(kind):
        return REGISTRY.get_sample_value("imageboard_pipeline_dead_lettered_total", {
            "topic": topic(ch_config, "post-events"), "reason": kind}) or 0

    good = [syn.user_registered(1, "alice", utcnow()), syn.user_registered(2, "bob", utcnow())]
    bad_payload = syn.post_created(1, 1, "alice", "t", utcnow())
    bad_payload["payload"]["post_id"] = "one"
    no_id = syn.post_created(2, 1, "alice", "t", utcnow())
    del no_id["event_id"]
    future = syn.post_created(3, 1, "alice", "t", utcnow())
    future["version"] = 2
    unknown = dict(syn.post_created(4, 1, "alice", "t", utcnow()), type="post.shared")
    after = syn.post_created(5, 1, "alice", "after the bad ones", utcnow())
    after["key"] = "1"  # the raw messages' key: same partition, consumed after them
    counted = {kind: letters_counted(kind) for kind in
               ("not_json", "bad_payload", "bad_envelope", "unsupported_version", "unknown_type")}
    produce(ch_config, [good[0]], raw=[
        ("post-events", b"not json at all"),
        ("post-events", json.dumps(bad_payload).encode()),
        ("post-events", json.dumps(no_id).encode()),
        ("post-events", json.dumps(future).encode()),
        ("post-events", json.dumps(unknown).encode()),
        ("comment-events", b"\xff\xfe"),
    ])
    produce(ch_config, [good[1], after])
    p = pipeline()
    drain(p, ch, 3)
    assert ch.execute("SELECT username FROM users ORDER BY user_id") == [("alice",), ("bob",)]
    assert ch.execute("SELECT post_id, title FROM posts") == [(5, "after the bad ones")]

    letters = ch.execute("SELECT topic, partition, offset, key, value, kind, reason, event_type "
                         "FROM dead_letters ORDER BY topic, offset")
    assert len(letters) == 6
    by_kind = sorted((kind, reason.split(":")[0], event_type)
                     for _, _, _, _, _, kind, reason, event_type in letters)
    assert by_kind == [
        ("bad_envelope", "missing envelope fields ['event_id']", "post.created"),
        ("bad_payload", "payload.post_id", "post.created"),
        ("not_json", "not JSON", ""),
        ("not_json", "not JSON", ""),
        ("unknown_type", "unknown event type 'post.shared'", "post.shared"),
        ("unsupported_version", "unsupported version 2 of post.created (declared", "post.created"),
    ]
    assert all(t.startswith(ch_config["KAFKA_TOPIC_PREFIX"]) for t, *_ in letters)
    assert {(t, value) for t, _, _, _, value, *_ in letters} >= {
        (topic(ch_config, "post-events"), "not json at all"),
        (topic(ch_config, "comment-events"), b"\xff\xfe")}  # byte for byte (not UTF-8)
    post_letters = [row for row in letters if row[0] == topic(ch_config, "post-events")]
    assert [row[3] for row in post_letters] == ["1"] * 5
    assert len({row[2] for row in post_letters}) == 5  # five distinct offsets
    assert letters_counted("not_json") == counted["not_json"] + 1  # the post-events one
    for kind in ("bad_payload", "bad_envelope", "unsupported_version", "unknown_type"):
        assert letters_counted(kind) == counted[kind] + 1, kind

    # Everything read is committed, the dead letters included: a new pipeline of the same
    # group reads nothing again.
    offsets = committed(ch_config, group_id(ch_config))
    assert sum(max(o, 0) for o in offsets[topic(ch_config, "post-events")]) == 6
    assert sum(max(o, 0) for o in offsets[topic(ch_config, "comment-events")]) == 1


def test_validation_unknown_user_and_clickhouse_down(ch_config, ch, pipeline, analytics,
                                                     rabbit_config, container_factory):
    produce(ch_config, [syn.user_registered(7, "grace", utcnow())])
    drain(pipeline(), ch, 1)
    assert analytics.user_activity(1, "7")["user_id"] == 7     # known from ClickHouse
    with pytest.raises(AnalyticsUserNotFound):
        analytics.user_activity(1, "999999")                   # nor in the users service
    for start, end in (("2026-01-02", "2026-01-01"), ("20260101", "2026-01-02"),
                       ("2026-02-30", "2026-03-01"), ("2026-1-1", "2026-01-02")):
        with pytest.raises(InvalidPeriod):
            analytics.posts_stats(start, end)
    with pytest.raises(BadRequest) as missing:
        analytics.posts_stats("2026-01-01", None)
    assert missing.value.fields == {"end_date": "This query parameter is required."}
    with pytest.raises(BadRequest):
        analytics.user_activity(1, "abc")

    down = dict(ch_config, AMQP_URI=rabbit_config["AMQP_URI"],
                CLICKHOUSE_URL=f"clickhouse://default:@127.0.0.1:{free_port()}/nothing")
    container_factory(type("DownAnalytics", (AnalyticsService,), {"name": "analytics_down"}),
                      down).start()
    with ServiceRpcProxy("analytics_down", down, timeout=20) as broken:
        with pytest.raises(ServiceUnavailable):
            broken.posts_stats("2026-01-01", "2026-01-31")
        with pytest.raises(ServiceUnavailable):
            broken.user_activity(1)


def test_pipeline_process_serves_metrics_and_stops_on_sigterm(ch_config, ch):
    port = free_port()
    env = dict(os.environ, CLICKHOUSE_URL=ch_config["CLICKHOUSE_URL"],
               KAFKA_TOPIC_PREFIX=ch_config["KAFKA_TOPIC_PREFIX"], METRICS_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "-m", "analytics_pipeline"], cwd=PROJECT_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        events = [syn.user_registered(i, f"u{i}", utcnow()) for i in range(1, 51)]
        produce(ch_config, events, raw=[("user-events", b"{broken")])
        deadline = time.monotonic() + 40
        while stored(ch) < 50:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.3)
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'imageboard_pipeline_inserted_total{table="events"} 50.0' in text
        assert 'imageboard_pipeline_inserted_total{table="users"} 50.0' in text
        assert 'reason="not_json"' in text
        assert "imageboard_pipeline_batch_duration_seconds_count" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, out


class TcpProxy:
    """Forwards a local port to ClickHouse in real OS threads; cut() makes ClickHouse
    unreachable (connections dropped, new ones refused), restore() brings it back."""

    def __init__(self, target):
        import eventlet

        self.socket = eventlet.patcher.original("socket")
        self.threading = eventlet.patcher.original("threading")
        self.target, self.conns, self.listener = target, [], None
        probe = self.socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.restore()

    def restore(self):
        self.listener = self.socket.socket()
        self.listener.setsockopt(self.socket.SOL_SOCKET, self.socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(16)
        self.threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self):
        try:
            self.listener.shutdown(self.socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.listener.close()
        for conn in self.conns:
            try:
                conn.shutdown(self.socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self.conns = []

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = self.socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                self.threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.close()
                except OSError:
                    pass


def test_clickhouse_outage_mid_stream_loses_and_doubles_nothing(ch_config, ch, pipeline, analytics):
    """A real network failure between pipeline and ClickHouse: writes fail, the batch is
    re-read until ClickHouse answers again, and the answers are still exact."""
    from urllib.parse import urlparse

    today = utcnow().date()
    r = random_history(today, seed=11, actions=600)
    half = len(r.events) // 2
    url = urlparse(ch_config["CLICKHOUSE_URL"])
    proxy = TcpProxy((url.hostname, url.port or 9000))
    through_proxy = dict(ch_config, CLICKHOUSE_URL=f"clickhouse://default:@127.0.0.1:{proxy.port}"
                                                   f"/{database_name(ch_config)}")
    p = pipeline(sink=ClickHouseSink(make_client(through_proxy, connect_timeout=1,
                                                 send_receive_timeout=3)), retry_seconds=0.2)
    produce(ch_config, r.events[:half])
    drain(p, ch, half)

    from prometheus_client import REGISTRY

    errors_before = REGISTRY.get_sample_value("imageboard_pipeline_insert_errors_total")
    proxy.cut()
    produce(ch_config, r.events[half:])
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:  # several write attempts, all failing
        p.step()
    assert stored(ch) == half, "nothing may be stored while ClickHouse is unreachable"
    assert REGISTRY.get_sample_value("imageboard_pipeline_insert_errors_total") >= errors_before + 2
    assert all(o <= half for parts in committed(ch_config, group_id(ch_config)).values()
               for o in parts)
    proxy.restore()
    drain(p, ch, len(r.events))
    proxy.cut()
    assert_answers_match(analytics, r.truth, today, users=range(1, 13))
