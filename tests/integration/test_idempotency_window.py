"""Idempotency beyond the dedupe window (issue 16, item 4; docs/events.md, "Idempotency
beyond the dedupe window").

The notifications service forgets the ids of events it handled after
PROCESSED_EVENTS_RETENTION_DAYS. An event delivered again after that (its consumer group
reset to the earliest offset, the relay or an operator re-sending it) must still change
nothing: the notification it made is found by its unique (source_event_id, user_id) and
no second one, nor a second notification.created, is made. The analytics pipeline keeps no
window at all: every table is deduplicated against what it stores, so a whole history read
twice answers the same. And the window is kept longer than the topics' retention by
configuration: the settings refuse KAFKA_RETENTION_HOURS >= PROCESSED_EVENTS_RETENTION_DAYS,
and topics are created with that retention.
"""
import time
from datetime import timedelta

import psycopg2
import pytest
from analytics_pipeline.consumer import (
    ClickHouseSink,
    Pipeline,
    group_id,
    source_topics,
)
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource
from eventlet import tpool

from analytics_store.client import make_client
from imageboard.config import database_url, topic
from imageboard.db import connect_kwargs
from imageboard.events.envelope import make_event
from imageboard.events.kafka import client_config, consumer_config, ensure_topics
from imageboard.settings import DEFAULT_CONFIG_PATH, ConfigError, settings_of
from imageboard.timefmt import utcnow
from services.analytics.dependencies import AnalyticsStore, ClientPool
from services.notifications.dependencies import NotificationsStore
from services.notifications.models import database
from services.notifications.service import NotificationsService
from tests.analytics_truth import rounded
from tests.integration.kafka_support import (  # noqa: F401 (fixtures)
    events_migrated,
    kafka_config,
    produce_events,
    wait_until,
)
from tests.integration.test_analytics import periods, produce, random_history

NOTIFICATION_TOPICS = ("post-events", "comment-events", "user-events")


# -- the window, by configuration ------------------------------------------------------------

def test_settings_refuse_topics_that_outlive_the_dedupe_records(monkeypatch):
    assert settings_of({}).KAFKA_RETENTION_HOURS < settings_of({}).PROCESSED_EVENTS_RETENTION_DAYS * 24
    with pytest.raises(ConfigError) as exc:
        settings_of({"KAFKA_RETENTION_HOURS": 720, "PROCESSED_EVENTS_RETENTION_DAYS": 30})
    message = str(exc.value)
    assert "KAFKA_RETENTION_HOURS (720 hours) must be shorter than" in message
    assert "PROCESSED_EVENTS_RETENTION_DAYS (30 days = 720 hours)" in message
    assert settings_of({"KAFKA_RETENTION_HOURS": 719.5,
                        "PROCESSED_EVENTS_RETENTION_DAYS": 30}).KAFKA_RETENTION_HOURS == 719.5
    # From the environment, the message names the variables that set them.
    monkeypatch.setenv("KAFKA_RETENTION_HOURS", "1000")
    from imageboard.config import load_config
    with pytest.raises(ConfigError) as exc:
        load_config(DEFAULT_CONFIG_PATH)
    assert "(KAFKA_RETENTION_HOURS from the environment)" in str(exc.value)


@pytest.mark.integration
def test_topics_are_created_with_the_configured_retention(config, unique):
    cfg = dict(config, KAFKA_TOPIC_PREFIX=f"{config['KAFKA_TOPIC_PREFIX']}{unique}-",
               KAFKA_RETENTION_HOURS=36)
    assert len(ensure_topics(cfg, ["post-events", "user-events"])) == 2
    admin = AdminClient(client_config(cfg))
    names = [topic(cfg, "post-events"), topic(cfg, "user-events")]
    try:
        futures = admin.describe_configs(
            [ConfigResource(ConfigResource.Type.TOPIC, name) for name in names])
        for future in futures.values():
            assert future.result(timeout=10)["retention.ms"].value == str(36 * 3_600_000)
    finally:
        admin.delete_topics(names)


# -- notifications -------------------------------------------------------------------------

def pg(config, sql, params=()):
    name, kwargs = connect_kwargs(database_url(config, "notifications"))
    conn = psycopg2.connect(dbname=name, **kwargs)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else cur.rowcount
    finally:
        conn.close()


def notifications_of(config, event_id):
    return pg(config, "SELECT user_id, type FROM notifications WHERE source_event_id = %s",
              (event_id,))


def created_events_of(config, event_id):
    """notification.created rows in the service's outbox caused by this event."""
    return pg(config, "SELECT count(*) FROM outbox WHERE event_type = 'notification.created'"
                      " AND body::jsonb -> 'payload' ->> 'source_event_id' = %s", (event_id,))[0][0]


def processed(config, event_id):
    return pg(config, "SELECT count(*) FROM processed_events WHERE event_id = %s", (event_id,))[0][0]


def forget(config, event_id):
    """The hourly prune, after the event's record has aged past the retention."""
    days = settings_of(config).PROCESSED_EVENTS_RETENTION_DAYS
    pg(config, "UPDATE processed_events SET processed_at = now() - %s * interval '1 day'"
               " WHERE event_id = %s", (days + 1, event_id))
    assert NotificationsStore(database.obj, config).prune_processed_events() >= 1
    assert processed(config, event_id) == 0


def reset_to_earliest(config, group, topic_names):
    """kafka-consumer-groups --reset-offsets --to-earliest, for a group with no members."""
    consumer = Consumer(consumer_config(config, group))
    try:
        metadata = consumer.list_topics(timeout=10).topics
        offsets = []
        for name in topic_names:
            for partition in metadata[name].partitions:
                low, _ = consumer.get_watermark_offsets(TopicPartition(name, partition), timeout=10)
                offsets.append(TopicPartition(name, partition, low))
        consumer.commit(offsets=offsets, asynchronous=False)
        assert {tp.offset for tp in consumer.committed(offsets, timeout=10)} == \
            {tp.offset for tp in offsets}
    finally:
        tpool.execute(consumer.close)


def liked(post_id, owner, liker):
    return make_event("post.liked", post_id, liker, {
        "post_id": post_id, "post_author_id": owner, "post_title": "Sunset",
        "user_id": liker, "username": f"user{liker}", "likes_count": 1})


@pytest.mark.integration
def test_an_event_redelivered_after_its_record_was_pruned_notifies_once(
        kafka_config, events_migrated, container_factory, unique):
    events_migrated("notifications")
    base = int(unique[:7], 16) * 10 + 10**9  # ids no other test uses
    owner, liker, post_id = base + 1, base + 2, base + 3
    like = liked(post_id, owner, liker)
    container = container_factory(NotificationsService, kafka_config)
    container.start()
    produce_events(kafka_config, [like])
    wait_until(lambda: notifications_of(kafka_config, like["event_id"]), what="the like's notification")
    assert notifications_of(kafka_config, like["event_id"]) == [(owner, "LIKE")]
    forget(kafka_config, like["event_id"])

    # 1. The consumer group reset to the earliest offset: the service starts again and
    # reads every event of its topics from the start, this like among them.
    container.stop()
    group = topic(kafka_config, NotificationsService.name)
    reset_to_earliest(kafka_config, group, [topic(kafka_config, t) for t in NOTIFICATION_TOPICS])
    container_factory(NotificationsService, kafka_config).start()
    # A later like of the same post (same key, same partition, after it): once it has
    # notified, the redelivered like has been handled.
    marker = liked(post_id, owner, base + 4)
    produce_events(kafka_config, [marker])
    wait_until(lambda: notifications_of(kafka_config, marker["event_id"]), timeout=40,
               what="the like after the redelivered one")
    assert processed(kafka_config, like["event_id"]) == 1, "the like was really handled again"
    assert notifications_of(kafka_config, like["event_id"]) == [(owner, "LIKE")]
    assert created_events_of(kafka_config, like["event_id"]) == 1

    # 2. The same event sent again (a relay re-send, an operator's republish) after its
    # record was pruned once more.
    forget(kafka_config, like["event_id"])
    marker = liked(post_id, owner, base + 5)
    produce_events(kafka_config, [like, marker])
    wait_until(lambda: notifications_of(kafka_config, marker["event_id"]), timeout=40,
               what="the like after the re-sent one")
    assert processed(kafka_config, like["event_id"]) == 1
    assert notifications_of(kafka_config, like["event_id"]) == [(owner, "LIKE")]
    assert created_events_of(kafka_config, like["event_id"]) == 1
    assert pg(kafka_config, "SELECT count(*) FROM notifications WHERE user_id = %s", (owner,)) == [(3,)]
    assert pg(kafka_config, "SELECT count(*) FROM dead_letters WHERE event_id = %s",
              (like["event_id"],)) == [(0,)]


# -- analytics -------------------------------------------------------------------------------

def answers(store, ch, today):
    """What the analytics service answers (posts/stats over every test period, each user's
    activity) and what the analyst views of 0003 hold."""
    got = {("posts_stats", start, end): rounded(store.posts_stats(start, end))
           for start, end in periods(today) + [(today - timedelta(days=365), today)]}
    got.update({("user_activity", uid): store.user_activity(uid, today) for uid in range(1, 13)})
    for view in ("daily_posts", "daily_likes", "daily_comments", "user_daily_activity",
                 "post_summary"):
        got[view] = sorted(ch.execute(f"SELECT * FROM {view}"))
    return got


def committed_offsets(config, group):
    """The sum of the group's committed offsets over every partition of the source topics:
    the number of messages it has passed (offsets start at 0). tansu's high watermarks
    are not exact, so the test compares this with what it produced."""
    reader = Consumer(consumer_config(config, group))
    try:
        metadata = reader.list_topics(timeout=10).topics
        partitions = [TopicPartition(t, p) for t in source_topics(config)
                      for p in metadata[t].partitions]
        return sum(max(tp.offset, 0) for tp in reader.committed(partitions, timeout=10))
    finally:
        reader.close()


class CountingSink(ClickHouseSink):
    """Counts the event rows it writes (background merges may drop stored copies at any time:
    the table's count would not show them reliably)."""

    def __init__(self, client):
        super().__init__(client)
        self.events = 0

    def write(self, rows_by_table):
        super().write(rows_by_table)
        self.events += len(rows_by_table.get("events", ()))


def run_until_committed(pipeline, config, messages, timeout=60):
    """Step the pipeline until it has written `messages` events and committed past them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pipeline.step()
        if (not pipeline.batch.size and pipeline.sink.events >= messages
                and committed_offsets(config, group_id(config)) == messages):
            return
    raise AssertionError(f"the pipeline wrote {pipeline.sink.events} of {messages} events")


@pytest.mark.integration
def test_the_pipeline_reading_everything_twice_answers_the_same(ch_config, ch):
    today = utcnow().date()
    r = random_history(today, seed=16, actions=600)
    produce(ch_config, r.events)
    store = AnalyticsStore(ClientPool(lambda: make_client(ch_config), 3))

    first = Pipeline(ch_config, CountingSink(make_client(ch_config)))
    first.start()
    try:
        run_until_committed(first, ch_config, len(r.events))
    finally:
        first.consumer.close()
    once = answers(store, ch, today)
    assert once[("posts_stats", today - timedelta(days=60), today)] == \
        rounded(r.truth.post_stats(today - timedelta(days=60), today))
    assert first.sink.events == len(r.events)

    reset_to_earliest(ch_config, group_id(ch_config), source_topics(ch_config))
    again = Pipeline(ch_config, CountingSink(make_client(ch_config)))
    again.start()
    try:
        run_until_committed(again, ch_config, len(r.events))
    finally:
        again.consumer.close()
    # Every event was read and written a second time...
    assert again.sink.events == len(r.events)
    assert ch.execute("SELECT uniqExact(event_id) FROM events")[0][0] == len(r.events)
    # ...posts and deletions were not (checked against their tables at write time)...
    for table in ("posts", "post_deletions"):
        assert ch.execute(f"SELECT count() - uniqExact(post_id) FROM {table}")[0][0] == 0, table
    # ...and nothing answers differently.
    assert answers(store, ch, today) == once
    for uid in range(1, 13):
        assert once[("user_activity", uid)] == r.truth.user_activity(uid, today), uid
