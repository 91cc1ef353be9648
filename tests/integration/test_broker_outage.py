"""Kafka broker down while writes go on: the writes succeed, and once the broker is back
every event reaches the notifications database exactly once.

Uses a PRIVATE tansu on its own port (the shared broker is never stopped). tansu keeps
everything in memory, so its restart also loses topics, messages and committed offsets:
the relay re-creates the topics and re-publishes what the broker may have lost, and the
consumer's idempotency on event_id turns the resulting duplicates into nothing.
Run with `-s` to see the transcript."""
import os
import time

import eventlet
import psycopg2
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from imageboard.config import database_url
from imageboard.db import connect_kwargs
from services.notifications.service import NotificationsService
from services.users.service import UsersService
from tests.integration.kafka_support import (events_migrated,  # noqa: F401 (fixtures)
                                             kafka_config, wait_until)
from tests.private_servers import PrivateTansu

pytestmark = pytest.mark.integration

BROKER_PORT = int(os.environ.get("IB_TEST_PORT", "18080")) + 1000


def query(config, service, sql, params=()):
    name, kwargs = connect_kwargs(database_url(config, service))
    conn = psycopg2.connect(dbname=name, **kwargs)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


class Transcript:
    def __init__(self):
        self.started = time.monotonic()

    def __call__(self, text):
        print(f"[{time.monotonic() - self.started:6.2f}s] {text}", flush=True)


@pytest.fixture
def broker():
    broker = PrivateTansu(BROKER_PORT)
    broker.start()
    yield broker
    broker.stop()


def test_broker_outage_loses_and_duplicates_nothing(broker, kafka_config, container_factory,
                                                     events_migrated, unique):
    say = Transcript()
    config = dict(kafka_config, KAFKA_BOOTSTRAP_SERVERS=broker.address, KAFKA_MESSAGE_TIMEOUT_MS=3000)
    events_migrated("users", "notifications")
    for service_cls in (UsersService, NotificationsService):
        container_factory(service_cls, config).start()
    say(f"private tansu on {broker.address}; users + notifications services started")

    registered, failures, running = [], [], [True]

    def writer():
        with ServiceRpcProxy("users", config, timeout=10) as users:
            n = 0
            while running[0]:
                name = f"w{n}_{unique}"
                n += 1
                try:
                    registered.append(users.register(
                        {"username": name, "email": f"{name}@example.com", "password": "password1"})["id"])
                except Exception as exc:  # counted: the assertion below wants none
                    failures.append(repr(exc))
                eventlet.sleep(0.02)

    thread = eventlet.spawn(writer)
    eventlet.sleep(3)
    say(f"broker up: {len(registered)} registrations so far")
    broker.stop()
    at_stop = len(registered)
    say("broker STOPPED (in-memory: topics, messages and offsets are gone)")
    eventlet.sleep(6)
    pending = query(config, "users", "SELECT count(*) FROM outbox WHERE published_at IS NULL "
                    "AND event_key = ANY(%s)", ([str(i) for i in registered],))[0][0]
    say(f"broker down 6 s: {len(registered) - at_stop} registrations succeeded meanwhile, "
        f"{len(failures)} failed; {pending} user events waiting in the users outbox")
    assert len(registered) > at_stop and pending > 0
    broker.start()
    say("broker STARTED again (empty)")
    eventlet.sleep(3)
    running[0] = False
    thread.wait()
    say(f"writes stopped: {len(registered)} users registered, {len(failures)} failures")
    assert failures == []

    def welcomes():
        rows = query(config, "notifications",
                     "SELECT user_id, count(*) FROM notifications WHERE type = 'SYSTEM' "
                     "AND user_id = ANY(%s) GROUP BY user_id", (registered,))
        return dict(rows)

    started = time.monotonic()
    wait_until(lambda: len(welcomes()) == len(registered), timeout=60, interval=0.5,
               what="a welcome notification for every registered user")
    say(f"all {len(registered)} welcome notifications present "
        f"{time.monotonic() - started:.1f} s after the writes stopped")
    eventlet.sleep(2)  # late duplicates (re-published events) would show up by now
    counts = welcomes()
    duplicated = {user: n for user, n in counts.items() if n != 1}
    unsent = query(config, "users", "SELECT count(*) FROM outbox WHERE published_at IS NULL "
                   "AND event_key = ANY(%s)", ([str(i) for i in registered],))[0][0]
    say(f"notifications per user: min {min(counts.values())}, max {max(counts.values())}; "
        f"users with != 1: {len(duplicated)}; unsent outbox rows: {unsent}")
    assert set(counts) == set(registered) and duplicated == {} and unsent == 0


def test_events_the_broker_lost_are_sent_again(broker, kafka_config, container_factory,
                                              events_migrated, unique):
    """Published (acknowledged, marked sent) but not consumed yet when the in-memory
    broker dies: only the relay's replay after the outage can still deliver them."""
    say = Transcript()
    config = dict(kafka_config, KAFKA_BOOTSTRAP_SERVERS=broker.address, KAFKA_MESSAGE_TIMEOUT_MS=3000)
    events_migrated("users", "notifications")
    container_factory(UsersService, config).start()
    with ServiceRpcProxy("users", config, timeout=10) as users:
        ids = [users.register({"username": f"r{i}_{unique}", "email": f"r{i}_{unique}@example.com",
                               "password": "password1"})["id"] for i in range(5)]
    keys = [str(i) for i in ids]
    wait_until(lambda: query(config, "users", "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL "
                             "AND event_key = ANY(%s)", (keys,))[0][0] == 5, what="5 events sent")
    say("5 user.registered events acknowledged by the broker; no consumer has read them")
    broker.stop()
    broker.start()
    say("broker restarted: those messages are gone")
    container_factory(NotificationsService, config).start()
    wait_until(lambda: query(config, "notifications", "SELECT count(*) FROM notifications "
                             "WHERE user_id = ANY(%s)", (ids,))[0][0] == 5, timeout=40, interval=0.5,
               what="5 welcome notifications from the re-sent events")
    say("all 5 welcome notifications arrived from the re-sent events")
