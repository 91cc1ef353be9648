"""The access feed: from a source service's access log to every gateway's AccessState.

Service side, `AccessFeed` (a nameko DependencyProvider; the service class also mixes in
`AccessSource` for the `access_changes` RPC):

    class UsersService(service_kit.OutboxService, AccessSource):
        access = AccessFeed(AccessChange, snapshot=current_admins)

1. the changes a worker recorded (log.record_access_change, inside its transaction) are
   published to the fanout exchange `imageboard.access` once the worker's method returned
   (so committed), before its RPC reply leaves: a client that has its answer has a change
   already on its way to every gateway;
2. every ACCESS_FEED_HEARTBEAT seconds it publishes `{source, kind: heartbeat, seq}`, the
   log's highest seq (its head): a gateway that missed a message (lost, or the publisher died between
   commit and publish) sees it is behind within one heartbeat and fetches;
3. `access_changes(after_seq)` answers the changes after a seq, or a snapshot (the log's
   rows folded, plus the service's current state from `snapshot()`) when after_seq is 0,
   ahead of the log or older than what it keeps.
Messages are transient: nothing is lost that the log does not hold.

Gateway side, `AccessFeedSubscriber`: one daemon thread per gateway worker process
(started by create_app, which gunicorn runs after its fork), an exclusive auto-delete
queue bound to the exchange, a snapshot per source on every (re)connect, gap repair over
RPC, reconnection with back-off. The message catalogue is in contracts/events.py
(FEED_CATALOGUE).
"""
import json
import logging
import socket
import threading
import time
import uuid

import amqp.exceptions
import kombu.exceptions
from kombu import Connection, Exchange, Queue
from nameko.exceptions import MethodNotFound, RemoteError
from nameko.extensions import DependencyProvider

from contracts.events import ACCESS_EXCHANGE, validate_access_change
from imageboard.access import log as access_log
from imageboard.access import recorded
from imageboard.access.state import ADMIN, BAN, ERASED, MIN_VERSION, REVOKE_JTI, UNBAN, AccessState
from imageboard.service_kit import rpc
from imageboard.settings import settings_of

logger = logging.getLogger(__name__)

BROKER_ERRORS = (OSError, ConnectionError, amqp.exceptions.ConnectionError,
                 amqp.exceptions.ChannelError, kombu.exceptions.OperationalError)
PRUNE_INTERVAL = 3600.0


def exchange():
    # Durable declaration (it outlives restarts, so a gateway binding before any service
    # started finds it), transient messages.
    return Exchange(ACCESS_EXCHANGE, type="fanout", durable=True, auto_delete=False)


def fold(changes, now=None):
    """A log's rows as the fewest changes that give the same state: the last min_version,
    admin and ban/unban per user, every unexpired revoked jti, every erased user."""
    now = time.time() if now is None else now
    last = {}
    out = []
    for change in changes:
        kind, user_id = change["kind"], change["user_id"]
        if kind == REVOKE_JTI:
            if change["exp"] >= now:
                out.append(change)
        elif kind == ERASED:
            out.append(change)
        elif kind in (BAN, UNBAN):
            last[("ban", user_id)] = change
        elif kind in (MIN_VERSION, ADMIN):
            last[(kind, user_id)] = change
    return out + [c for c in last.values() if c["kind"] != UNBAN]


class _Publisher:
    """One AMQP connection per service process; green threads take turns (a semaphore:
    eventlet's, as nameko runs monkey-patched)."""

    def __init__(self, amqp_uri):
        from eventlet.semaphore import Semaphore

        self.amqp_uri = amqp_uri
        self.lock = Semaphore()
        self.connection = None
        self.producer_channel = None

    def publish(self, body):
        with self.lock:
            for attempt in (1, 2):
                try:
                    if self.producer_channel is None:
                        self.connection = Connection(self.amqp_uri, connect_timeout=3)
                        self.connection.ensure_connection(max_retries=1)
                        self.producer_channel = self.connection.channel()
                        exchange()(self.producer_channel).declare()
                    message = self.producer_channel.prepare_message(
                        json.dumps(body), content_type="application/json",
                        content_encoding="utf-8", properties={"delivery_mode": 1})
                    self.producer_channel.basic_publish(message, exchange=ACCESS_EXCHANGE,
                                                        routing_key="")
                    return True
                except BROKER_ERRORS as exc:
                    self.close()
                    if attempt == 2:
                        # The heartbeat tells the gateways they are behind once it is back.
                        logger.warning("access change not published: broker unavailable",
                                       extra={"error": repr(exc)})
                        return False

    def close(self):
        connection, self.connection, self.producer_channel = self.connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # already broken
                pass


class _Worker:
    """What `self.access` is in a worker of a source service."""

    def __init__(self, feed):
        self.feed = feed

    def changes(self, after_seq):
        return self.feed.changes(after_seq)


class AccessFeed(DependencyProvider):
    """`log_model`: the service's access_log_model(database); `snapshot()`: the service's
    current state that the log may no longer hold (admins; bans) as a list of changes."""

    def __init__(self, log_model, snapshot=None):
        self.log_model = log_model
        self.snapshot = snapshot or (lambda: [])
        self.publisher = None
        self.source = None
        self._thread = None
        self._running = False

    def setup(self):
        config = self.container.config
        settings = settings_of(config)
        self.source = self.container.service_name
        self.heartbeat = settings.ACCESS_FEED_HEARTBEAT
        self.lifetime = settings.JWT_LIFETIME_SECONDS
        self.publisher = _Publisher(config["AMQP_URI"])

    def start(self):
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._beat)

    def stop(self):
        self._running = False
        if self._thread is not None:
            self._thread.kill()
        self.publisher.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return _Worker(self)

    def worker_setup(self, worker_ctx):
        recorded.start()

    def before_reply(self, worker_ctx, exc_info):
        """Called by the RPC entrypoint before the reply leaves (service_kit.DomainRpc)."""
        self._publish_recorded(exc_info)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        self._publish_recorded(exc_info)  # entrypoints other than RPC

    def _publish_recorded(self, exc_info):
        changes = recorded.take()
        if exc_info is not None:
            return  # rolled back with the worker's transaction (or never written)
        for change in changes:
            self.publisher.publish(dict(change, source=self.source))

    # -- the log ------------------------------------------------------------------------
    def _db(self):
        return self.log_model._meta.database

    def changes(self, after_seq):
        """{source, seq, snapshot, changes}: the changes after after_seq, or a snapshot."""
        db = self._db()
        try:
            with db.atomic():
                # Holding the writers' lock: no change is half-way (recorded, not committed),
                # so the head and the state read here agree.
                db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (access_log.LOCK_ID,))
                head = access_log.head(self.log_model)
                rows = access_log.changes_after(self.log_model, int(after_seq))
                if rows is not None:
                    return {"source": self.source, "seq": head, "snapshot": False, "changes": rows}
                changes = fold(access_log.all_changes(self.log_model))
                changes = [c for c in changes if c["kind"] != ADMIN] + [
                    validate_access_change(c) for c in self.snapshot()]
                return {"source": self.source, "seq": head, "snapshot": True,
                        "changes": [{k: v for k, v in c.items() if k != "seq"} for c in changes]}
        finally:
            if not db.is_closed():
                db.close()

    def _beat(self):
        import eventlet

        pruned_at = None
        while self._running:
            try:
                if pruned_at is None or time.monotonic() - pruned_at > PRUNE_INTERVAL:
                    access_log.prune(self.log_model, self.lifetime)
                    pruned_at = time.monotonic()
                head = access_log.head(self.log_model)
                self.publisher.publish({"source": self.source, "kind": "heartbeat", "seq": head})
            except Exception as exc:  # database down: no heartbeat, the gateways go stale
                logger.warning("access feed heartbeat failed", extra={"error": repr(exc)})
            finally:
                db = self._db()
                if not db.is_closed():
                    db.close()
            eventlet.sleep(self.heartbeat)


class AccessSource:
    """Mixin of a source service's class: the RPC the gateways fetch changes with."""

    @rpc
    def access_changes(self, after_seq=0):
        return self.access.changes(after_seq)


# ---- gateway side ------------------------------------------------------------------------
def configured_sources(config):
    """ACCESS_SOURCES, or with "auto" every deployed service (those without a feed are
    dropped when they refuse access_changes)."""
    sources = settings_of(config).ACCESS_SOURCES
    return list(config["SERVICES"]) if sources == "auto" else list(sources)


def _method_not_found(exc):
    return isinstance(exc, MethodNotFound) or (
        isinstance(exc, RemoteError) and exc.exc_type == "MethodNotFound")


class AccessFeedSubscriber:
    """Keeps `state` current for `state.sources()`; `rpc` is the gateway's RpcClient."""

    def __init__(self, config, state, rpc, auto=False):
        self.amqp_uri = config["AMQP_URI"]
        self.state = state
        self.rpc = rpc
        self.auto = auto
        self.stale_after = settings_of(config).ACCESS_FEED_STALE_AFTER
        self._stopped = threading.Event()
        self._thread = None
        self._behind = set()   # sources to fetch before the next message
        self._connection = None

    def start(self):
        self._thread = threading.Thread(target=self._run, name="access-feed", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self):
        backoff = 0.1
        while not self._stopped.is_set():
            connection = None
            try:
                connection = self._connection = Connection(self.amqp_uri, connect_timeout=3)
                connection.ensure_connection(max_retries=1)
                channel = connection.channel()
                queue = Queue(f"access-gateway-{uuid.uuid4().hex}", exchange=exchange(),
                              exclusive=True, auto_delete=True)
                queue(channel).declare()
                channel.basic_consume(queue=queue.name, no_ack=True, callback=self._on_message)
                # Bound first, then the snapshot: nothing published in between is missed.
                self._behind = set(self.state.sources())
                for source in list(self._behind):
                    self._fetch(source, snapshot=True)
                backoff = 0.1
                while not self._stopped.is_set():
                    for source in list(self._behind):
                        self._fetch(source)
                    try:
                        connection.drain_events(timeout=0.2)
                    except socket.timeout:
                        pass
            except BROKER_ERRORS as exc:
                logger.warning("access feed disconnected", extra={"error": repr(exc)})
            except Exception:  # a bug must not end the thread: log, reconnect
                logger.exception("access feed failed")
            finally:
                if connection is not None:
                    try:
                        connection.release()
                    except Exception:  # already broken
                        pass
            self._stopped.wait(backoff)
            backoff = min(backoff * 2, 2.0)

    def _on_message(self, message):
        try:
            body = json.loads(message.body)
            source = body["source"]
            if source not in self.state.sources():
                return
            held = self.state.seq(source)
            if body.get("kind") == "heartbeat":
                if body["seq"] > held or source in self._behind:
                    self._behind.add(source)
                else:
                    self.state.heard(source)
                return
            seq = int(body["seq"])
            if source in self._behind or seq > held + 1:
                self._behind.add(source)  # a gap: the missing ones come over RPC
            elif seq == held + 1:
                self.state.apply(source, validate_access_change(body), seq=seq)
        except Exception:  # a malformed message: ignored; heartbeats repair any gap
            logger.exception("access feed message refused")

    def _fetch(self, source, snapshot=False):
        """Catches `source` up over RPC; leaves it in _behind when that fails."""
        try:
            reply = self.rpc.read(source, "access_changes", 0 if snapshot else self.state.seq(source))
        except Exception as exc:
            if self.auto and _method_not_found(exc):
                self.state.drop(source)  # not a source: it has no feed
                self._behind.discard(source)
                return
            self._behind.add(source)
            logger.warning("access feed fetch failed", extra={"source": source, "error": repr(exc)})
            return
        if reply["snapshot"]:
            self.state.reset(source, reply["changes"], reply["seq"])
        else:
            for change in reply["changes"]:
                if change["seq"] > self.state.seq(source):
                    self.state.apply(source, change, seq=change["seq"])
            self.state.apply_seq(source, reply["seq"])
        self._behind.discard(source)


def start_access_feed(config, rpc):
    """The gateway process's AccessState, kept current by a subscriber thread (none when
    there is no source)."""
    settings = settings_of(config)
    sources = configured_sources(config)
    state = AccessState(sources, stale_after=settings.ACCESS_FEED_STALE_AFTER)
    if sources:
        AccessFeedSubscriber(config, state, rpc, auto=settings.ACCESS_SOURCES == "auto").start()
    return state
