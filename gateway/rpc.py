"""The gateway's RPC client: every request reaches the domain services through it.

Each gunicorn thread gets its own started ClusterRpcProxy, created on first use and kept:
a proxy is not thread-safe (it owns one AMQP connection and reply queue), and creating one
per call would cost a connection handshake per request. The X-Request-ID travels in the
call context so services log it too.
"""
import logging
import threading

import amqp.exceptions
import kombu.exceptions
from kombu import Connection
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import (ClusterRpcProxy, PollingQueueConsumer,
                                   SingleThreadedReplyListener)

from imageboard.errors import DomainError, ServiceUnavailable
from imageboard.logs import get_request_id

log = logging.getLogger(__name__)

BROKER_ERRORS = (OSError, ConnectionError, amqp.exceptions.ConnectionError,
                 amqp.exceptions.ChannelError, kombu.exceptions.OperationalError)


class ServiceTimeout(DomainError):
    """The service is consuming but did not answer within RPC_TIMEOUT (HTTP 504)."""

    code = "service_timeout"
    default_message = "The service did not answer in time"


class _ReplyConsumer(PollingQueueConsumer):
    """Acks and drops replies nobody waits for any more (their call timed out), which the
    stock consumer would keep in memory forever."""

    def on_message(self, body, message):
        if message.properties.get("correlation_id") in self.provider._reply_events:
            return super().on_message(body, message)
        message.ack()


class _ReplyListener(SingleThreadedReplyListener):
    def __init__(self, timeout=None):
        super().__init__(timeout=timeout)
        self.queue_consumer = _ReplyConsumer(timeout=timeout)


class _ThreadProxy:
    def __init__(self, config, timeout):
        self.context = {}
        self.standalone = ClusterRpcProxy(
            config, context_data=self.context, timeout=timeout,
            reply_listener_cls=_ReplyListener,
        )
        self.proxy = self.standalone.start()

    def forget(self, correlation_ids):
        """Stop waiting for replies a failed or timed-out call will never collect."""
        listener = self.standalone._reply_listener
        for correlation_id in correlation_ids:
            listener._reply_events.pop(correlation_id, None)
            listener.queue_consumer.replies.pop(correlation_id, None)

    def stop(self):
        try:
            self.standalone.stop()
        except Exception:  # the connection is already gone; nothing to release
            pass


class RpcClient:
    def __init__(self, config, timeout=None):
        self.config = config
        self.timeout = float(timeout if timeout is not None else config.get("RPC_TIMEOUT", 5))
        self._local = threading.local()

    def _thread_proxy(self):
        proxy = getattr(self._local, "proxy", None)
        if proxy is None:
            proxy = self._local.proxy = _ThreadProxy(self.config, self.timeout)
        proxy.context.clear()
        request_id = get_request_id()
        if request_id:
            proxy.context["request_id"] = request_id
        return proxy

    def _discard_proxy(self):
        proxy = getattr(self._local, "proxy", None)
        self._local.proxy = None
        if proxy is not None:
            proxy.stop()

    def call(self, service, method, *args, **kwargs):
        return self.call_many([(service, method, args, kwargs)])[0]

    def call_many(self, calls):
        """Send several calls at once and wait for all replies: the services work on them
        concurrently, so the wait is the slowest call, not the sum."""
        service = calls[0][0]
        proxy, replies = None, []
        try:
            proxy = self._thread_proxy()
            for service, method, args, kwargs in calls:
                replies.append(getattr(proxy.proxy[service], method).call_async(*args, **kwargs))
            results = []
            for reply, (service, *_rest) in zip(replies, calls):
                results.append(reply.result())
            return results
        except UnknownService:
            raise ServiceUnavailable(f"The {service} service is not available",
                                     code="service_unavailable")
        except RpcTimeout:
            # No reply in time: is anybody consuming the service's queue at all?
            if self.consumer_count(service) == 0:
                raise ServiceUnavailable(f"The {service} service is not available",
                                         code="service_unavailable")
            raise ServiceTimeout(f"The {service} service did not answer in time")
        except BROKER_ERRORS as exc:
            log.warning("message broker unreachable", extra={"error": repr(exc)})
            self._discard_proxy()
            raise ServiceUnavailable("The message broker is not available",
                                     code="broker_unavailable")
        finally:
            if proxy is not None and replies:
                proxy.forget([reply.reply_event.correlation_id for reply in replies])

    def consumer_count(self, service):
        """Consumers on the service's RPC queue; 0 when the queue or broker is missing."""
        try:
            with Connection(self.config["AMQP_URI"], connect_timeout=2) as conn:
                channel = conn.channel()
                _, _, consumers = channel.queue_declare(queue=f"rpc-{service}", passive=True)
                return consumers
        except Exception:
            return 0

    def close(self):
        self._discard_proxy()
