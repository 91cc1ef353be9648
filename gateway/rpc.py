"""The gateway's RPC client: every request reaches the domain services through it.

It speaks nameko's RPC protocol (topic exchange `nameko-rpc`, routing key
`<service>.<method>`, JSON `{"args", "kwargs"}`, reply to `reply_to` with the same
correlation id, context in `nameko.*` headers) directly over one kombu channel per
gunicorn thread, because nameko's standalone ClusterRpcProxy costs more than the
services themselves on this path: it builds a Publisher per call, takes a producer from a
pool and waits for a publisher confirm before it even starts waiting for the reply.

Here, per thread: one connection, one channel, one exclusive reply queue, kept for the
life of the thread (a proxy must never be shared between threads). Per call:
- the request is transient (an RPC that outlives its caller has no one to answer) and
  carries an expiration of RPC_TIMEOUT, so calls to a stopped service do not pile up and
  run minutes later;
- it is published `mandatory`: if no queue is bound (the service was never started),
  the broker returns it at once and the caller gets 503 without waiting;
- no reply within RPC_TIMEOUT -> 503 if nobody consumes the service's queue, else 504.

Every call site says whether it reads or writes (`rpc.read`, `rpc.write`, or `reading` /
`writing` in `rpc.many`): a write goes before the reads waiting in a service's queue
(imageboard/rpc_queues.py), and there is no default to forget.
"""
import json
import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

import amqp.exceptions
import kombu.exceptions
from kombu import Connection, Exchange, Queue
from nameko.exceptions import deserialize

from contracts.errors import DomainError, ServiceUnavailable
from imageboard.logs import get_request_id
from imageboard.rpc_queues import READ_PRIORITY, WRITE_PRIORITY
from imageboard.settings import settings_of

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"
BROKER_ERRORS = (OSError, ConnectionError, amqp.exceptions.ConnectionError,
                 amqp.exceptions.ChannelError, kombu.exceptions.OperationalError)


class ServiceTimeout(DomainError):
    """The service is consuming but did not answer within RPC_TIMEOUT (HTTP 504)."""

    code = "service_timeout"
    default_message = "The service did not answer in time"


class _Unroutable(Exception):
    """The broker returned the request: no queue is bound for that service."""

    def __init__(self, service):
        super().__init__(service)
        self.service = service


@dataclass(frozen=True)
class Call:
    service: str
    method: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    write: bool = False  # writes are few, slower, and a user waits on each: they go first


def reading(service, method, *args, **kwargs):
    return Call(service, method, args, kwargs, write=False)


def writing(service, method, *args, **kwargs):
    return Call(service, method, args, kwargs, write=True)


class _ThreadChannel:
    """One thread's AMQP connection, reply queue and channel.

    Requests are published and replies consumed on the channel itself, not through
    kombu's Producer and Consumer: their per-message work (serializer registry, property
    and header assembly, kombu Message objects, a JSON object hook) was a fifth of the
    gateway's CPU per request. The messages on the wire are the same."""

    def __init__(self, amqp_uri):
        self.connection = Connection(amqp_uri, connect_timeout=3)
        self.connection.ensure_connection(max_retries=1)
        self.channel = self.connection.channel()
        exchange = Exchange(RPC_EXCHANGE, type="topic", durable=True)
        self.reply_to = f"rpc.reply-gateway-{uuid.uuid4().hex}"
        Queue(self.reply_to, exchange=exchange, routing_key=self.reply_to,
              exclusive=True, auto_delete=True)(self.channel).declare()
        self.channel.basic_consume(queue=self.reply_to, no_ack=True, callback=self._on_reply)
        self.channel.events["basic_return"].add(self._on_return)
        self.waiting = {}    # correlation id -> service name
        self.replies = {}    # correlation id -> reply body
        self.returned = set()

    def _on_reply(self, message):
        correlation_id = message.properties.get("correlation_id")
        if correlation_id in self.waiting:  # else: the answer to a call that timed out
            self.replies[correlation_id] = json.loads(message.body)

    def _on_return(self, exception, exchange, routing_key, message):
        self.returned.add(message.properties.get("correlation_id"))

    def publish(self, call, headers, timeout):
        correlation_id = uuid.uuid4().hex
        self.waiting[correlation_id] = call.service
        message = self.channel.prepare_message(
            json.dumps({"args": list(call.args), "kwargs": call.kwargs}),
            priority=WRITE_PRIORITY if call.write else READ_PRIORITY,
            content_type="application/json", content_encoding="utf-8", headers=headers,
            properties={"delivery_mode": 1, "expiration": str(int(timeout * 1000)),
                        "reply_to": self.reply_to, "correlation_id": correlation_id})
        self.channel.basic_publish(message, exchange=RPC_EXCHANGE,
                                   routing_key=f"{call.service}.{call.method}", mandatory=True)
        return correlation_id

    def wait(self, correlation_ids, deadline):
        """Replies in order; raises _Unroutable or socket.timeout."""
        try:
            pending = set(correlation_ids)
            while True:
                for cid in list(pending):
                    if cid in self.returned:
                        raise _Unroutable(self.waiting[cid])
                    if cid in self.replies:
                        pending.discard(cid)
                if not pending:
                    return [self.replies[cid] for cid in correlation_ids]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise socket.timeout()
                self.connection.drain_events(timeout=remaining)
        finally:
            self.forget(correlation_ids)

    def forget(self, correlation_ids):
        for cid in correlation_ids:
            self.waiting.pop(cid, None)
            self.replies.pop(cid, None)
            self.returned.discard(cid)

    def consumer_count(self, service):
        channel = self.connection.channel()
        try:
            return channel.queue_declare(queue=f"rpc-{service}", passive=True).consumer_count
        finally:
            try:
                channel.close()
            except Exception:  # a passive declare of a missing queue closes the channel
                pass

    def close(self):
        try:
            self.connection.release()
        except Exception:  # already broken; nothing left to release
            pass


class RpcClient:
    def __init__(self, config, timeout=None):
        self.amqp_uri = config["AMQP_URI"]
        self.timeout = float(timeout if timeout is not None else settings_of(config).RPC_TIMEOUT)
        self._local = threading.local()

    def _channel(self):
        channel = getattr(self._local, "channel", None)
        if channel is None:
            channel = self._local.channel = _ThreadChannel(self.amqp_uri)
        return channel

    def _discard_channel(self):
        channel = getattr(self._local, "channel", None)
        self._local.channel = None
        if channel is not None:
            channel.close()

    def read(self, service, method, *args, **kwargs):
        return self.many([reading(service, method, *args, **kwargs)])[0]

    def write(self, service, method, *args, **kwargs):
        return self.many([writing(service, method, *args, **kwargs)])[0]

    def many(self, calls):
        """Send several Calls at once and wait for all replies: the services work on them
        concurrently, so the wait is the slowest call, not the sum."""
        headers = {}
        request_id = get_request_id()
        if request_id:
            headers["nameko.request_id"] = request_id
        deadline = time.monotonic() + self.timeout
        published = []
        try:
            channel, published = self._publish_all(calls, headers)
            replies = channel.wait([cid for cid, _ in published], deadline)
        except _Unroutable as exc:
            raise ServiceUnavailable(f"The {exc.service} service is not available")
        except socket.timeout:
            # Blame the first service that did not answer.
            service = next(s for cid, s in published if cid not in channel.replies)
            if self._consumer_count(service) == 0:
                raise ServiceUnavailable(f"The {service} service is not available")
            raise ServiceTimeout(f"The {service} service did not answer in time")
        except BROKER_ERRORS as exc:
            log.warning("message broker unreachable", extra={"error": repr(exc)})
            self._discard_channel()
            raise ServiceUnavailable("The message broker is not available",
                                     code="broker_unavailable")
        results = []
        for reply in replies:
            if reply.get("error"):
                raise deserialize(reply["error"])
            results.append(reply.get("result"))
        return results

    def _publish_all(self, calls, headers):
        """Publish every call. A connection that broke while idle is replaced once, but
        only if nothing of this request reached the broker yet (no call runs twice)."""
        for attempt in (1, 2):
            published = []
            try:
                channel = self._channel()
                for call in calls:
                    cid = channel.publish(call, headers, self.timeout)
                    published.append((cid, call.service))
                return channel, published
            except BROKER_ERRORS:
                self._discard_channel()
                if attempt == 2 or published:
                    raise

    def _consumer_count(self, service):
        """Consumers on the service's RPC queue; 0 when the queue or broker is missing."""
        try:
            return self._channel().consumer_count(service)
        except Exception:
            self._discard_channel()
            return 0

    def close(self):
        self._discard_channel()
