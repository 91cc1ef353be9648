"""The stream process's composition root: the hub, the Kafka feed, the access state (the
one access feed of imageboard/access: a logout, revocation, erasure or lost admin right
closes the affected streams within 1 s), tickets and connection slots, and the loop's
periodic work (reorder flush, replay trim, slot refresh)."""
import asyncio
import logging

from contracts.errors import TokenRevoked
from imageboard import metrics
from imageboard.access.feed import AccessFeedSubscriber, configured_sources
from imageboard.access.state import AccessState
from imageboard.settings import settings_of
from imageboard.stream_tickets import ConnectionSlots, Tickets
from streaming.app import Metrics
from streaming.feed import KafkaFeed
from streaming.hub import Hub
from streaming.rpc import ThreadRpc

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.02


class Runtime:
    def __init__(self, config, rpc=None, access=None, tickets=None, slots=None):
        settings = settings_of(config)
        self.config = config
        self.settings = settings
        self.metrics = Metrics()
        self.hub = Hub(settings.SSE_REPLAY_SECONDS, settings.SSE_REORDER_SECONDS,
                       metrics=self.metrics)
        self.rpc = rpc or ThreadRpc(config)
        self.sources = configured_sources(config)
        self.access = access or AccessState(self.sources,
                                            stale_after=settings.ACCESS_FEED_STALE_AFTER)
        self.tickets = tickets or Tickets(config)
        self.slots = slots or ConnectionSlots(config)
        self.loop = None
        self.feed = None
        self.subscriber = None
        self._tasks = []
        self._positioned = False
        self.stopping = False

    # -- lifecycle (uvicorn's lifespan) ------------------------------------------------------
    async def start(self):
        self.loop = asyncio.get_running_loop()
        self.access.on_change(self._access_changed)  # on the feed thread: hand over
        if self.sources:
            self.subscriber = AccessFeedSubscriber(
                self.config, self.access, self.rpc,
                auto=self.settings.ACCESS_SOURCES == "auto").start()
        self.feed = KafkaFeed(self.config, self.loop, self._deliver, self._position, self.rpc,
                              self.settings.SSE_REPLAY_SECONDS).start()
        self._tasks = [asyncio.create_task(self._flusher()),
                       asyncio.create_task(self._refresher())]

    async def stop(self):
        self.shutdown()
        for task in self._tasks:
            task.cancel()
        if self.feed is not None:
            await asyncio.to_thread(self.feed.stop)
        if self.subscriber is not None:
            await asyncio.to_thread(self.subscriber.stop)

    def shutdown(self):
        """SIGTERM: every stream ends cleanly (clients reconnect elsewhere with their id)."""
        self.stopping = True
        connections = self.hub.all_connections()
        metrics.STREAM_CLIENTS_CLOSED.labels("shutdown").inc(len(connections))
        self.hub.close_all("shutdown")

    # -- readiness -----------------------------------------------------------------------
    def ready(self):
        return (not self.stopping and self.feed is not None and self.feed.ready
                and self.feed.caught_up and self._positioned)

    def checks(self):
        feed = self.feed
        kafka = ("ok" if feed is not None and feed.ready and feed.caught_up
                 else "catching up" if feed is not None and feed.ready else "unavailable")
        stale = self.access.stale_sources()
        return {"kafka": kafka,
                "access_feed": "ok" if not stale else "stale: " + ", ".join(stale),
                "accepting": "no (shutting down)" if self.stopping else "ok"}

    # -- from the threads ----------------------------------------------------------------
    def _position(self, starts):
        for tp, offset in starts.items():
            self.hub.start_at(tp, offset)
        self._positioned = True

    def _deliver(self, items):
        for item in items:
            self.hub.push(item)
        self.hub.flush()

    def _access_changed(self, user_id, kind):
        self.loop.call_soon_threadsafe(self._recheck, user_id)

    def _recheck(self, user_id):
        """A change about `user_id` arrived: its streams whose credentials no longer hold
        (revoked token, erased account, lost admin right for `moderation`) are closed."""
        for connection in self.hub.connections_of(user_id):
            try:
                principal = self.access.check(connection.claims)
            except TokenRevoked:
                metrics.STREAM_CLIENTS_CLOSED.labels("revoked").inc()
                connection.close("revoked")
                continue
            if "moderation" in connection.keys and not principal.is_admin:
                metrics.STREAM_CLIENTS_CLOSED.labels("admin_revoked").inc()
                connection.close("admin_revoked")

    # -- connections ---------------------------------------------------------------------
    def finish(self, connection):
        self.hub.unregister(connection)
        if connection.conn_id is not None:
            conn_id, connection.conn_id = connection.conn_id, None
            self.loop.run_in_executor(None, self.slots.release, connection.subject, conn_id)

    async def _flusher(self):
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            try:
                self.hub.flush()
            except Exception:
                log.exception("stream flush failed")

    async def _refresher(self):
        """Keeps the connection slots of open streams from lapsing (a killed process's
        stop counting by themselves)."""
        while True:
            await asyncio.sleep(self.settings.SSE_HEARTBEAT_SECONDS)
            pairs = [(c.subject, c.conn_id) for c in self.hub.all_connections()
                     if c.conn_id is not None]
            await asyncio.to_thread(self.slots.refresh, pairs)
