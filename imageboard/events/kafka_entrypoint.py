"""A Nameko entrypoint that runs a service method for every event on Kafka topics.

    class NotificationsService:
        name = "notifications"

        @consume_events(["post-events", "comment-events"])
        def on_event(self, event):          # the parsed envelope (a dict)
            ...

- Topic names are given without KAFKA_TOPIC_PREFIX; the group id is
  `<prefix><service name>` (or `<prefix><group>`), so test runs never share a group.
- The eventlet hub is never blocked: the consumer is polled with poll(0) and green
  sleeps in between; librdkafka fetches in its own threads.
- Events are handled one at a time in offset order (order per key holds), each in a
  nameko worker; the offset is stored only after the worker succeeded, so its database
  write happened first, and librdkafka commits the stored offsets every
  KAFKA_COMMIT_INTERVAL_MS (and on close). One commit request per event cost the broker
  more than the event itself; a crash redelivers at most that interval's events, so
  handlers must be idempotent on event_id (they are).
- A message that is not a valid envelope, or whose handler raises one of `skip_errors`
  (bad payload), is logged and skipped (committed). Any other failure (database down)
  is retried with backoff until it succeeds; the consumer never moves past it.
"""
import logging

import eventlet
from confluent_kafka import Consumer, KafkaError
from eventlet import tpool
from eventlet.event import Event
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint

from imageboard import metrics
from imageboard.config import topic
from imageboard.events.envelope import MalformedEvent, parse_event
from imageboard.events.kafka import consumer_config
from imageboard.settings import settings_of

log = logging.getLogger(__name__)

# Errors a handler raises for an event it cannot make sense of: skip, do not retry.
SKIP_ERRORS = (MalformedEvent, KeyError, TypeError, ValueError)
IDLE_SLEEP = 0.02  # seconds between empty polls: bounds the added latency
QUIET_CONSUMER_ERRORS = (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART,
                         KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)


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
            event = parse_event(message.value())
        except MalformedEvent as exc:
            log.warning("skipping malformed message", extra=dict(where, reason=str(exc)))
            self._count(message, "malformed")
            self._store_offset(message)
            return
        delay = 0.2
        while self._running:
            exc_info = self._run_worker(event)
            if exc_info is None:
                self._count(message)
                self._store_offset(message)
                return
            if isinstance(exc_info[1], self.skip_errors):
                log.warning("skipping event its handler cannot process",
                            extra=dict(where, event_id=event["event_id"], type=event["type"],
                                       reason=repr(exc_info[1])))
                self._count(message, "skipped")
                self._store_offset(message)
                return
            log.error("event handler failed; retrying",
                      extra=dict(where, event_id=event["event_id"], error=repr(exc_info[1])))
            self._count(message, "handler_failed")
            eventlet.sleep(delay)
            delay = min(delay * 2, self.retry_max)
        # Stopping before the event was handled: not committed, so it is redelivered.

    def _count(self, message, error=None):
        """Prometheus (imageboard/metrics.py), by topic name without the test prefix."""
        prefix = topic(self.container.config, "")
        name = message.topic() or ""
        name = name[len(prefix):] if prefix and name.startswith(prefix) else name
        component = self.container.service_name
        if error is None:
            metrics.KAFKA_CONSUMED.labels(component, name).inc()
        else:
            metrics.KAFKA_CONSUME_ERRORS.labels(component, name, error).inc()

    def _run_worker(self, event):
        done = Event()

        def handle_result(worker_ctx, result, exc_info):
            done.send(exc_info)
            return result, exc_info

        self.container.spawn_worker(
            self, (event,), {}, context_data={"event_id": event["event_id"]},
            handle_result=handle_result,
        )
        return done.wait()

    def _store_offset(self, message):
        try:
            # Local only: the next periodic commit sends it; a lost one means a redelivery.
            self.consumer.store_offsets(message=message)
        except Exception as exc:  # e.g. the partition was revoked meanwhile
            log.warning("offset not stored; the event may be redelivered",
                        extra={"error": str(exc)})


consume_events = KafkaEventConsumer.decorator
