"""The transactional outbox and its relay, with the users service's real code, real
PostgreSQL and a real Kafka broker (tansu)."""
import time

import psycopg2
import pytest

from imageboard.config import database_url
from imageboard.db import connect_kwargs
from imageboard.events.kafka import TopicsUnavailable, ensure_topics
from imageboard.events.relay import Relay
from services.users.service import UsersService
from tests.event_schemas import validate_event
from tests.integration.kafka_support import (events_migrated, kafka_config,  # noqa: F401 (fixtures)
                                             read_topic, wait_until)

pytestmark = pytest.mark.integration


@pytest.fixture
def users(kafka_config, serve, events_migrated):
    events_migrated("users")
    return serve(UsersService, kafka_config)


def outbox_rows(config, service, event_ids):
    name, kwargs = connect_kwargs(database_url(config, service))
    conn = psycopg2.connect(dbname=name, **kwargs)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT event_id::text, published_at FROM outbox WHERE event_id::text = ANY(%s)",
                        (list(event_ids),))
            return dict(cur.fetchall())
    finally:
        conn.close()


def test_user_events_are_published_keyed_in_order_and_marked_sent(users, kafka_config, unique):
    names = [f"o{i}_{unique}" for i in range(3)]
    ids = [users.register({"username": n, "email": f"{n}@example.com", "password": "password1"})["id"]
           for n in names]
    users.login({"username": names[0], "password": "password1"})

    # Pending rows of other tests' users (same database) may come along: keep ours.
    mine = read_topic(kafka_config, "user-events", 4, keep=lambda e: e["payload"]["username"] in names)
    # Order holds per key (one partition per key); across keys it need not.
    per_user = {}
    for _, event in mine:
        per_user.setdefault(event["payload"]["user_id"], []).append(event["type"])
    assert per_user == {ids[0]: ["user.registered", "user.logged_in"],
                        ids[1]: ["user.registered"], ids[2]: ["user.registered"]}
    for key, event in mine:
        assert key == event["key"] == str(event["payload"]["user_id"]) == str(event["actor_id"])
        validate_event(event)
    rows = outbox_rows(kafka_config, "users", [e["event_id"] for _, e in mine])
    assert len(rows) == 4 and all(published is not None for published in rows.values())


def test_only_one_relay_instance_publishes_at_a_time(kafka_config, events_migrated):
    events_migrated("users")
    first, second = Relay(kafka_config, "users"), Relay(kafka_config, "users")
    try:
        # (A relay of an earlier test's container may still be letting go of the lock.)
        wait_until(lambda: first.run_once() is not None and first.is_leader, timeout=15,
                   what="the first relay to lead")
        second.run_once()
        assert not second.is_leader
        first.close()  # its connection (and advisory lock) go away: the other takes over
        # (The server frees the lock when the backend has exited: a moment after close.)
        wait_until(lambda: second.run_once() is not None and second.is_leader, timeout=5,
                   what="the second relay to take over")
    finally:
        first.close()
        second.close()


def test_topics_are_created_once_with_the_prefix(kafka_config):
    created = ensure_topics(kafka_config)
    prefix = kafka_config["KAFKA_TOPIC_PREFIX"]
    assert sorted(created) == [f"{prefix}{name}" for name in (
        "analytics-events", "comment-events", "moderation-events", "notification-events",
        "post-events", "user-events")]
    assert ensure_topics(kafka_config) == []  # already there: nothing to do, no error


def test_topic_creation_gives_up_quickly_without_a_broker(kafka_config):
    dead = dict(kafka_config, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    started = time.monotonic()
    with pytest.raises(TopicsUnavailable):
        ensure_topics(dead, timeout=1)
    assert time.monotonic() - started < 5


def test_the_leader_prunes_published_events_past_the_retention(kafka_config, events_migrated):
    events_migrated("users")
    name, kwargs = connect_kwargs(database_url(kafka_config, "users"))
    conn = psycopg2.connect(dbname=name, **kwargs)
    conn.autocommit = True
    ids = {}
    with conn.cursor() as cur:
        for label, published in (("old", "now() - interval '8 days'"),
                                 ("recent", "now() - interval '6 days'"),
                                 ("never_sent", "NULL")):
            cur.execute(
                "INSERT INTO outbox (event_id, topic, event_key, event_type, body, created_at,"
                f" published_at) VALUES (gen_random_uuid(), 'user-events', '1', 'user.registered',"
                f" '{{}}', now() - interval '9 days', {published}) RETURNING id")
            ids[label] = cur.fetchone()[0]
    relay = Relay(dict(kafka_config, OUTBOX_RETENTION_DAYS=7), "users")
    try:
        wait_until(lambda: relay.run_once() is not None and relay.is_leader, timeout=15,
                   what="the relay to lead")
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM outbox WHERE id = ANY(%s)", (list(ids.values()),))
            left = {row[0] for row in cur.fetchall()}
        # The old published row went; the recent one stays for re-publishing. The unsent
        # one was never pruned: the round published it instead (it is marked sent now).
        assert ids["old"] not in left
        assert {ids["recent"], ids["never_sent"]} <= left
        assert relay._prune_published() == 0  # not again within the hour
    finally:
        relay.close()
        with conn.cursor() as cur:
            cur.execute("DELETE FROM outbox WHERE id = ANY(%s)", (list(ids.values()),))
        conn.close()
