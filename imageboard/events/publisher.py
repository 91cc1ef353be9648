"""Best-effort events (analytics-events, e.g. post.viewed): straight to Kafka, no outbox
row, never waiting. If the broker is down or the local queue is full the event is
dropped and counted (imageboard_best_effort_dropped_total); the request that caused it is
never slowed or failed.

In a Nameko service:

    class PostsService:
        events = EventPublisher()

        @rpc
        def get_post(self, post_id, viewer_id=None):
            ...
            self.events.publish(PostViewed(post_id=post_id, viewer_id=viewer_id),
                                key=post_id, actor_id=viewer_id)

The payload is a model of the event catalogue (contracts/events.py), validated before it
is queued; one that does not fit is dropped, counted and logged, never sent.

Outside Nameko (e.g. the gateway's threads) use BestEffortPublisher(config) directly.
"""
import logging

from confluent_kafka import Producer
from nameko.extensions import DependencyProvider

from contracts.events import CATALOGUE, InvalidEvent, encode, new_event
from imageboard import metrics
from imageboard.config import topic
from imageboard.events.kafka import producer_config

log = logging.getLogger(__name__)


class BestEffortPublisher:
    def __init__(self, config):
        self.config = config
        self._reports = {e.type: self._delivery_report(e.type) for e in CATALOGUE if e.best_effort}
        self.producer = Producer(producer_config(
            config,
            **{
                "enable.idempotence": False,
                "acks": 1,
                # Batch views for 100 ms: one produce request per ~20 views instead of
                # one per view (tansu spent 40% of a core on them in the mix benchmark).
                "linger.ms": 100,
                # Views are worth little after a few seconds; bound memory and retries.
                "message.timeout.ms": 5000,
                "queue.buffering.max.messages": 10000,
                "error_cb": lambda error: None,  # outages are expected; counted as drops
            },
        ))

    @staticmethod
    def _delivery_report(event_type):
        undelivered = metrics.BEST_EFFORT_DROPPED.labels(event_type, "undelivered")

        def delivered(error, _message):
            if error is not None:
                undelivered.inc()
        return delivered

    def publish(self, payload, key, actor_id):
        """Queue the event and return it at once (None if it was refused); delivery reports
        are served here too."""
        entry = payload.spec
        try:
            event = new_event(payload, key, actor_id)
        except InvalidEvent as exc:  # e.g. a viewer id out of range: refused, not sent
            metrics.BEST_EFFORT_DROPPED.labels(entry.type, "refused").inc()
            log.error("best-effort event refused by the catalogue",
                      extra={"type": entry.type, "reason": exc.reason})
            return None
        try:
            self.producer.produce(topic(self.config, entry.topic), key=event.key,
                                  value=encode(event), on_delivery=self._reports[entry.type])
        except BufferError:
            metrics.BEST_EFFORT_DROPPED.labels(entry.type, "queue_full").inc()
        except Exception as exc:  # never let analytics break the request
            metrics.BEST_EFFORT_DROPPED.labels(entry.type, "error").inc()
            log.warning("best-effort event dropped", extra={"type": entry.type, "error": str(exc)})
        self.producer.poll(0)
        return event

    def close(self):
        # Serve pending delivery reports; no flush: it would block, and views may be lost.
        self.producer.poll(0)


class EventPublisher(DependencyProvider):
    """Nameko dependency: one BestEffortPublisher per service instance."""

    def setup(self):
        self.publisher = BestEffortPublisher(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.publisher

    def stop(self):
        self.publisher.close()
