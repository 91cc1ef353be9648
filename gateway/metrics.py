"""Prometheus for the gateway: one middleware counting every request by route template,
method and status, and GET /metrics.

gunicorn runs several worker processes; gateway/gunicorn_conf.py points
PROMETHEUS_MULTIPROC_DIR at <var>/metrics/gateway so every worker writes its samples there
and /metrics (answered by whichever worker) merges them all.
"""
import os
import re
import time

import falcon
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from imageboard import metrics

_CONVERTER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def route_label(req):
    """The route template (`/api/posts/{post_id}`), never the raw path: ids in labels would
    make a new time series per post."""
    template = getattr(req, "uri_template", None)
    if not template:
        return "unmatched"
    return _CONVERTER.sub(r"{\1}", template)


class PrometheusMiddleware:
    """labels() takes a lock and builds the child's key on every call: the children are
    kept here per label values instead (a few routes x methods x statuses)."""

    def __init__(self):
        self._requests = {}
        self._durations = {}

    def process_request(self, req, resp):
        req.context.metrics_started = time.perf_counter()
        metrics.HTTP_IN_FLIGHT.inc()

    def process_response(self, req, resp, resource, req_succeeded):
        started = getattr(req.context, "metrics_started", None)
        if started is None:
            return
        route = route_label(req)
        metrics.HTTP_IN_FLIGHT.dec()
        key = (route, req.method, resp.status_code)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = metrics.HTTP_REQUESTS.labels(route, req.method,
                                                                         str(resp.status_code))
        counter.inc()
        histogram = self._durations.get(key[:2])
        if histogram is None:
            histogram = self._durations[key[:2]] = metrics.HTTP_DURATION.labels(route, req.method)
        histogram.observe(time.perf_counter() - started)


class MetricsResource:
    """Prometheus scrapes this directly; nginx does not expose it to the internet."""

    def on_get(self, req, resp):
        registry = metrics.gateway_registry(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(registry)
        resp.status = falcon.HTTP_200
