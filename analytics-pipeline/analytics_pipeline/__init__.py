"""The analytics pipeline: Kafka topics -> ClickHouse (analytics_store)."""

# /metrics is served on METRICS_PORT_BASE + this (compose sets METRICS_PORT instead).
METRICS_PORT_OFFSET = 9
