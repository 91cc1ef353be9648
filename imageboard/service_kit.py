"""Building blocks every Nameko service uses: the RPC entrypoint, the database provider
and per-call request context.
"""
import logging
import time

import amqp.exceptions
import kombu.exceptions

from nameko.amqp.publish import Publisher
from nameko.constants import (AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY,
                              DEFAULT_SERIALIZER, LOGIN_METHOD_CONFIG_KEY,
                              SERIALIZER_CONFIG_KEY)
from nameko.extensions import DependencyProvider
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange

from imageboard.config import database_url
from imageboard.db import CONNECTION_ERRORS, make_database
from imageboard.errors import DomainError, ServiceUnavailable
from imageboard.logs import set_request_id
from imageboard import metrics, nameko_metrics

log = logging.getLogger(__name__)

# What publishing a reply raises when RabbitMQ is down or restarting.
BROKER_ERRORS = (OSError, kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError)


class _ReplyPublisher(Publisher):
    # A reply is only useful to a caller that is still waiting: keep it off disk and do
    # not wait for a publisher confirm per reply. If a reply is lost anyway, the caller
    # times out with 504.
    use_confirms = False
    delivery_mode = 1


class _Responder(Responder):
    publisher_cls = _ReplyPublisher


class _RpcConsumer(RpcConsumer):
    def handle_result(self, message, result, exc_info):
        # nameko's RpcConsumer.handle_result, with our responder.
        config = self.container.config
        responder = _Responder(
            config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except BROKER_ERRORS as exc:
            # The broker went away while this worker ran. Raising here would kill the whole
            # container (nameko treats a failed worker thread as fatal); the caller has had
            # its 503/504 anyway, and the consumer reconnects by itself.
            log.warning("reply not sent: message broker unavailable", extra={"error": repr(exc)})
        self.queue_consumer.ack_message(message)  # skipped by nameko if the channel is gone
        return result, exc_info


class DomainRpc(Rpc):
    """nameko's RPC entrypoint, plus: DomainErrors are expected (no error log, the
    caller maps them), and a lost database connection reaches the caller as
    ServiceUnavailable (503) rather than an opaque remote error. Records the Prometheus
    RPC metrics and serves /metrics (imageboard.metrics). Replies are transient and
    unconfirmed (_ReplyPublisher)."""

    rpc_consumer = _RpcConsumer()
    metrics_server = nameko_metrics.MetricsServer()

    def __init__(self, expected_exceptions=DomainError, **kwargs):
        super().__init__(expected_exceptions=expected_exceptions, **kwargs)

    def handle_message(self, body, message):
        nameko_metrics.call_started(message)
        return super().handle_message(body, message)

    def handle_result(self, message, worker_ctx, result, exc_info):
        nameko_metrics.call_finished(message, worker_ctx, exc_info)
        if exc_info is not None and isinstance(exc_info[1], CONNECTION_ERRORS):
            log.error("database unavailable", extra={"error": str(exc_info[1]).strip()})
            error = ServiceUnavailable("Database unavailable", code="database_unavailable")
            exc_info = (ServiceUnavailable, error, exc_info[2])
        return super().handle_result(message, worker_ctx, result, exc_info)


rpc = DomainRpc.decorator


class CallContext:
    """What a worker knows about the call that started it."""

    def __init__(self, data):
        self.request_id = data.get("request_id")


class RequestContext(DependencyProvider):
    """Puts the gateway's X-Request-ID into every log line of the worker, and logs the
    call with its duration."""

    def worker_setup(self, worker_ctx):
        set_request_id(worker_ctx.data.get("request_id"))
        worker_ctx._started_at = time.perf_counter()

    def get_dependency(self, worker_ctx):
        return CallContext(worker_ctx.data)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        elapsed_ms = (time.perf_counter() - getattr(worker_ctx, "_started_at", time.perf_counter())) * 1000
        log.info(
            "rpc call",
            extra={
                "service": worker_ctx.service_name,
                "method": worker_ctx.entrypoint.method_name,
                "duration_ms": round(elapsed_ms, 2),
                "error": type(exc_info[1]).__name__ if exc_info else None,
            },
        )

    def worker_teardown(self, worker_ctx):
        set_request_id(None)


class Database(DependencyProvider):
    """Owns the service's pooled PostgreSQL database and hands each worker a small
    domain-level store (`store_cls(db, config)`). The worker's connection goes back to the
    pool when the worker ends."""

    def __init__(self, database_proxy, store_cls, service_name=None):
        self.database_proxy = database_proxy
        self.store_cls = store_cls
        self.service_name = service_name
        self.db = None

    def setup(self):
        config = self.container.config
        service = self.service_name or self.container.service_name
        # One connection per concurrent worker plus headroom for background threads.
        pool_size = int(config.get("max_workers", 10)) + 4
        self.db = make_database(database_url(config, service), max_connections=pool_size)
        self.database_proxy.initialize(self.db)
        metrics.watch_pool(service, self.db)

    def get_dependency(self, worker_ctx):
        return self.store_cls(self.db, self.container.config)

    def worker_teardown(self, worker_ctx):
        if not self.db.is_closed():
            self.db.close()

    def stop(self):
        metrics.unwatch_pool(self.db)
        self.db.close_all()

    def kill(self):
        metrics.unwatch_pool(self.db)
