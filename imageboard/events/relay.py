"""Outbox relay: publishes a service's outbox table to Kafka and marks the rows sent.

Add it to any service class that has an outbox (an outbox migration like services/users/migrations/0002_outbox.sql):

    class PostsService:
        name = "posts"
        relay = OutboxRelay()

It runs one background green thread per service instance:
- wakes on `NOTIFY outbox` (sent by record_event at commit) or every OUTBOX_POLL_INTERVAL;
- only the instance holding the service's advisory lock publishes, so two instances of a
  service never interleave and order per key holds;
- publishes unsent rows in id order with an idempotent producer (acks=all), waiting for
  the delivery reports with poll(0) + green sleeps (never a blocking flush), and marks
  exactly the delivered rows sent; failed rows stay unsent and go out on the next round;
- with the broker down, writes keep succeeding (they only touch PostgreSQL) and the rows
  wait; once it is back the topics are (re)created and the backlog goes out in order.

A broker that lost its data while down (tansu stores in memory) would also lose events it
had acknowledged but consumers had not read yet. So when the producer reports every broker
down, the relay re-publishes, once the broker is back, the rows it had marked sent within
OUTBOX_REPLAY_SECONDS before the outage. Consumers deduplicate on event_id, so with a
durable broker this costs only duplicates.
"""
import logging
import time
import zlib
from functools import partial

import eventlet
import psycopg2
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient
from eventlet.green import select
from nameko.extensions import DependencyProvider

from imageboard import metrics
from imageboard.config import database_url, topic
from imageboard.db import connect_kwargs, delete_older_than
from imageboard.events.kafka import (TopicsUnavailable, client_config, ensure_topics,
                                     producer_config)
from imageboard.events.outbox import NOTIFY_CHANNEL
from imageboard.settings import settings_of

log = logging.getLogger(__name__)
PRUNE_INTERVAL = 3600.0  # seconds between prunes of published outbox rows

BROKER_DOWN_ERRORS = (KafkaError._ALL_BROKERS_DOWN,)


class Relay:
    """The relay's work, independent of nameko (tests drive it with run_once)."""

    def __init__(self, config, service, batch_size=500):
        self.config = config
        self.service = service
        self.batch_size = batch_size
        settings = settings_of(config)
        self.poll_interval = settings.OUTBOX_POLL_INTERVAL
        self.coalesce = settings.OUTBOX_COALESCE_SECONDS
        self.replay_seconds = settings.OUTBOX_REPLAY_SECONDS
        self.retention_days = settings.OUTBOX_RETENTION_DAYS
        self.message_timeout = settings.KAFKA_MESSAGE_TIMEOUT_MS / 1000
        # One lock key per service database: one publishing instance at a time.
        self.lock_id = zlib.crc32(f"outbox-relay:{service}".encode())
        self.conn = None
        self.is_leader = False
        self.producer = None
        self.admin = None
        self.topics_ready = False
        self.broker_down_since = None
        self.published_total = 0
        self.failed_total = 0
        self.pending = None  # unsent rows as last counted by the leader (Prometheus gauge)
        # None, not 0.0: the monotonic clock counts from boot, so on a machine up for less
        # than PRUNE_INTERVAL "0.0" would read as "pruned a moment ago".
        self._pending_counted_at = None
        self._pruned_at = None

    # -- PostgreSQL -------------------------------------------------------------------

    def _connection(self):
        if self.conn is None or self.conn.closed:
            name, kwargs = connect_kwargs(database_url(self.config, self.service))
            self.conn = psycopg2.connect(dbname=name, **kwargs)
            self.conn.autocommit = True
            self.is_leader = False
            with self.conn.cursor() as cur:
                cur.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return self.conn

    def _query(self, sql, params=()):
        with self._connection().cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else cur.rowcount

    def _lead(self):
        """Session advisory lock: held until this connection closes."""
        if not self.is_leader:
            self.is_leader = self._query("SELECT pg_try_advisory_lock(%s)", (self.lock_id,))[0][0]
        return self.is_leader

    def pending_count(self):
        """Unsent rows; on a connection of its own (the relay's belongs to its thread)."""
        name, kwargs = connect_kwargs(database_url(self.config, self.service))
        conn = psycopg2.connect(dbname=name, **kwargs)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                return cur.fetchone()[0]
        finally:
            conn.close()

    def wait_for_work(self, timeout):
        """Sleep until a NOTIFY arrives or `timeout` passes (green select on the socket)."""
        conn = self._connection()
        if not conn.notifies:
            select.select([conn], [], [], timeout)
            conn.poll()
        if conn.notifies and self.coalesce > 0:
            # Let the commits of a burst land, then publish them in one round.
            eventlet.sleep(self.coalesce)
            conn.poll()
        conn.notifies.clear()

    # -- Kafka --------------------------------------------------------------------------

    def _on_error(self, error):
        if error.code() in BROKER_DOWN_ERRORS and self.broker_down_since is None:
            self.broker_down_since = time.time()
            log.warning("kafka broker unreachable; outbox rows wait", extra={"service": self.service})
        if error.fatal():
            log.error("fatal producer error; recreating the producer", extra={"error": error.str()})
            self.producer = None

    def _producer(self):
        if self.producer is None:
            self.producer = Producer(producer_config(self.config, error_cb=self._on_error))
        return self.producer

    def _ensure_topics(self):
        self.admin = self.admin or AdminClient(client_config(self.config))
        ensure_topics(self.config, timeout=5, admin=self.admin)
        self.topics_ready = True

    def _publish(self, rows):
        """Send rows [(id, topic, key, body)] and wait for their delivery reports.
        Returns (delivered ids, number failed)."""
        producer = self._producer()
        reports = {}

        def delivered(row_id, error, _message):
            reports[row_id] = error

        for row_id, topic_name, key, body in rows:
            while True:
                try:
                    producer.produce(topic(self.config, topic_name), key=key, value=body,
                                     on_delivery=partial(delivered, row_id))
                    break
                except BufferError:  # local queue full: let it drain
                    producer.poll(0)
                    eventlet.sleep(0.01)
                except KafkaException as exc:  # fatal producer state: start afresh next round
                    log.warning("producer failed; recreating it",
                                extra={"service": self.service, "error": str(exc)})
                    self._drop_producer()
                    return [], len(rows)
        deadline = time.monotonic() + self.message_timeout + 5
        while len(reports) < len(rows) and time.monotonic() < deadline:
            producer.poll(0)
            eventlet.sleep(0.002)
        ok = [row_id for row_id, error in reports.items() if error is None]
        failed = len(rows) - len(ok)
        if failed:
            first = next((e for e in reports.values() if e is not None), "no delivery report")
            log.warning("outbox events not delivered; will retry",
                        extra={"service": self.service, "failed": failed, "error": str(first)})
        return ok, failed

    def _replay_after_outage(self):
        """The broker is back after an outage: re-send what it may have lost."""
        since = self.broker_down_since - self.replay_seconds
        count = self._query(
            "UPDATE outbox SET published_at = NULL WHERE published_at >= to_timestamp(%s)",
            (since,),
        )
        self.broker_down_since = None
        if count:
            log.warning("re-publishing events the broker may have lost",
                        extra={"service": self.service, "events": count})

    def run_once(self):
        """One round: publish up to batch_size unsent rows. Returns how many went out."""
        self._producer().poll(0)  # serve error callbacks (broker up/down) even when idle
        if not self._lead():
            return 0
        self._count_pending()
        self._prune_published()
        if not self.topics_ready or self.broker_down_since is not None:
            self._ensure_topics()  # raises TopicsUnavailable while the broker is down
            if self.broker_down_since is not None:
                # A broker that lost its state also forgot this producer's id and sequence
                # numbers: the idempotent producer must start over (else a fatal
                # OUT_OF_ORDER_SEQUENCE_NUMBER), then re-send what may have been lost.
                self._drop_producer()
                self._replay_after_outage()
        rows = self._query(
            "SELECT id, topic, event_key, body FROM outbox WHERE published_at IS NULL "
            "ORDER BY id LIMIT %s", (self.batch_size,),
        )
        if not rows:
            return 0
        ok, failed = self._publish(rows)
        if ok:
            self._query("UPDATE outbox SET published_at = now() WHERE id = ANY(%s)", (ok,))
        self.published_total += len(ok)
        self.failed_total += failed
        self._count_published(rows, ok, failed)
        if failed:
            # Whatever happened, the broker may have restarted: check topics next round,
            # with a fresh producer (its queue dropped without blocking: rows stay unsent).
            self.topics_ready = False
            self._drop_producer()
        return len(ok)

    def _drop_producer(self):
        producer, self.producer = self.producer, None
        if producer is not None:
            producer.purge(in_queue=True, in_flight=True, blocking=False)
            producer.poll(0)

    def _prune_published(self, batch_size=10000):
        """At most hourly, the leader deletes events published more than
        OUTBOX_RETENTION_DAYS ago, a batch at a time (db.delete_older_than): the outbox keeps
        what a replay (OUTBOX_REPLAY_SECONDS) or an operator's re-publish may still need,
        not every event ever. Returns how many went."""
        if self._pruned_at is not None and time.monotonic() - self._pruned_at < PRUNE_INTERVAL:
            return 0
        self._pruned_at = time.monotonic()
        deleted = delete_older_than(self._query, "outbox", "id", "published_at",
                                    self.retention_days, batch_size)
        if deleted:
            log.info("pruned published outbox events",
                     extra={"service": self.service, "deleted": deleted})
        return deleted

    def _count_pending(self):
        """At most once a second, on the relay's own connection (no new connections)."""
        if self._pending_counted_at is None or time.monotonic() - self._pending_counted_at >= 1.0:
            self.pending = self._query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]
            self._pending_counted_at = time.monotonic()

    def _count_published(self, rows, ok, failed):
        delivered = set(ok)
        for _id, topic_name, _key, _body in rows:
            if _id in delivered:
                metrics.OUTBOX_PUBLISHED.labels(self.service, topic_name).inc()
        if failed:
            metrics.OUTBOX_PUBLISH_ERRORS.labels(self.service).inc(failed)

    def run(self, should_run):
        backoff = 0.5
        while should_run():
            try:
                published = self.run_once()
                backoff = 0.5
                if published < self.batch_size:
                    self.wait_for_work(self.poll_interval if self.is_leader else 5 * self.poll_interval)
            except TopicsUnavailable as exc:
                metrics.OUTBOX_PUBLISH_ERRORS.labels(self.service).inc()
                log.warning("kafka unavailable; outbox relay waiting",
                            extra={"service": self.service, "error": str(exc)})
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 10)
            except psycopg2.Error as exc:
                log.warning("outbox relay lost its database connection",
                            extra={"service": self.service, "error": str(exc).strip()})
                self.close_db()
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 10)
            except Exception:
                log.exception("outbox relay round failed", extra={"service": self.service})
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 10)

    def status(self):
        return {
            "service": self.service,
            "leader": self.is_leader,
            "published_total": self.published_total,
            "failed_total": self.failed_total,
            "broker_down": self.broker_down_since is not None,
        }

    def close_db(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
        self.conn = None
        self.is_leader = False

    def close(self):
        self.close_db()
        self._drop_producer()  # undelivered messages stay unsent rows; nothing to flush


class OutboxRelay(DependencyProvider):
    """Runs a Relay beside the service's workers. Workers get its status (for ops:
    `n.rpc.<service>.outbox_status()` where a service exposes it)."""

    def __init__(self, service_name=None, batch_size=500):
        self.service_name = service_name
        self.batch_size = batch_size
        self.relay = None
        self._running = False
        self._thread = None

    def setup(self):
        service = self.service_name or self.container.service_name
        self.relay = Relay(self.container.config, service, batch_size=self.batch_size)

    def start(self):
        self._running = True
        metrics.watch_outbox(self.relay.service, self._pending)
        metrics.OUTBOX_PUBLISH_ERRORS.labels(self.relay.service)  # exported as 0 from the start
        self._thread = self.container.spawn_managed_thread(
            lambda: self.relay.run(lambda: self._running), identifier="outbox_relay")

    def stop(self):
        self._running = False
        metrics.unwatch_outbox(self._pending)
        if self._thread is not None:
            # Let the current round finish (rows it delivered get marked sent).
            with eventlet.Timeout(self.relay.message_timeout + 10, False):
                self._thread.wait()
            self._thread.kill()
        self.relay.close()

    def kill(self):
        self._running = False
        metrics.unwatch_outbox(self._pending)
        if self._thread is not None:
            self._thread.kill()
        self.relay.close()

    def get_dependency(self, worker_ctx):
        return self

    def _pending(self):
        # Only the leader counts; other instances report nothing (dashboards take the max).
        return self.relay.pending if self.relay.is_leader else None

    def status(self):
        return dict(self.relay.status(), pending=self.relay.pending_count())
