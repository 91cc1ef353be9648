"""Prometheus for Nameko services: a sub-extension of the `rpc` entrypoint that serves
/metrics on the service's port, and the per-call bookkeeping the entrypoint does.

Every service using imageboard.service_kit.rpc gets both without declaring anything.
"""
import logging
import time

import eventlet
import eventlet.wsgi
from nameko.extensions import SharedExtension
from prometheus_client import REGISTRY, make_wsgi_app

from imageboard import metrics
from contracts.errors import DomainError

log = logging.getLogger(__name__)


class _ProcessServer:
    """One HTTP server per process, however many containers run in it (tests run several):
    the registry is process-wide, so one endpoint shows everything."""

    def __init__(self):
        self.users = 0
        self.thread = None
        self.sock = None
        self.port = None

    def acquire(self, config, service, port_offset):
        self.users += 1
        if self.thread is not None:
            return
        port = metrics.metrics_port(config, port_offset)
        if port is None:
            return
        host = metrics.metrics_host(config)
        try:
            # No SO_REUSEPORT: two processes on one port would split the scrapes between
            # them and mix two processes' numbers; a clash must show as an error.
            self.sock = eventlet.listen((host, port), reuse_port=False)
        except OSError as exc:
            # A metrics port clash must not take the service down; `up == 0` alerts on it.
            log.warning("metrics port unavailable", extra={"port": port, "error": str(exc)})
            return
        self.port = port
        app = make_wsgi_app(REGISTRY)
        self.thread = eventlet.spawn(eventlet.wsgi.server, self.sock, app, log_output=False,
                                     max_size=8)
        log.info("metrics served", extra={"service": service, "port": port})

    def release(self):
        self.users = max(0, self.users - 1)
        if self.users == 0 and self.thread is not None:
            self.thread.kill()
            self.sock.close()
            self.thread = self.sock = self.port = None


PROCESS_SERVER = _ProcessServer()


class MetricsServer(SharedExtension):
    """Serves /metrics for the process and reports the container's worker-pool usage."""

    def setup(self):
        metrics.LIVE.add_container(self.container.service_name, self.container)

    def start(self):
        PROCESS_SERVER.acquire(self.container.config, self.container.service_name,
                               getattr(self.container.service_cls, "metrics_port_offset", None))

    def stop(self):
        metrics.LIVE.remove_container(self.container)
        PROCESS_SERVER.release()

    def kill(self):
        self.stop()


def call_started(message):
    # The kombu message is the one object both ends of a call see.
    message._ib_started = time.perf_counter()


def call_finished(message, worker_ctx, exc_info):
    service = worker_ctx.service_name
    method = worker_ctx.entrypoint.method_name
    metrics.RPC_REQUESTS.labels(service, method).inc()
    started = getattr(message, "_ib_started", None)
    if started is not None:
        metrics.RPC_DURATION.labels(service, method).observe(time.perf_counter() - started)
    if exc_info is not None:
        expected = "true" if isinstance(exc_info[1], DomainError) else "false"
        metrics.RPC_ERRORS.labels(service, method, type(exc_info[1]).__name__, expected).inc()
