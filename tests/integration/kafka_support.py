"""Helpers for tests that talk to a real Kafka broker (tansu) from the same process as
nameko containers: every wait is a green sleep around poll(0), never a blocking flush.

The fixtures give such tests databases of their own (DB_PREFIX + "_ev"): the session's
e2e stack runs relays on the suite's regular databases, and a relay there would publish
(and mark sent) the outbox rows these tests want to watch."""
import json
import time
import uuid

import eventlet
import pytest
from confluent_kafka import Consumer, Producer
from eventlet import tpool

from imageboard.config import topic
from imageboard.events.envelope import TOPICS
from imageboard.events.kafka import consumer_config, producer_config
from tests.integration.conftest import migrate_once


EVENTS_DB_SUFFIX = "_ev"


@pytest.fixture(scope="session")
def events_migrated(config):
    """migrate(service) once per session, on the events tests' own databases."""
    return migrate_once(dict(config, DB_PREFIX=config["DB_PREFIX"] + EVENTS_DB_SUFFIX))


@pytest.fixture
def kafka_config(service_config, unique):
    """This test's own topics and consumer groups (prefix) on the events databases."""
    return dict(service_config, DB_PREFIX=service_config["DB_PREFIX"] + EVENTS_DB_SUFFIX,
                KAFKA_TOPIC_PREFIX=f"{service_config['KAFKA_TOPIC_PREFIX']}{unique}-",
                OUTBOX_POLL_INTERVAL=0.2)


def wait_until(predicate, timeout=20.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        eventlet.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def produce(config, messages, timeout=15.0):
    """Send [(topic_name_without_prefix, key, value_bytes_or_dict)] and wait for delivery."""
    producer = Producer(producer_config(config))
    errors = []
    for topic_name, key, value in messages:
        if isinstance(value, dict):
            value = json.dumps(value)
        producer.produce(topic(config, topic_name), key=key, value=value,
                         on_delivery=lambda err, _msg: errors.append(err))
    wait_until(lambda: (producer.poll(0) or True) and len(errors) == len(messages), timeout,
               what="delivery reports")
    assert errors == [None] * len(messages), errors


def produce_events(config, events):
    produce(config, [(TOPICS[e["type"]], e["key"], e) for e in events])


def read_topic(config, topic_name, count=None, timeout=30.0, keep=lambda event: True):
    """Messages of a topic from its start as (key, envelope) pairs (a fresh group), until
    `count` of them pass `keep`."""
    consumer = Consumer(consumer_config(config, f"test-reader-{uuid.uuid4().hex}"))
    consumer.subscribe([topic(config, topic_name)])
    got = []
    try:
        def more():
            message = consumer.poll(0)
            if message is not None and not message.error():
                event = json.loads(message.value())
                if keep(event):
                    got.append((message.key().decode(), event))
            return len(got) >= count
        wait_until(more, timeout, interval=0.005, what=f"{count} messages on {topic_name}")
    finally:
        tpool.execute(consumer.close)
    return got

