"""The Kafka side of the stream process: one consumer thread, no consumer group.

Every stream process reads every partition of the topics it shows (assign, never
subscribe: no group, no rebalance, no committed offsets), starting SSE_REPLAY_SECONDS back
(offsets_for_times), so a freshly started or restarted process holds the same replay
window as the others and resumes their clients' ids (ids.py). The thread polls, decodes
with the event catalogue, hydrates what needs a representation (translate.Hydrator, one
batch per poll) and hands the items to the loop with call_soon_threadsafe: the loop
never waits on Kafka or an RPC.
"""
import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka import Consumer, KafkaException, TopicPartition

from contracts.events import InvalidEvent, decode
from imageboard import metrics
from imageboard.config import topic
from imageboard.events.kafka import client_config
from streaming import ids
from streaming.hub import Item
from streaming.translate import Hydrator, translate

log = logging.getLogger(__name__)

from imageboard.events.envelope import ALL_TOPICS

# The topics with something to show; moderation-events once the catalogue declares it.
TOPICS = tuple(t for t in ("post-events", "comment-events", "notification-events",
                           "moderation-events") if t in ALL_TOPICS)
BATCH = 500


class KafkaFeed:
    def __init__(self, config, loop, deliver, positioned, rpc, replay_seconds,
                 topics=TOPICS, consumer_factory=Consumer):
        """deliver(items) and positioned({tp: first offset}) are called on the loop."""
        self.config = config
        self.loop = loop
        self.deliver = deliver
        self.positioned = positioned
        self.hydrator = Hydrator(rpc)
        self.replay_seconds = replay_seconds
        self.topics = topics
        self.consumer_factory = consumer_factory
        self.ready = False           # every topic assigned (those that exist)
        self.caught_up = False       # the replay window is read
        self._stopped = threading.Event()
        self._thread = None
        self._names = {}             # prefixed topic -> base name
        # Batches are hydrated side by side (a slow batch does not hold the next one's
        # RPCs back) and handed to the loop strictly in the order they were read.
        self._batches = ThreadPoolExecutor(4, thread_name_prefix="stream-batch")
        self._in_order = queue.Queue()

    def start(self):
        self._thread = threading.Thread(target=self._run, name="stream-kafka", daemon=True)
        self._thread.start()
        threading.Thread(target=self._hand_over, name="stream-handover", daemon=True).start()
        return self

    def _hand_over(self):
        while True:
            future = self._in_order.get()
            if future is None:
                return
            try:
                items = future.result()
            except Exception:
                log.exception("stream: a batch failed")
                continue
            self.loop.call_soon_threadsafe(self.deliver, items)

    def stop(self):
        self._stopped.set()
        self._in_order.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _consumer(self):
        # No group.id: assign() only; librdkafka needs none for that.
        return self.consumer_factory(client_config(self.config, **{
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "group.id": f"unused-stream-{id(self)}",  # never joined (assign, no commit)
            "topic.metadata.refresh.interval.ms": 2000,
            "fetch.wait.max.ms": 20,
        }))

    def _assign(self, consumer, assigned):
        """Assign the partitions of every topic that exists and is not assigned yet."""
        metadata = consumer.list_topics(timeout=5)
        start_ms = int((time.time() - self.replay_seconds) * 1000)
        wanted = []
        for base in self.topics:
            name = topic(self.config, base)
            found = metadata.topics.get(name)
            if found is None or found.error is not None or name in assigned:
                continue
            self._names[name] = base
            wanted += [TopicPartition(name, p, start_ms) for p in sorted(found.partitions)]
        if not wanted:
            return []
        offsets = consumer.offsets_for_times(wanted, timeout=10)
        starts = {}
        resolved = []
        for tp in offsets:
            offset = tp.offset
            if offset < 0:  # nothing that new: start at the end
                _, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition),
                                                         timeout=5)
                offset = high
            resolved.append(TopicPartition(tp.topic, tp.partition, offset))
            starts[ids.tp_name(self._names[tp.topic], tp.partition)] = offset
        self.loop.call_soon_threadsafe(self.positioned, starts)
        consumer.incremental_assign(resolved)
        assigned.update(tp.topic for tp in resolved)
        return resolved

    def _targets(self, consumer, partitions):
        """High watermarks now: reaching them means the replay window is read."""
        targets = {}
        for tp in partitions:
            _, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition),
                                                     timeout=5)
            if high > tp.offset:
                targets[(tp.topic, tp.partition)] = high - 1
        return targets

    def _run(self):
        while not self._stopped.is_set():
            consumer = None
            try:
                consumer = self._consumer()
                assigned = set()
                targets = self._targets(consumer, self._assign(consumer, assigned))
                self.ready = bool(assigned)
                self.caught_up = self.ready and not targets
                next_check = time.monotonic() + 2
                while not self._stopped.is_set():
                    if time.monotonic() >= next_check or len(assigned) < len(self.topics):
                        if len(assigned) < len(self.topics) and time.monotonic() >= next_check:
                            targets.update(self._targets(consumer, self._assign(consumer, assigned)))
                            self.ready = bool(assigned)
                        next_check = time.monotonic() + 2
                    messages = consumer.consume(BATCH, timeout=0.05)
                    if messages:
                        self._handle(messages)
                        for message in messages:
                            key = (message.topic(), message.partition())
                            if key in targets and message.offset() >= targets[key]:
                                del targets[key]
                    if not targets and self.ready:
                        self.caught_up = True
            except KafkaException as exc:
                log.warning("stream kafka consumer failed", extra={"error": repr(exc)})
            except Exception:
                log.exception("stream kafka consumer failed")
            finally:
                self.ready = False
                if consumer is not None:
                    try:
                        consumer.close()
                    except Exception:
                        pass
            self._stopped.wait(1.0)

    def _handle(self, messages):
        received = time.monotonic()
        pairs = []
        for message in messages:
            if message.error() is not None:
                continue
            base = self._names.get(message.topic())
            if base is None:
                continue
            tp = ids.tp_name(base, message.partition())
            try:
                event = decode(message.value())
            except InvalidEvent as exc:
                log.warning("stream: event refused", extra={"reason": str(exc), "tp": tp})
                pairs.append((Item(tp, message.offset(), time.time(), received=received), None))
                continue
            pairs.append(translate(event, tp, message.offset(), received))
        self._in_order.put(self._batches.submit(self._hydrate, pairs))

    def _hydrate(self, pairs):
        started = time.monotonic()
        items = self.hydrator.hydrate(pairs)
        metrics.STREAM_HYDRATION.observe(time.monotonic() - started)
        return items
