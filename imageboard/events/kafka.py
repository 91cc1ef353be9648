"""confluent-kafka settings and topic creation shared by the relay, the consumers and
the best-effort publisher.

Nothing here blocks the eventlet hub: waits are `time.sleep` loops (green once eventlet
has monkey-patched; a plain sleep in the CLI) around non-blocking calls.
"""
import logging
import time

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from imageboard.config import topic
from imageboard.events.envelope import ALL_TOPICS
from imageboard.settings import settings_of

log = logging.getLogger(__name__)

# librdkafka prints every failed reconnect to stderr; errors reach us through error_cb.
QUIET = {"log_level": 2}


class TopicsUnavailable(RuntimeError):
    """The broker did not confirm the topics in time (it is probably down)."""


def client_config(config, **overrides):
    settings = {"bootstrap.servers": config["KAFKA_BOOTSTRAP_SERVERS"], **QUIET}
    settings.update(overrides)
    return settings


def producer_config(config, **overrides):
    """Idempotent, acks=all: a retried send never duplicates or reorders within a partition."""
    settings = client_config(
        config,
        **{
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            # How long one send may be retried before its delivery report says it failed.
            "message.timeout.ms": settings_of(config).KAFKA_MESSAGE_TIMEOUT_MS,
        },
    )
    settings.update(overrides)
    return settings


def consumer_config(config, group_id, **overrides):
    """Manual commits (after the handler's database write), start from the earliest
    offset when the group has none (a fresh group, or a broker that lost its state)."""
    settings = client_config(
        config,
        **{
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            # tansu takes about session.timeout/2 to complete a join.
            "session.timeout.ms": settings_of(config).KAFKA_SESSION_TIMEOUT_MS,
            # Notice re-created topics quickly (a restarted in-memory broker loses them).
            "topic.metadata.refresh.interval.ms": 2000,
        },
    )
    settings.update(overrides)
    return settings


def topic_names(config, names=None):
    return [topic(config, name) for name in (names or ALL_TOPICS)]


def retention_ms(config):
    """The topics' retention.ms, from KAFKA_RETENTION_HOURS."""
    return round(settings_of(config).KAFKA_RETENTION_HOURS * 3_600_000)


def ensure_topics(config, names=None, timeout=10.0, admin=None):
    """Create the (prefixed) topics that do not exist yet; returns the names it created.
    They keep a message KAFKA_RETENTION_HOURS (retention.ms), which the settings hold shorter
    than the consumers' dedupe records (PROCESSED_EVENTS_RETENTION_DAYS). A topic that exists
    already keeps its own retention (docs/events.md says how to align it).

    Raises TopicsUnavailable if the broker does not answer within `timeout`."""
    admin = admin or AdminClient(client_config(config))
    partitions = settings_of(config).KAFKA_TOPIC_PARTITIONS
    replication = settings_of(config).KAFKA_REPLICATION_FACTOR
    retention = {"retention.ms": str(retention_ms(config))}
    wanted = topic_names(config, names)
    futures = admin.create_topics(
        [NewTopic(name, partitions, replication, config=retention) for name in wanted],
        request_timeout=timeout, operation_timeout=timeout,
    )
    deadline = time.monotonic() + timeout + 1
    while not all(f.done() for f in futures.values()):
        if time.monotonic() > deadline:
            raise TopicsUnavailable(f"broker did not answer create_topics within {timeout}s")
        time.sleep(0.01)
    created = []
    for name, future in futures.items():
        error = future.exception()
        if error is None:
            created.append(name)
            continue
        kafka_error = error.args[0] if isinstance(error, KafkaException) and error.args else None
        if isinstance(kafka_error, KafkaError) and kafka_error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
            continue
        raise TopicsUnavailable(f"cannot create topic {name}: {error}")
    if created:
        log.info("created kafka topics", extra={"topics": created})
    return created
