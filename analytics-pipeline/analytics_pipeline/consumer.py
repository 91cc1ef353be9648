"""The Kafka -> ClickHouse loop (the arroyo/snuba shape): read a batch, write it, then commit.

* A batch closes at PIPELINE_BATCH_SIZE messages or PIPELINE_BATCH_SECONDS after its first
  message, whichever comes first.
* Every message is parsed with the event catalogue (rows.py, contracts/events.py). One it
  refuses (not JSON, a broken envelope, an unknown type or version, a payload that does not
  fit its model) is a dead letter: a row of ClickHouse's `dead_letters` table with its raw
  value, topic, partition, offset, kind and reason, counted in
  imageboard_pipeline_dead_lettered_total. It never stops the pipeline.
* Offsets are committed only after every row of the batch is in ClickHouse and every
  dead letter of it is in `dead_letters`. If either fails, the consumer seeks
  back to the batch's first offsets and reads it again after a pause: nothing is lost, and
  the re-inserted rows are duplicates by event_id that the tables and queries ignore;
  `posts` and `post_deletions` rows are checked against their table first and never stored
  twice (unique_posts.py), and post_like_totals rows are changes computed against what is
  stored (like_totals.py).
* On a rebalance the batch in hand is flushed before its partitions are given up.

This runs as a plain process (no eventlet), so blocking Kafka and ClickHouse calls are fine.
"""
import logging
import time
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from analytics_pipeline import erasure, metrics
from analytics_pipeline.like_totals import like_total_rows
from analytics_pipeline.rows import COLUMNS, Malformed, parse, rows_for
from analytics_pipeline.unique_posts import unstored_deletions, unstored_posts
from contracts.events import UserDeleted
from imageboard.config import topic
from imageboard.events.envelope import ALL_TOPICS
from imageboard.events.kafka import TopicsUnavailable, consumer_config, ensure_topics
from imageboard.settings import settings_of

log = logging.getLogger(__name__)

def source_topics(config):
    return [topic(config, name) for name in ALL_TOPICS]


def group_id(config):
    # The prefix keeps test runs and benchmark runs out of each other's consumer groups.
    return topic(config, "analytics-pipeline")


@dataclass
class Batch:
    started: float = 0.0
    size: int = 0
    rows: dict = field(default_factory=dict)          # table -> [row tuple]
    dead_letters: list = field(default_factory=list)  # (message, Malformed)
    offsets: dict = field(default_factory=dict)       # (topic, partition) -> [first, last]
    per_topic: dict = field(default_factory=dict)     # topic -> message count
    seen: set = field(default_factory=set)            # event ids, to drop in-batch duplicates
    named: dict = field(default_factory=dict)         # table -> [user ids each row's event names]
    deleted_users: list = field(default_factory=list)  # ids of the batch's user.deleted

    def add(self, message):
        if not self.size:
            self.started = time.monotonic()
        self.size += 1
        tp = (message.topic(), message.partition())
        span = self.offsets.setdefault(tp, [message.offset(), message.offset()])
        span[1] = message.offset()
        self.per_topic[tp[0]] = self.per_topic.get(tp[0], 0) + 1
        try:
            event = parse(message.value())
            if event.event_id in self.seen:
                return
            produced = rows_for(event, tp[0], tp[1], message.offset())
        except Malformed as exc:
            self.dead_letters.append((message, exc))
            return
        self.seen.add(event.event_id)
        if isinstance(event.payload, UserDeleted):
            self.deleted_users.append(event.payload.user_id)
        names = erasure.user_ids_of(event)
        for table, row in produced:
            self.rows.setdefault(table, []).append(row)
            self.named.setdefault(table, []).append(names)

    def user_ids(self):
        """Every user id the batch's events name."""
        return set().union(*(ids for named in self.named.values() for ids in named))

    def rows_without(self, erased):
        """The rows of events that name none of `erased` (contract v2 section 6.3)."""
        if not erased:
            return self.rows
        return {table: [row for row, names in zip(rows, self.named[table]) if not names & erased]
                for table, rows in self.rows.items()}

    def age(self):
        return time.monotonic() - self.started if self.size else 0.0


# `posts` first: a like is never stored before the creation of its post (like_totals.py
# tells the two apart); post_like_totals before `likes` (like_totals.py: a retry after a
# failure in between adds nothing); `events` last: a partial failure is retried whole.
WRITE_ORDER = {"posts": 0, "post_like_totals": 1, "events": 3}


DELETED_POST_ID = COLUMNS["post_deletions"].index("post_id")


def write_order(table):
    return WRITE_ORDER.get(table, 2)


class ClickHouseSink:
    def __init__(self, client):
        self.client = client

    def write_batch(self, batch):
        """A batch's rows, without those naming an erased user; then the batch's erasures
        (erasure.py: recorded first, so no row of theirs is written after the mutations)."""
        erased = erasure.erased_among(self.client, batch.user_ids()) | set(batch.deleted_users)
        if batch.deleted_users:
            erasure.record(self.client, sorted(set(batch.deleted_users)), "started")
        self.write(batch.rows_without(erased))
        for user_id in sorted(set(batch.deleted_users)):
            erasure.erase(self.client, user_id)

    def write(self, rows_by_table):
        rows_by_table = dict(rows_by_table)
        if rows_by_table.get("likes") or rows_by_table.get("post_deletions"):
            rows_by_table["post_like_totals"] = None  # computed once `posts` is written
        for table in sorted(rows_by_table, key=write_order):
            rows = rows_by_table[table]
            if table == "posts":
                # One row per post (unique_posts.py): posts/stats counts them with count().
                rows = unstored_posts(self.client, rows)
            elif table == "post_deletions":
                rows = unstored_deletions(self.client, rows)
            elif table == "post_like_totals":
                rows = like_total_rows(self.client, rows_by_table.get("likes", ()),
                                       [row[DELETED_POST_ID] for row in
                                        rows_by_table.get("post_deletions", ())])
            if rows:
                self._insert(table, rows)
                metrics.ROWS.labels(table).inc(len(rows))

    def write_dead_letters(self, dead_letters):
        """[(message, Malformed)] -> rows of `dead_letters`: the message as received."""
        failed_at = int(time.time())
        self._insert("dead_letters", [
            (failed_at, message.topic(), message.partition(), message.offset(),
             message.key() or b"", message.value() or b"", exc.kind, exc.reason,
             exc.event_type or "")
            for message, exc in dead_letters])

    def _insert(self, table, rows):
        # Columnar: zip transposes in C, cheaper than the driver doing it per row.
        columns = ", ".join(f"`{c}`" for c in COLUMNS[table])  # `offset` is a keyword
        self.client.execute(f"INSERT INTO {table} ({columns}) VALUES",
                            [list(column) for column in zip(*rows)], columnar=True)


class Pipeline:
    def __init__(self, config, sink, batch_size=None, batch_seconds=None, retry_seconds=None):
        self.config = config
        self.sink = sink
        settings = settings_of(config)
        self.batch_size = int(batch_size or settings.PIPELINE_BATCH_SIZE)
        self.batch_seconds = float(batch_seconds or settings.PIPELINE_BATCH_SECONDS)
        self.retry_seconds = float(retry_seconds or settings.PIPELINE_RETRY_SECONDS)
        self.running = False
        self.batch = Batch()
        self.consumer = Consumer(consumer_config(config, group_id(config), **{
            # Freshness: do not let the broker hold a fetch for long when little is flowing.
            "fetch.wait.max.ms": 100,
            "statistics.interval.ms": 5000,
            "stats_cb": metrics.record_stats,
            "error_cb": self._on_kafka_error,
        }))

    # -- Kafka callbacks -------------------------------------------------------------
    def _on_kafka_error(self, error):
        metrics.kafka_error("", error.name())
        log.warning("kafka error", extra={"error": str(error)})

    def _on_revoke(self, consumer, partitions):
        if self.batch.size:
            self.flush()

    # -- the loop ----------------------------------------------------------------------
    def start(self):
        while True:  # the broker may still be starting: wait for it rather than exit
            try:
                ensure_topics(self.config, ALL_TOPICS)
                break
            except TopicsUnavailable as exc:
                log.warning("kafka not ready; retrying", extra={"error": str(exc)})
                time.sleep(self.retry_seconds)
        self.consumer.subscribe(source_topics(self.config), on_revoke=self._on_revoke)
        self.running = True

    def run(self):
        self.start()
        log.info("pipeline consuming", extra={"topics": source_topics(self.config),
                                              "group": group_id(self.config)})
        try:
            while self.running:
                self.step()
            if self.batch.size:
                self.flush()
        finally:
            self.consumer.close()

    def stop(self, *_args):
        self.running = False

    def step(self):
        """Read what is there (waiting at most until the batch is due), flush when due."""
        wait = max(0.0, self.batch_seconds - self.batch.age()) if self.batch.size else self.batch_seconds
        want = min(1000, self.batch_size - self.batch.size)
        for message in self.consumer.consume(num_messages=want, timeout=wait):
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    metrics.kafka_error(message.topic(), error.name())
                    log.warning("consume error", extra={"error": str(error)})
                continue
            self.batch.add(message)
        if self.batch.size and (self.batch.size >= self.batch_size
                                or self.batch.age() >= self.batch_seconds):
            self.flush()

    def flush(self):
        """Write, dead-letter, commit. Returns True if committed; on failure rewinds."""
        batch, self.batch = self.batch, Batch()
        started = time.monotonic()
        try:
            self.sink.write_batch(batch)
            self._dead_letter(batch.dead_letters)
        except Exception as exc:  # ClickHouse or broker down: rewind and retry, never skip
            metrics.INSERT_ERRORS.inc()
            log.error("batch write failed; will re-read it",
                      extra={"error": repr(exc), "messages": batch.size})
            self._rewind(batch)
            time.sleep(self.retry_seconds)
            return False
        self._commit(batch)
        metrics.BATCH_SECONDS.observe(time.monotonic() - started)
        metrics.BATCH_SIZE.observe(batch.size)
        for topic_name, count in batch.per_topic.items():
            metrics.CONSUMED.labels(topic_name).inc(count)
        return True

    def _dead_letter(self, dead_letters):
        if not dead_letters:
            return
        self.sink.write_dead_letters(dead_letters)
        for message, exc in dead_letters:
            log.warning("dead-lettered message", extra={
                "kind": exc.kind, "reason": exc.reason, "topic": message.topic(),
                "partition": message.partition(), "offset": message.offset()})
            metrics.dead_lettered(message.topic(), exc.kind)

    def _commit(self, batch):
        offsets = [TopicPartition(t, p, last + 1) for (t, p), (_, last) in batch.offsets.items()]
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # The rows are stored; a re-read after this only produces ignored duplicates.
            metrics.kafka_error("", "commit_failed")
            log.warning("offset commit failed", extra={"error": str(exc)})

    def _rewind(self, batch):
        for (t, p), (first, _) in batch.offsets.items():
            try:
                self.consumer.seek(TopicPartition(t, p, first))
            except KafkaException as exc:
                # Partition no longer ours: its new owner starts from the committed offset.
                log.warning("seek failed", extra={"topic": t, "partition": p, "error": str(exc)})
