"""The pipeline's side of the metrics defined in imageboard/metrics.py (names documented
there and in docs/analytics.md), served by imageboard.metrics.serve.

Throughput is rate(imageboard_pipeline_inserted_total{table="events"}[1m]) (one `events`
row per stored event); lag comes from librdkafka's statistics (consumer_lag). Tansu reports
wrong high watermarks, so lag read against it is approximate; against Kafka it is exact.
"""
import json
import logging

from analytics_pipeline import METRICS_PORT_OFFSET
from imageboard import metrics as m

log = logging.getLogger(__name__)

CONSUMED = m.PIPELINE_CONSUMED
ROWS = m.PIPELINE_INSERTED
INSERT_ERRORS = m.PIPELINE_INSERT_ERRORS
BATCH_SECONDS = m.PIPELINE_BATCH_DURATION
BATCH_SIZE = m.PIPELINE_BATCH_SIZE
LAG = m.PIPELINE_LAG


def dead_lettered(topic, kind):
    """kind: the kinds of contracts.events (few label values: the kind of reason, not its text)."""
    m.PIPELINE_DEAD_LETTERED.labels(topic, kind).inc()


def kafka_error(topic, reason):
    m.KAFKA_CONSUME_ERRORS.labels("pipeline", topic or "", reason).inc()


def serve(config):
    try:
        return m.serve(config, "pipeline", METRICS_PORT_OFFSET)
    except OSError as exc:  # a taken port must not stop the pipeline itself
        log.error("metrics port unavailable", extra={"error": str(exc)})


def record_stats(stats_json):
    """librdkafka stats_cb: per-partition consumer lag."""
    try:
        stats = json.loads(stats_json)
    except ValueError:
        return
    for topic_name, topic in stats.get("topics", {}).items():
        for partition, data in topic.get("partitions", {}).items():
            lag = data.get("consumer_lag", -1)
            if partition != "-1" and lag is not None and lag >= 0:
                LAG.labels(topic_name, partition).set(lag)
