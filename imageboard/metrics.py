"""Prometheus metrics: every metric the system exports is defined here, once per process.

How a component exposes them
- Nameko services: nothing to do. The `rpc` entrypoint of imageboard.service_kit records the
  RPC metrics and brings a MetricsServer sub-extension that serves /metrics on
  METRICS_PORT (if set) or METRICS_PORT_BASE + the service class's metrics_port_offset.
  The `Database` provider registers its pool with `watch_pool`. Anything else in the
  service process (an outbox relay, a Kafka consumer) just increments the metrics below:
  same process, same registry, same port.
- Other processes (the analytics pipeline): call `serve(config, "pipeline", offset)` once at start.
- The gateway (gunicorn, several processes): gateway/metrics.py; prometheus_client's
  multiprocess mode with PROMETHEUS_MULTIPROC_DIR=<var>/metrics/gateway (set by
  gateway/gunicorn_conf.py), served at GET /metrics on the gateway itself.

Metric names (all prefixed imageboard_)
  gateway:   http_requests_total{route,method,status}            counter
             http_request_duration_seconds{route,method}         histogram
             http_requests_in_flight                              gauge
  services:  rpc_requests_total{service,method}                   counter
             rpc_errors_total{service,method,error,expected}      counter (expected="true": a
                                                                  DomainError, i.e. a 4xx/503)
             rpc_duration_seconds{service,method}                 histogram
             service_workers_busy{service} / service_workers_max{service}      gauges
             db_pool_connections{service,state="in_use"|"idle"} / db_pool_max_connections{service}
  outbox:    outbox_pending_events{service}                       gauge (rows not yet sent,
                                                                  counted by the relay leader)
             outbox_published_total{service,topic}                counter
             outbox_publish_errors_total{service}                 counter
  consumers: kafka_consumed_total{component,topic}                counter (services' consumers
             kafka_consume_errors_total{component,topic,reason}   counter  and the pipeline)
             kafka_dead_lettered_total{component,topic,reason}    counter (services' consumers:
                                                                  rows of their dead_letters;
                                                                  reason: the letter's kind)
  moderation (every replica exports the same numbers, read from its database: use max())
             moderation_open_reports                              gauge (reports with status open)
             moderation_oldest_open_report_age_seconds            gauge (0 when none is open)
  events:    best_effort_dropped_total{type,reason}               counter (post.viewed not sent:
                                                                  refused, queue_full, undelivered)
  pipeline:  pipeline_consumed_total{topic}                       counter
             pipeline_inserted_total{table}                       counter (rows into ClickHouse)
             pipeline_dead_lettered_total{topic,reason}           counter (rows of ClickHouse's
                                                                  dead_letters; reason: the kind)
             pipeline_insert_errors_total                         counter
             pipeline_batch_duration_seconds                      histogram (consume->insert->commit)
             pipeline_batch_size                                  histogram (messages per batch)
             pipeline_lag_messages{topic,partition}               gauge
  stream:    stream_connections{kind}                              gauge (open streams by kind:
                                                                  public, post, user, moderation)
             stream_events_delivered_total{event}                 counter (written to a socket)
             stream_events_dropped_total{reason}                  counter (overflow: a slow
                                                                  client's queued events)
             stream_delivery_lag_seconds                          histogram (occurred_at, the
                                                                  commit, to the socket write)
             stream_hydration_seconds                             histogram (one batch's RPCs)
             stream_clients_closed_total{reason}                  counter (overflow, revoked,
                                                                  shutdown)
Label values must stay few (route templates, method names, exception class names): never
put ids or usernames in a label.
"""
import logging
import threading
import time

from prometheus_client import (REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               disable_created_metrics)
from prometheus_client.core import GaugeMetricFamily
from imageboard.settings import settings_of

log = logging.getLogger(__name__)

# The *_created series double the series count and no dashboard uses them.
disable_created_metrics()

# Latency buckets from 5 ms to 10 s: covers a pooled DB read and an RPC timeout alike.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# ---- gateway --------------------------------------------------------------------------
HTTP_REQUESTS = Counter("imageboard_http_requests_total", "HTTP requests answered by the gateway",
                        ["route", "method", "status"])
HTTP_DURATION = Histogram("imageboard_http_request_duration_seconds",
                          "Gateway request latency", ["route", "method"], buckets=LATENCY_BUCKETS)
HTTP_IN_FLIGHT = Gauge("imageboard_http_requests_in_flight", "Requests being handled now",
                       multiprocess_mode="livesum")
RATE_LIMITED = Counter("imageboard_rate_limited_total",
                       "Requests refused with 429 by a per-user limit", ["kind"])
RATE_LIMIT_STORE_ERRORS = Counter("imageboard_rate_limit_store_errors_total",
                                  "Limited requests passed unlimited: Redis unreachable")

# ---- Nameko services ------------------------------------------------------------------
RPC_REQUESTS = Counter("imageboard_rpc_requests_total", "RPC calls handled", ["service", "method"])
RPC_ERRORS = Counter("imageboard_rpc_errors_total", "RPC calls that raised",
                     ["service", "method", "error", "expected"])
RPC_DURATION = Histogram("imageboard_rpc_duration_seconds", "RPC call latency inside the service",
                         ["service", "method"], buckets=LATENCY_BUCKETS)

# ---- transactional outbox relays ------------------------------------------------------
OUTBOX_PUBLISHED = Counter("imageboard_outbox_published_total", "Outbox events published",
                           ["service", "topic"])
OUTBOX_PUBLISH_ERRORS = Counter("imageboard_outbox_publish_errors_total",
                                "Failed outbox publish attempts", ["service"])

# ---- Kafka consumers (notifications service, pipeline) -------------------------------
KAFKA_CONSUMED = Counter("imageboard_kafka_consumed_total", "Kafka messages consumed",
                         ["component", "topic"])
KAFKA_CONSUME_ERRORS = Counter("imageboard_kafka_consume_errors_total",
                               "Kafka messages that failed or were skipped",
                               ["component", "topic", "reason"])
BEST_EFFORT_DROPPED = Counter("imageboard_best_effort_dropped_total",
                              "Best-effort events (post.viewed) not sent: refused by the event "
                              "catalogue, local queue full, or undelivered", ["type", "reason"])
KAFKA_DEAD_LETTERED = Counter("imageboard_kafka_dead_lettered_total",
                              "Kafka messages a service's consumer could not use, stored in its "
                              "dead_letters table", ["component", "topic", "reason"])

# ---- moderation queue (services/moderation: refreshed by a timer, read from its database) --
MODERATION_OPEN_REPORTS = Gauge("imageboard_moderation_open_reports",
                                "Reports waiting in the moderation queue (status open)")
MODERATION_OLDEST_OPEN_REPORT_AGE = Gauge(
    "imageboard_moderation_oldest_open_report_age_seconds",
    "Age of the oldest open report (0 when the queue is empty)")
_oldest_open_report = [None]  # its created_at as epoch seconds, or None: the queue is empty
_clock = time.time


def _oldest_open_report_age():
    oldest = _oldest_open_report[0]
    return 0.0 if oldest is None else max(0.0, _clock() - oldest)


# The age is worked out when Prometheus scrapes (exact between two refreshes).
MODERATION_OLDEST_OPEN_REPORT_AGE.set_function(_oldest_open_report_age)


def set_moderation_queue(open_reports, oldest_created_at):
    """What the moderation service's timer read: the open report count and the oldest one's
    created_at (an aware datetime, or None when none is open)."""
    MODERATION_OPEN_REPORTS.set(open_reports)
    _oldest_open_report[0] = None if oldest_created_at is None else oldest_created_at.timestamp()

# ---- analytics pipeline ---------------------------------------------------------------
PIPELINE_CONSUMED = Counter("imageboard_pipeline_consumed_total", "Messages consumed", ["topic"])
PIPELINE_INSERTED = Counter("imageboard_pipeline_inserted_total", "Rows inserted into ClickHouse",
                            ["table"])
PIPELINE_DEAD_LETTERED = Counter("imageboard_pipeline_dead_lettered_total",
                                 "Messages stored in the dead_letters table", ["topic", "reason"])
PIPELINE_INSERT_ERRORS = Counter("imageboard_pipeline_insert_errors_total",
                                 "Failed ClickHouse batch inserts")
PIPELINE_BATCH_DURATION = Histogram("imageboard_pipeline_batch_duration_seconds",
                                    "Time to insert and commit one batch", buckets=LATENCY_BUCKETS)
PIPELINE_BATCH_SIZE = Histogram("imageboard_pipeline_batch_size", "Messages per batch",
                                buckets=(1, 10, 50, 100, 500, 1000, 5000, 10000))
PIPELINE_LAG = Gauge("imageboard_pipeline_lag_messages", "Consumer lag (high watermark - position)",
                     ["topic", "partition"])

# ---- ports ------------------------------------------------------------------------------
# Where each process serves /metrics when METRICS_PORT is not set: METRICS_PORT_BASE + the
# offset its component declares (a service class's metrics_port_offset; the pipeline's
# analytics_pipeline.METRICS_PORT_OFFSET). In compose every container uses METRICS_PORT.
def metrics_port(config, offset):
    """The port a component with this offset serves /metrics on, or None when off (or
    when a component without an offset, a test's service, has no METRICS_PORT)."""
    settings = settings_of(config)
    if settings.METRICS_PORT != "":
        return settings.METRICS_PORT
    if settings.METRICS_PORT_BASE == 0:
        return None
    if offset is None:
        log.warning("no metrics_port_offset declared: /metrics not served")
        return None
    return settings.METRICS_PORT_BASE + offset


def metrics_host(config):
    return settings_of(config).METRICS_HOST


# ---- live gauges read at scrape time ----------------------------------------------------
class _LiveCollector:
    """Worker-pool and connection-pool usage, read when Prometheus scrapes (nothing to keep
    up to date). Several containers of one service in a process are summed."""

    def __init__(self):
        self._lock = threading.Lock()
        self._containers = []  # (service, container)
        self._pools = []       # (service, PooledDatabase)
        self._outboxes = []    # (service, callable: unsent row count, or None if unknown)

    def add_container(self, service, container):
        with self._lock:
            self._containers.append((service, container))

    def remove_container(self, container):
        with self._lock:
            self._containers = [(s, c) for s, c in self._containers if c is not container]

    def add_pool(self, service, db):
        with self._lock:
            self._pools.append((service, db))

    def remove_pool(self, db):
        with self._lock:
            self._pools = [(s, d) for s, d in self._pools if d is not db]

    def add_outbox(self, service, pending_fn):
        with self._lock:
            self._outboxes.append((service, pending_fn))

    def remove_outbox(self, pending_fn):
        with self._lock:
            self._outboxes = [(s, f) for s, f in self._outboxes if f != pending_fn]

    def _outbox_family(self, outboxes):
        family = GaugeMetricFamily("imageboard_outbox_pending_events",
                                   "Outbox rows not yet published", labels=["service"])
        pending = {}
        for service, pending_fn in outboxes:
            try:
                value = pending_fn()
            except Exception as exc:  # no sample rather than a failed scrape
                log.warning("outbox pending count failed", extra={"service": service,
                                                                 "error": str(exc).strip()})
                continue
            if value is not None:
                pending[service] = max(pending.get(service, 0), value)
        for service, value in pending.items():
            family.add_metric([service], value)
        return family

    @staticmethod
    def _sum(rows):
        totals = {}
        for labels, value in rows:
            totals[labels] = totals.get(labels, 0) + value
        return totals.items()

    def collect(self):
        with self._lock:
            containers, pools = list(self._containers), list(self._pools)
            outboxes = list(self._outboxes)
        busy = GaugeMetricFamily("imageboard_service_workers_busy",
                                 "Workers running now", labels=["service"])
        limit = GaugeMetricFamily("imageboard_service_workers_max",
                                  "max_workers of the service", labels=["service"])
        for (service,), value in self._sum(((s,), len(c._worker_threads)) for s, c in containers):
            busy.add_metric([service], value)
        for (service,), value in self._sum(((s,), c.max_workers) for s, c in containers):
            limit.add_metric([service], value)
        conns = GaugeMetricFamily("imageboard_db_pool_connections",
                                  "Pooled PostgreSQL connections", labels=["service", "state"])
        pool_max = GaugeMetricFamily("imageboard_db_pool_max_connections",
                                     "Pool size limit", labels=["service"])
        rows = []
        for service, db in pools:
            rows.append(((service, "in_use"), len(getattr(db, "_in_use", ()))))
            rows.append(((service, "idle"), len(getattr(db, "_connections", ()))))
        for labels, value in self._sum(rows):
            conns.add_metric(list(labels), value)
        for (service,), value in self._sum(((s,), d._max_connections or 0) for s, d in pools):
            pool_max.add_metric([service], value)
        return [busy, limit, conns, pool_max, self._outbox_family(outboxes)]


LIVE = _LiveCollector()
REGISTRY.register(LIVE)


def watch_outbox(service, pending_fn):
    """pending_fn() is called at scrape time: the unsent row count, or None (not known here)."""
    LIVE.add_outbox(service, pending_fn)


def unwatch_outbox(pending_fn):
    LIVE.remove_outbox(pending_fn)


def watch_pool(service, db):
    LIVE.add_pool(service, db)


def unwatch_pool(db):
    LIVE.remove_pool(db)


# ---- serving ------------------------------------------------------------------------------
def serve(config, component, offset, registry=REGISTRY):
    """Serve /metrics for a non-Nameko process (e.g. the pipeline) in a daemon thread.
    Returns the server (call .shutdown() to stop) or None when metrics are off."""
    from prometheus_client import start_http_server

    port = metrics_port(config, offset)
    if port is None:
        return None
    server, _thread = start_http_server(port, addr=metrics_host(config), registry=registry)
    log.info("metrics served", extra={"component": component, "port": port})
    return server


def gateway_registry(multiproc_dir):
    """The registry the gateway's /metrics renders: all gunicorn workers' files merged."""
    if not multiproc_dir:
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=multiproc_dir)
    return registry


# The stream process (streaming/): served on its own /metrics (one process, no multiprocess
# directory).
STREAM_CONNECTIONS = Gauge("imageboard_stream_connections", "Open streams by kind", ["kind"])
STREAM_DELIVERED = Counter("imageboard_stream_events_delivered_total",
                           "SSE events written to a client", ["event"])
STREAM_DROPPED = Counter("imageboard_stream_events_dropped_total",
                         "SSE events not delivered because their client was dropped", ["reason"])
STREAM_CLIENTS_CLOSED = Counter("imageboard_stream_clients_closed_total",
                                "Streams the server closed", ["reason"])
STREAM_HYDRATION = Histogram("imageboard_stream_hydration_seconds",
                             "One Kafka batch's representation fetches (RPCs, side by side)",
                             buckets=LATENCY_BUCKETS)
STREAM_LAG = Histogram("imageboard_stream_delivery_lag_seconds",
                       "Event commit (occurred_at) to the write on the socket",
                       buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0,
                                10.0))
