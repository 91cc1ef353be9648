"""A Nameko entrypoint that runs a service method for every event on Kafka topics.

    class NotificationsService:
        name = "notifications"

        @consume_events(["post-events", "comment-events"])
        def on_event(self, event):          # a typed contracts.events.Event
            ...

        @dead_letters
        def on_dead_letter(self, letter):   # an imageboard.events.dead_letters.DeadLetter
            self.store.record_dead_letter(letter)   # its dead_letters table

- Topic names are given without KAFKA_TOPIC_PREFIX; the group id is
  `<prefix><service name>` (or `<prefix><group>`), so test runs never share a group.
- The eventlet hub is never blocked: the consumer is polled with poll(0) and green
  sleeps in between; librdkafka fetches in its own threads.
- Every message is parsed with the event catalogue (contracts.events.decode): the handler
  gets a typed Event whose payload is the model its (type, version) declares.
- Events are handled one at a time in offset order (order per key holds), each in a
  nameko worker; the offset is stored only after the worker succeeded, so its database
  write happened first, and librdkafka commits the stored offsets every
  KAFKA_COMMIT_INTERVAL_MS (and on close). One commit request per event cost the broker
  more than the event itself; a crash redelivers at most that interval's events, so
  handlers must be idempotent on event_id (they are).
- A message the catalogue refuses, or an event whose handler raises one of `skip_errors`,
  becomes a DeadLetter (with its reason, topic, partition, offset and raw bytes) handed to
  the service's @dead_letters method in a worker of its own, and counted
  (imageboard_kafka_dead_lettered_total); its offset is stored only once that worker
  succeeded. A service without a @dead_letters method does not start. Any other failure
  (database down), of the handler or of the dead-letter method, is retried with backoff
  until it succeeds; the consumer never moves past it, never drops a message.
"""
import logging

import eventlet
from confluent_kafka import Consumer, KafkaError
from eventlet import tpool
from eventlet.event import Event
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint

from contracts.events import InvalidEvent, decode
from imageboard import metrics
from imageboard.config import topic
from imageboard.events.dead_letters import REJECTED, DeadLetter
from imageboard.events.kafka import consumer_config
from imageboard.settings import settings_of

log = logging.getLogger(__name__)

# Errors a handler raises for an event it cannot make sense of: dead-letter, do not retry.
SKIP_ERRORS = (InvalidEvent, KeyError, TypeError, ValueError)
IDLE_SLEEP = 0.02  # seconds between empty polls: bounds the added latency
QUIET_CONSUMER_ERRORS = (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART,
                         KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)


class DeadLetterEntrypoint(Entrypoint):
    """Marks the service method that stores a DeadLetter; run by KafkaEventConsumer."""


dead_letters = DeadLetterEntrypoint.decorator


class KafkaEventConsumer(Entrypoint):
    def __init__(self, topics, group=None, skip_errors=SKIP_ERRORS, **kwargs):
        self.topics = list(topics)
        self.group = group
        self.skip_errors = skip_errors
        self.consumer = None
        self._running = False
        self._thread = None
        # nameko logs expected exceptions as warnings, without a traceback.
        kwargs.setdefault("expected_exceptions", skip_errors)
        super().__init__(**kwargs)

    def setup(self):
        config = self.container.config
        self.group_id = topic(config, self.group or self.container.service_name)
        self.topic_names = [topic(config, name) for name in self.topics]
        self.retry_max = 10.0
        found = [e for e in self.container.entrypoints if isinstance(e, DeadLetterEntrypoint)]
        if len(found) != 1:
            raise RuntimeError(
                f"{self.container.service_name}.{self.method_name} consumes Kafka and needs "
                f"exactly one @dead_letters method to store what it cannot use (found {len(found)})")
        self.dead_letter_entrypoint = found[0]

    def start(self):
        self._running = True
        config = self.container.config
        self.consumer = Consumer(consumer_config(config, self.group_id, **{
            # At least once: only offsets stored after a handled event are committed.
            "enable.auto.commit": True,
            "enable.auto.offset.store": False,
            "auto.commit.interval.ms": settings_of(config).KAFKA_COMMIT_INTERVAL_MS,
        }))
        self.consumer.subscribe(self.topic_names)
        self._thread = self.container.spawn_managed_thread(self._run, identifier="kafka_consumer")

    def stop(self):
        self._running = False
        if self._thread is not None:
            # The event in hand finishes (and is committed) before we leave.
            with eventlet.Timeout(30, False):
                self._thread.wait()
            self._thread.kill()
        self._close()

    def kill(self):
        self._running = False
        if self._thread is not None:
            self._thread.kill()
        self._close()

    def _close(self):
        consumer, self.consumer = self.consumer, None
        if consumer is not None:
            # close() leaves the group and may wait on the broker: off the hub.
            tpool.execute(consumer.close)

    def _run(self):
        while self._running:
            try:
                message = self.consumer.poll(0)
                if message is None:
                    eventlet.sleep(IDLE_SLEEP)
                    continue
                if message.error():
                    if message.error().code() not in QUIET_CONSUMER_ERRORS:
                        log.warning("kafka consumer error", extra={"error": message.error().str()})
                    continue
                self._handle(message)
            except ContainerBeingKilled:
                return
            except Exception:  # keep consuming; this thread dying would kill the service
                log.exception("kafka consumer loop failed", extra={"topics": self.topic_names})
                eventlet.sleep(1)

    def _handle(self, message):
        where = {"topic": message.topic(), "partition": message.partition(),
                 "offset": message.offset()}
        try:
            event = decode(message.value())
        except InvalidEvent as exc:
            self._dead_letter(message, DeadLetter.of(self.group_id, message, exc.kind,
                                                     exc.reason, event_type=exc.type))
            return
        delay = 0.2
        while self._running:
            exc_info = self._run_worker(self, event, {"event_id": str(event.event_id)})
            if exc_info is None:
                self._count(message)
                self._store_offset(message)
                return
            if isinstance(exc_info[1], self.skip_errors):
                self._dead_letter(message, DeadLetter.of(
                    self.group_id, message, REJECTED, repr(exc_info[1]),
                    event_type=event.type, event_id=event.event_id))
                return
            log.error("event handler failed; retrying",
                      extra=dict(where, event_id=str(event.event_id), error=repr(exc_info[1])))
            self._count(message, "handler_failed")
            eventlet.sleep(delay)
            delay = min(delay * 2, self.retry_max)
        # Stopping before the event was handled: not committed, so it is redelivered.

    def _dead_letter(self, message, letter):
        """Hand the letter to the @dead_letters method until it is stored; then, and only
        then, the message's offset is stored."""
        log.warning("dead-lettering message", extra=dict(letter.where(), kind=letter.kind,
                                                         reason=letter.reason))
        delay = 0.2
        while self._running:
            exc_info = self._run_worker(self.dead_letter_entrypoint, letter,
                                        {"dead_letter": letter.kind})
            if exc_info is None:
                metrics.KAFKA_DEAD_LETTERED.labels(
                    self.container.service_name, self._topic_label(letter.topic), letter.kind).inc()
                self._store_offset(message)
                return
            log.error("dead letter not stored; retrying",
                      extra=dict(letter.where(), error=repr(exc_info[1])))
            metrics.KAFKA_CONSUME_ERRORS.labels(self.container.service_name,
                                                self._topic_label(letter.topic),
                                                "dead_letter_failed").inc()
            eventlet.sleep(delay)
            delay = min(delay * 2, self.retry_max)

    def _topic_label(self, name):
        """The topic name without the (test) prefix: label values must stay few."""
        prefix = topic(self.container.config, "")
        name = name or ""
        return name[len(prefix):] if prefix and name.startswith(prefix) else name

    def _count(self, message, error=None):
        """Prometheus (imageboard/metrics.py), by topic name without the test prefix."""
        name = self._topic_label(message.topic())
        component = self.container.service_name
        if error is None:
            metrics.KAFKA_CONSUMED.labels(component, name).inc()
        else:
            metrics.KAFKA_CONSUME_ERRORS.labels(component, name, error).inc()

    def _run_worker(self, entrypoint, argument, context_data):
        done = Event()

        def handle_result(worker_ctx, result, exc_info):
            done.send(exc_info)
            return result, exc_info

        self.container.spawn_worker(entrypoint, (argument,), {}, context_data=context_data,
                                    handle_result=handle_result)
        return done.wait()

    def _store_offset(self, message):
        try:
            # Local only: the next periodic commit sends it; a lost one means a redelivery.
            self.consumer.store_offsets(message=message)
        except Exception as exc:  # e.g. the partition was revoked meanwhile
            log.warning("offset not stored; the event may be redelivered",
                        extra={"error": str(exc)})


consume_events = KafkaEventConsumer.decorator
