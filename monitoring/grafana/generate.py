"""Writes the Grafana dashboards in dashboards/ (run after editing; a test checks they are
current): python monitoring/grafana/generate.py

Panels are listed as data so the three dashboards stay consistent. Expressions may use the
Grafana variables $__rate_interval and $service; tests/e2e/test_monitoring.py substitutes
them and runs every expression against a real Prometheus.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
R = "$__rate_interval"


def panel(title, exprs, unit="short", kind="timeseries", width=12, description=""):
    """exprs: [(expr, legend)]"""
    return {"title": title, "type": kind, "description": description, "unit": unit,
            "width": width, "targets": exprs}


DASHBOARDS = {
    "api": {
        "title": "Imageboard / API gateway",
        "uid": "imageboard-api",
        "variables": [],
        "panels": [
            panel("Gateway instances up", [('sum(up{job="gateway"})', "up")], kind="stat", width=6),
            panel("Requests in flight", [("sum(imageboard_http_requests_in_flight)", "in flight")],
                  kind="stat", width=6),
            panel("5xx ratio", [(f'sum(rate(imageboard_http_requests_total{{status=~"5.."}}[{R}]))'
                                 f" / sum(rate(imageboard_http_requests_total[{R}]))", "5xx")],
                  unit="percentunit", kind="stat", width=6),
            panel("Requests per second", [(f"sum(rate(imageboard_http_requests_total[{R}]))", "req/s")],
                  unit="reqps", kind="stat", width=6),
            panel("Requests by route", [(f"sum by (route, method) (rate(imageboard_http_requests_total[{R}]))",
                                         "{{method}} {{route}}")], unit="reqps"),
            panel("Responses by status", [(f"sum by (status) (rate(imageboard_http_requests_total[{R}]))",
                                           "{{status}}")], unit="reqps"),
            panel("Latency p50 / p95 / p99", [
                (f"histogram_quantile({q}, sum by (le) (rate(imageboard_http_request_duration_seconds_bucket"
                 f'{{route!="/metrics"}}[{R}])))', f"p{int(q * 100)}") for q in (0.5, 0.95, 0.99)],
                unit="s"),
            panel("p99 latency by route", [
                (f"histogram_quantile(0.99, sum by (route, le) (rate("
                 f"imageboard_http_request_duration_seconds_bucket[{R}])))", "{{route}}")], unit="s"),
            panel("Errors by route (4xx and 5xx)", [
                (f'sum by (route, status) (rate(imageboard_http_requests_total{{status=~"[45].."}}[{R}]))',
                 "{{status}} {{route}}")], unit="reqps"),
            panel("Service unavailable / timeout (503, 504)", [
                (f'sum by (status) (rate(imageboard_http_requests_total{{status=~"503|504"}}[{R}]))',
                 "{{status}}")], unit="reqps"),
        ],
    },
    "services": {
        "title": "Imageboard / Nameko services",
        "uid": "imageboard-services",
        "variables": ["service"],
        "panels": [
            panel("Service instances up", [('sum by (component) (up{job="services"})', "{{component}}")],
                  kind="stat", width=24),
            panel("RPC calls by method", [
                (f'sum by (service, method) (rate(imageboard_rpc_requests_total{{service=~"$service"}}[{R}]))',
                 "{{service}}.{{method}}")], unit="reqps"),
            panel("RPC p95 latency by method", [
                (f"histogram_quantile(0.95, sum by (service, method, le) (rate("
                 f'imageboard_rpc_duration_seconds_bucket{{service=~"$service"}}[{R}])))',
                 "{{service}}.{{method}}")], unit="s"),
            panel("Unexpected RPC errors", [
                (f'sum by (service, method, error) (rate(imageboard_rpc_errors_total{{service=~"$service",'
                 f'expected="false"}}[{R}]))', "{{service}}.{{method}} {{error}}")], unit="reqps",
                description="Bugs and outages (anything but a DomainError)."),
            panel("Domain errors (4xx answers)", [
                (f'sum by (service, error) (rate(imageboard_rpc_errors_total{{service=~"$service",'
                 f'expected="true"}}[{R}]))', "{{service}} {{error}}")], unit="reqps"),
            panel("Workers busy / max", [
                ('sum by (service) (imageboard_service_workers_busy{service=~"$service"})', "{{service}} busy"),
                ('sum by (service) (imageboard_service_workers_max{service=~"$service"})', "{{service}} max")]),
            panel("Database pool", [
                ('sum by (service, state) (imageboard_db_pool_connections{service=~"$service"})',
                 "{{service}} {{state}}"),
                ('sum by (service) (imageboard_db_pool_max_connections{service=~"$service"})',
                 "{{service}} max")]),
            # Every moderation replica exports the same numbers (its database's): max().
            panel("Open reports", [("max(imageboard_moderation_open_reports)", "open reports")],
                  description="Reports waiting in the moderation queue (GET /api/reports/?status=open)."),
            panel("Oldest open report age", [
                ("max(imageboard_moderation_oldest_open_report_age_seconds)", "oldest open report")],
                unit="s", description="How long the oldest open report has waited (0: the queue "
                                      "is empty). Over 24 h: the ModerationReportWaiting alert."),
        ],
    },
    "pipeline": {
        "title": "Imageboard / Event pipeline",
        "uid": "imageboard-pipeline",
        "variables": [],
        "panels": [
            panel("Outbox pending events", [("max by (service) (imageboard_outbox_pending_events)",
                                              "{{service}}")],
                  description="Written with the change, not yet on Kafka."),
            panel("Outbox published / errors", [
                (f"sum by (service) (rate(imageboard_outbox_published_total[{R}]))", "{{service}} published"),
                (f"sum by (service) (rate(imageboard_outbox_publish_errors_total[{R}]))", "{{service}} errors")],
                unit="ops"),
            panel("Kafka consumed by component", [
                (f"sum by (component, topic) (rate(imageboard_kafka_consumed_total[{R}]))",
                 "{{component}} {{topic}}"),
                (f"sum by (component, topic) (rate(imageboard_kafka_consume_errors_total[{R}]))",
                 "{{component}} {{topic}} errors")], unit="ops"),
            panel("Pipeline up", [('sum(up{job="pipeline"})', "up")], kind="stat", width=6),
            panel("Pipeline lag (messages)", [("sum(imageboard_pipeline_lag_messages)", "lag")],
                  kind="stat", width=6),
            panel("Consumed / inserted per second", [
                (f"sum by (topic) (rate(imageboard_pipeline_consumed_total[{R}]))", "consumed {{topic}}"),
                (f"sum by (table) (rate(imageboard_pipeline_inserted_total[{R}]))", "inserted {{table}}")],
                unit="ops"),
            panel("Dead-lettered and insert errors", [
                (f"sum by (topic, reason) (rate(imageboard_pipeline_dead_lettered_total[{R}]))",
                 "dead-lettered {{topic}} {{reason}}"),
                (f"sum(rate(imageboard_pipeline_insert_errors_total[{R}]))", "insert errors")], unit="ops"),
            panel("Batch latency p50 / p95", [
                (f"histogram_quantile({q}, sum by (le) (rate(imageboard_pipeline_batch_duration_seconds_bucket[{R}])))",
                 f"p{int(q * 100)}") for q in (0.5, 0.95)], unit="s"),
            panel("Batch size p50", [
                (f"histogram_quantile(0.5, sum by (le) (rate(imageboard_pipeline_batch_size_bucket[{R}])))",
                 "messages")]),
            panel("Lag by topic", [("sum by (topic) (imageboard_pipeline_lag_messages)", "{{topic}}")]),
            # Live updates (streaming/, contract v2 section 7).
            panel("Open streams by kind", [("sum by (kind) (imageboard_stream_connections)", "{{kind}}")],
                  description="SSE connections' streams: public, post, user, moderation"),
            panel("Stream events delivered / dropped", [
                (f"sum by (event) (rate(imageboard_stream_events_delivered_total[{R}]))", "{{event}}"),
                (f"sum by (reason) (rate(imageboard_stream_events_dropped_total[{R}]))",
                 "dropped {{reason}}")], unit="ops"),
            panel("Stream delivery lag p50 / p99 (commit -> socket)", [
                (f"histogram_quantile({q}, sum by (le) (rate(imageboard_stream_delivery_lag_seconds_bucket[{R}])))",
                 f"p{int(q * 100)}") for q in (0.5, 0.99)], unit="s"),
            panel("Streams closed by the server", [
                (f"sum by (reason) (rate(imageboard_stream_clients_closed_total[{R}]))", "{{reason}}")],
                unit="ops", description="overflow (slow client), revoked, admin_revoked, shutdown"),
        ],
    },
}


def _variable(name):
    return {
        "name": name, "label": name, "type": "query", "datasource": DATASOURCE,
        "query": {"query": f"label_values(imageboard_rpc_requests_total, {name})", "refId": "vars"},
        "definition": f"label_values(imageboard_rpc_requests_total, {name})",
        "includeAll": True, "allValue": ".*", "multi": True, "refresh": 2,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
    }


def build(spec):
    panels, x, y, row_height = [], 0, 0, 0
    for number, p in enumerate(spec["panels"], start=1):
        height = 4 if p["type"] == "stat" else 8
        if x + p["width"] > 24:
            x, y = 0, y + row_height
            row_height = 0
        panels.append({
            "id": number,
            "type": p["type"],
            "title": p["title"],
            "description": p["description"],
            "datasource": DATASOURCE,
            "gridPos": {"x": x, "y": y, "w": p["width"], "h": height},
            "fieldConfig": {"defaults": {"unit": p["unit"]}, "overrides": []},
            "options": {"legend": {"displayMode": "list", "placement": "bottom"}}
            if p["type"] == "timeseries" else {"reduceOptions": {"calcs": ["lastNotNull"]}},
            "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr,
                         "legendFormat": legend} for i, (expr, legend) in enumerate(p["targets"])],
        })
        x += p["width"]
        row_height = max(row_height, height)
    return {
        "uid": spec["uid"], "title": spec["title"], "tags": ["imageboard"],
        "timezone": "utc", "schemaVersion": 39, "version": 1, "editable": True,
        "refresh": "30s", "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [_variable(v) for v in spec["variables"]]},
        "annotations": {"list": []},
        "panels": panels,
    }


def render_all():
    return {name: json.dumps(build(spec), indent=2) + "\n" for name, spec in DASHBOARDS.items()}


if __name__ == "__main__":
    for name, text in render_all().items():
        with open(os.path.join(HERE, "dashboards", f"{name}.json"), "w") as fh:
            fh.write(text)
