"""Building blocks every Nameko service uses: the RPC entrypoint, the database provider
and the per-call log context (request id in every log line, one line per call).
"""
import inspect
import logging
import sys
import time

import amqp.exceptions
import kombu.exceptions
from eventlet.semaphore import Semaphore
from kombu import Connection, Queue
from kombu.serialization import dumps, registry
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, LOGIN_METHOD_CONFIG_KEY
from nameko.exceptions import IncorrectSignature, UnserializableValueError, serialize
from nameko.extensions import DependencyProvider
from nameko.rpc import RPC_QUEUE_TEMPLATE, Rpc, RpcConsumer, get_rpc_exchange

from imageboard.config import database_url
from imageboard.db import CONNECTION_ERRORS, make_database
from contracts.errors import DomainError, ServiceUnavailable
from imageboard.logs import set_request_id
from imageboard.rpc_queues import RPC_QUEUE_ARGUMENTS, WRITE_PRIORITY
from imageboard import metrics, nameko_metrics
from imageboard.settings import settings_of

log = logging.getLogger(__name__)

# What publishing a reply raises when RabbitMQ is down or restarting.
BROKER_ERRORS = (OSError, kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError)


class _ReplyChannel:
    """Every RPC reply of one service process goes out over one long-lived AMQP channel.

    nameko's Responder builds a Publisher per reply, takes a producer from a pool, goes
    through kombu's retrying publish and serializes the result twice; on the hot read
    paths that was a quarter of a service's CPU. A reply is only useful to a caller that
    is still waiting, so it is transient and unconfirmed: if it is lost, the caller
    times out with 504. Green threads share the channel, so a lock keeps their frames
    from interleaving on the socket."""

    def __init__(self, amqp_uri, ssl=None, login_method=None):
        self.amqp_uri = amqp_uri
        self.ssl = ssl
        self.login_method = login_method
        self.lock = Semaphore()
        self.connection = None
        self.channel = None

    def publish(self, body, content_type, content_encoding, exchange, routing_key,
                correlation_id):
        with self.lock:
            for attempt in (1, 2):
                try:
                    if self.channel is None:
                        self.connection = Connection(self.amqp_uri, ssl=self.ssl,
                                                     login_method=self.login_method,
                                                     connect_timeout=3)
                        # One attempt: a reply never waits on a broker that is down.
                        self.connection.ensure_connection(max_retries=1)
                        self.channel = self.connection.channel()
                    message = self.channel.prepare_message(
                        body, content_type=content_type, content_encoding=content_encoding,
                        properties={"delivery_mode": 1, "correlation_id": correlation_id})
                    self.channel.basic_publish(message, exchange=exchange,
                                               routing_key=routing_key)
                    return
                except BROKER_ERRORS:
                    # A connection that broke while idle: once more on a fresh one (a
                    # reply that arrives twice is ignored by its caller).
                    self.close()
                    if attempt == 2:
                        raise

    def close(self):
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # already broken
                pass


def reply_body(result, exc_info, serializer):
    """nameko's reply payload {"result", "error"}, serialized once. A result that cannot
    be serialized becomes an UnserializableValueError reply, as in nameko."""
    error = serialize(exc_info[1]) if exc_info is not None else None
    try:
        content_type, encoding, body = dumps({"result": result, "error": error}, serializer)
    except Exception:
        exc_info = sys.exc_info()
        error = serialize(UnserializableValueError(result))
        result = None
        content_type, encoding, body = dumps({"result": None, "error": error}, serializer)
    return result, exc_info, body, content_type, encoding


def declare_rpc_queue(amqp_uri, queue):
    """Declare `queue` with its arguments. A durable queue of the same name declared with
    other arguments (by a version before priorities) cannot be re-declared (406
    PRECONDITION_FAILED, in a reconnect loop): it is deleted and declared anew. Requests
    waiting in it are transient and expire within RPC_TIMEOUT; their callers get 503/504."""
    try:
        with Connection(amqp_uri, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
            try:
                queue(connection.channel()).declare()
                return False
            except amqp.exceptions.PreconditionFailed:
                channel = connection.channel()
                channel.queue_delete(queue.name)
                log.warning("rpc queue re-declared with priorities", extra={"queue": queue.name})
                queue(channel).declare()
                return True
    except BROKER_ERRORS as exc:  # the consumer declares it once the broker is there
        log.warning("rpc queue not declared yet: message broker unavailable",
                    extra={"queue": queue.name, "error": repr(exc)})
        return False


class _RpcConsumer(RpcConsumer):
    reply_channel = None

    def setup(self):
        config = self.container.config
        settings_of(config)  # a setting of the wrong type stops the service here, named
        name = self.container.service_name
        self.queue = Queue(RPC_QUEUE_TEMPLATE.format(name), exchange=get_rpc_exchange(config),
                           routing_key=f"{name}.*", durable=True,
                           queue_arguments=RPC_QUEUE_ARGUMENTS)
        declare_rpc_queue(config[AMQP_URI_CONFIG_KEY], self.queue)
        # What nameko's setup does when it makes the queue itself (less its _registered
        # flag, which nothing reads).
        self.queue_consumer.register_provider(self)
        super().setup()
        self.reply_channel = _ReplyChannel(config[AMQP_URI_CONFIG_KEY],
                                           ssl=config.get(AMQP_SSL_CONFIG_KEY),
                                           login_method=config.get(LOGIN_METHOD_CONFIG_KEY))

    def stop(self):
        super().stop()
        self.reply_channel.close()

    def take(self, message):
        """Acknowledge a write before it runs, so it runs at most once. A write acknowledged
        only after its reply would run again if this process died between its commit and
        the ack: RabbitMQ hands the unacknowledged request to the next consumer (the same
        service restarted within RPC_TIMEOUT), and one client request made two posts. Taken
        first, a crash mid-write leaves the caller a 503/504 (applied or not, as any
        unanswered write) and never a second application. Reads stay acknowledged after
        their reply (running one twice is harmless, and it is not lost)."""
        if not message.channel.connection:
            # Unacknowledgeable: the broker gets it back and another consumer may run it.
            raise ServiceUnavailable("The message broker connection was lost",
                                     code="broker_unavailable")
        self.queue_consumer.ack_message(message)
        message._ib_taken = True

    def requeue_message(self, message):
        """nameko puts back a request its stopping container will not run; a write that
        was taken cannot go back, so its caller is told at once instead."""
        if getattr(message, "_ib_taken", False):
            error = ServiceUnavailable("The service is restarting", code="service_restarting")
            self.handle_result(message, None, (ServiceUnavailable, error, None))
            return
        super().requeue_message(message)

    def handle_result(self, message, result, exc_info):
        # nameko's RpcConsumer.handle_result, with a reply over _ReplyChannel, encoded
        # the way the request was.
        serializer = registry.type_to_name[message.properties["content_type"]]
        result, exc_info, body, content_type, encoding = reply_body(result, exc_info, serializer)
        try:
            self.reply_channel.publish(
                body, content_type, encoding, get_rpc_exchange(self.container.config).name,
                message.properties["reply_to"], message.properties.get("correlation_id"))
        except BROKER_ERRORS as exc:
            # The broker went away while this worker ran. Raising here would kill the whole
            # container (nameko treats a failed worker thread as fatal); the caller has had
            # its 503/504 anyway, and the consumer reconnects by itself.
            log.warning("reply not sent: message broker unavailable", extra={"error": repr(exc)})
        if getattr(message, "_ib_taken", False):
            return result, exc_info  # a write, acknowledged before it ran
        try:
            self.queue_consumer.ack_message(message)  # skipped by nameko if the channel is gone
        except BROKER_ERRORS as exc:
            # The connection broke between nameko's check and the ack: the same reason as
            # above not to raise (it would kill the container). The unacknowledged request
            # goes back to the queue only if the broker kept it; requests are transient.
            log.warning("request not acknowledged: message broker unavailable",
                        extra={"error": repr(exc)})
        return result, exc_info


class DomainRpc(Rpc):
    """nameko's RPC entrypoint, plus: DomainErrors are expected (no error log, the
    caller maps them), and a lost database connection reaches the caller as
    ServiceUnavailable (503) rather than an opaque remote error. Records the Prometheus
    RPC metrics and serves /metrics (imageboard.metrics). Replies are transient and
    unconfirmed (_ReplyChannel)."""

    rpc_consumer = _RpcConsumer()
    metrics_server = nameko_metrics.MetricsServer()

    def __init__(self, expected_exceptions=DomainError, **kwargs):
        super().__init__(expected_exceptions=expected_exceptions, **kwargs)
        self._signature = None

    def check_signature(self, args, kwargs):
        """nameko's check (IncorrectSignature for a call that does not fit the method), with
        the method's signature built once: nameko runs inspect.getcallargs on every
        message, which rebuilds it each time (3% of the posts service's CPU)."""
        if self._signature is None:
            method = getattr(self.container.service_cls, self.method_name)
            self._signature = inspect.signature(method)
        try:
            self._signature.bind(None, *args, **kwargs)
        except TypeError as exc:
            raise IncorrectSignature(str(exc))

    def handle_message(self, body, message):
        nameko_metrics.call_started(message)
        if message.properties.get("priority") == WRITE_PRIORITY:
            self.rpc_consumer.take(message)  # at most once (_RpcConsumer.take)
        return super().handle_message(body, message)

    def handle_result(self, message, worker_ctx, result, exc_info):
        nameko_metrics.call_finished(message, worker_ctx, exc_info)
        # Dependencies that must act between the method's commit and its reply (the access
        # feed publishes what it recorded, so an acknowledged change is already under way).
        for provider in worker_ctx.container.dependencies:
            before_reply = getattr(provider, "before_reply", None)
            if before_reply is not None:
                before_reply(worker_ctx, exc_info)
        if exc_info is not None and isinstance(exc_info[1], CONNECTION_ERRORS):
            log.error("database unavailable", extra={"error": str(exc_info[1]).strip()})
            error = ServiceUnavailable("Database unavailable", code="database_unavailable")
            exc_info = (ServiceUnavailable, error, exc_info[2])
        return super().handle_result(message, worker_ctx, result, exc_info)


rpc = DomainRpc.decorator


class DomainService:
    """Base of every service class: what each answers the same way. A subclass declares
    `name`, `metrics_port_offset` and its own entrypoints."""

    @rpc
    def ping(self):
        """/ready asks every service this."""
        return "pong"


class OutboxService(DomainService):
    """Base of a service that publishes events through an outbox (its class declares
    `relay = OutboxRelay()`)."""

    @rpc
    def outbox_status(self):
        """Operators: n.rpc.<service>.outbox_status() -> pending events, relay leader, errors."""
        return self.relay.status()


class RequestContext(DependencyProvider):
    """Puts the gateway's X-Request-ID into every log line of the worker, and logs the
    call with its duration. It works through nameko's worker hooks alone: the attribute
    it is declared as (`context = RequestContext()`) is None in the worker, and code that
    needs the request id reads imageboard.logs.get_request_id()."""

    def worker_setup(self, worker_ctx):
        set_request_id(worker_ctx.data.get("request_id"))
        worker_ctx._started_at = time.perf_counter()

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

    store = "postgres"  # what `imageboard migrate` brings up to date for this service

    def __init__(self, database_proxy, store_cls, service_name=None):
        self.database_proxy = database_proxy
        self.store_cls = store_cls
        self.service_name = service_name
        self.db = None

    def setup(self):
        config = self.container.config
        service = self.service_name or self.container.service_name
        # One connection per concurrent worker plus headroom for background threads.
        pool_size = settings_of(config).max_workers + 4
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
