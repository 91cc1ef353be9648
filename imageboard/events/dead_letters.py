"""Dead letters: Kafka messages a consumer cannot use, kept with why and where they were.

A message the event catalogue refuses (contracts.events.InvalidEvent: not JSON, a broken
envelope, an unknown type or version, a payload that does not fit its model), or a valid
event whose handler refuses it (REJECTED), becomes one DeadLetter. The consumer stores it
in a dead-letter table, counts it in Prometheus, and only then commits the message's
offset: it never stops consuming for one, and never drops one silently.

- services (imageboard/events/kafka_entrypoint.py): the `dead_letters` table of the
  service's own PostgreSQL database (imageboard/events/dead_letters_table.sql, linked as a migration),
  written by `record_dead_letter` from the service's @dead_letters method;
- the analytics pipeline: the `dead_letters` table of ClickHouse
  (analytics_store/migrations/0007_dead_letters.sql).

docs/events.md ("Dead letters") shows how to read and replay them.
"""
from dataclasses import dataclass
from typing import Optional

REJECTED = "rejected"  # a valid event its handler raised a skip error for


@dataclass(frozen=True)
class DeadLetter:
    consumer: str            # consumer group (KAFKA_TOPIC_PREFIX + service name)
    topic: str               # the Kafka topic, with its prefix: where to find the message
    partition: int
    offset: int
    key: Optional[bytes]     # the message key and value as received, byte for byte
    value: Optional[bytes]
    kind: str                # the kinds of contracts.events, or REJECTED
    reason: str
    event_type: Optional[str] = None
    event_id: Optional[str] = None

    @classmethod
    def of(cls, consumer, message, kind, reason, event_type=None, event_id=None):
        """From a confluent_kafka Message."""
        return cls(consumer=consumer, topic=message.topic(), partition=message.partition(),
                   offset=message.offset(), key=message.key(), value=message.value(),
                   kind=kind, reason=reason, event_type=event_type,
                   event_id=str(event_id) if event_id is not None else None)

    def where(self):
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}


_INSERT_SQL = ('INSERT INTO dead_letters (consumer, topic, partition, "offset", message_key, '
               "value, kind, reason, event_type, event_id) "
               "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")


def record_dead_letter(database, letter):
    """One row of the service's dead_letters table (PostgreSQL, through peewee)."""
    database.execute_sql(_INSERT_SQL, (
        letter.consumer, letter.topic, letter.partition, letter.offset, letter.key,
        letter.value, letter.kind, letter.reason, letter.event_type, letter.event_id))
