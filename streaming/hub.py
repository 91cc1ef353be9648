"""The stream process's memory: reorder window, replay buffers, open connections.

Pure and single-threaded: everything here runs on the asyncio loop (the Kafka thread and
the access feed thread hand over with call_soon_threadsafe), so nothing needs a lock.

- **Reorder window.** Items wait in one FIFO per partition; `flush(now)` sends, oldest
  `occurred_at` first, each head that has waited SSE_REORDER_SECONDS: a like (posts topic)
  and a comment (comments topic) on one post go out in commit order although they come
  from different partitions, and a partition's own order (Kafka's) is never changed, which
  the ids rely on (ids.py).
- **Replay buffers.** Every sent item is kept SSE_REPLAY_SECONDS in the buffer of each
  stream it belongs to; `horizon` is, per partition, the last offset forgotten. A client
  whose id is behind the horizon (or before what this process read at start) gets
  `reset`; otherwise every buffered item past its id, once, in sending order.
- **Connections.** Each has a bounded queue (SSE_CONNECTION_BUFFER items): a client whose
  writer is stuck on a full socket is closed when the queue passes that (any client at 8
  times it), and never slows the others. An item that
  belongs to several of a connection's streams is queued once.
"""
import asyncio
import collections
import time

from streaming import ids

def kind_of(key):
    return key.split(":", 1)[0]


class Item:
    """One event as clients get it (shared by every connection that gets it)."""

    __slots__ = ("tp", "offset", "occurred_at", "received", "streams", "name", "data",
                 "post_id", "seq", "heads", "id", "sent_at", "purged", "restores", "_bytes")

    def __init__(self, tp, offset, occurred_at, streams=(), name=None, data=None,
                 post_id=None, received=None):
        self.tp, self.offset, self.occurred_at = tp, offset, occurred_at
        self.streams = tuple(streams)  # () = moves the position only
        self.name, self.data, self.post_id = name, data, post_id
        self.received = time.monotonic() if received is None else received
        self.seq = self.heads = self.id = self.sent_at = None
        self.purged = False  # its post was deleted since: never sent again
        self.restores = False  # a removed post's restore: its post may be shown again
        self._bytes = {}

    def payload(self, prefix, encode):
        """The data as JSON bytes, media paths made absolute with `prefix` (scheme and host
        the client used), encoded once per prefix."""
        cached = self._bytes.get(prefix)
        if cached is None:
            cached = self._bytes[prefix] = encode(absolute(self.data, prefix))
        return cached


def absolute(data, prefix):
    """image_url, thumbnail_url and author.avatar_url as REST gives them (absolute)."""
    if not prefix or not isinstance(data, dict):
        return data
    out = dict(data)
    for name in ("image_url", "thumbnail_url"):
        if isinstance(out.get(name), str) and out[name].startswith("/"):
            out[name] = prefix + out[name]
    author = out.get("author")
    if isinstance(author, dict) and isinstance(author.get("avatar_url"), str) \
            and author["avatar_url"].startswith("/"):
        out["author"] = dict(author, avatar_url=prefix + author["avatar_url"])
    return out


class Connection:
    __slots__ = ("keys", "user_id", "claims", "prefix", "limit", "queue", "wakeup",
                 "closed", "extra", "conn_id", "task", "registered", "subject", "sending",
                 "__weakref__")

    def __init__(self, keys, user_id=None, claims=None, prefix="", limit=256, conn_id=None):
        self.keys = tuple(keys)
        self.user_id, self.claims, self.prefix, self.limit = user_id, claims, prefix, limit
        self.queue = collections.deque()
        self.wakeup = asyncio.Event()
        self.closed = None      # the reason, once closed
        self.extra = None       # a resumed client's positions beyond this process's heads
        self.conn_id = conn_id
        self.task = None        # the task writing it (cancelled when it overflows)
        self.registered = False
        self.subject = None     # what its connection slot counts under (user or IP)
        # True while its writer waits for the socket (seen from another callback, a write
        # that is in progress is one stuck on a full socket: a slow client).
        self.sending = False

    def offer(self, item):
        """False when the queue overflowed (the connection is then closed)."""
        if self.closed is not None:
            return True
        if self.extra is not None and item.offset <= self.extra.get(item.tp, -1):
            return True  # the client had it from another process
        if len(self.queue) >= self.limit and (self.sending or len(self.queue) >= 8 * self.limit):
            # A burst larger than the buffer is fine for a client that keeps up (its writer
            # drains it right after); one stuck on its socket is dropped.
            self.close("overflow")
            return False
        self.queue.append(item)
        self.wakeup.set()
        return True

    def close(self, reason):
        if self.closed is None:
            self.closed = reason
            self.wakeup.set()

    def id_of(self, item):
        """The id to send with `item`: its heads, or with a resumed client's positions
        merged in while those are ahead of this process."""
        if self.extra is None:
            return item.id
        merged = dict(item.heads)
        ahead = False
        for tp, offset in self.extra.items():
            if offset > merged.get(tp, -1):
                merged[tp] = offset
                ahead = True
        if not ahead:
            self.extra = None
            return item.id
        return ids.encode(merged)


class Hub:
    def __init__(self, replay_seconds=300.0, reorder_seconds=0.25, clock=time.monotonic,
                 metrics=None):
        self.replay_seconds = replay_seconds
        self.reorder_seconds = reorder_seconds
        self.clock = clock
        self.metrics = metrics
        self.pending = {}                    # tp -> deque of items waiting for the window
        self.heads = {}                      # tp -> offset of the last item sent
        self.floor = {}                      # tp -> offset before the first one read
        self.horizon = {}                    # tp -> last offset forgotten
        self.sent = collections.deque()      # every kept item, in sending order
        self.buffers = {}                    # stream key -> deque of items
        self.subscribers = collections.defaultdict(set)  # stream key -> connections
        self.by_user = collections.defaultdict(set)      # user id -> connections
        self.deleted_posts = {}              # post id -> when its post_deleted was sent
        self.by_post = {}                    # post id -> its kept items
        self._seq = 0
        self._head_id = None

    # -- positions ---------------------------------------------------------------------
    def start_at(self, tp, first_offset):
        """This process reads `tp` from `first_offset` (older ids there: reset)."""
        self.floor[tp] = first_offset - 1
        self.heads.setdefault(tp, first_offset - 1)
        self._head_id = None

    def head_id(self):
        if self._head_id is None:
            self._head_id = ids.encode(self.heads)
        return self._head_id

    # -- intake ------------------------------------------------------------------------
    def push(self, item):
        self.pending.setdefault(item.tp, collections.deque()).append(item)

    def flush(self, now=None):
        """Send every item whose window has passed, oldest occurred_at first."""
        now = self.clock() if now is None else now
        while True:
            best = None
            for queue in self.pending.values():
                if queue and (best is None or (queue[0].occurred_at, queue[0].tp)
                              < (best[0].occurred_at, best[0].tp)):
                    best = queue
            if best is None or best[0].received + self.reorder_seconds > now:
                break
            self._send(best.popleft(), now)
        self.trim(now)

    def _send(self, item, now):
        self.heads[item.tp] = max(item.offset, self.heads.get(item.tp, -1))
        self._head_id = None
        if not item.streams:
            return
        if item.name == "post_deleted":
            self.deleted_posts[item.post_id] = now
            # What was sent about it is forgotten: a resuming client or one still behind
            # gets the deletion, never the content.
            for earlier in self.by_post.pop(item.post_id, ()):
                earlier.purged = True
        elif item.restores:
            self.deleted_posts.pop(item.post_id, None)  # restored: its events flow again
        elif item.post_id is not None and item.post_id in self.deleted_posts:
            # After post_deleted a post's streams send nothing more for it (contract §7);
            # a post_created of a deleted post never goes out either.
            return
        self._seq += 1
        item.seq, item.sent_at = self._seq, now
        item.heads = dict(self.heads)
        item.id = ids.encode(item.heads)
        self.sent.append(item)
        if item.post_id is not None and item.name != "post_deleted":
            self.by_post.setdefault(item.post_id, []).append(item)
        targets = set()
        for key in item.streams:
            self.buffers.setdefault(key, collections.deque()).append(item)
            targets.update(self.subscribers.get(key, ()))
        for connection in targets:
            if not connection.offer(item) and self.metrics:
                self.metrics.dropped(connection)

    def trim(self, now=None):
        now = self.clock() if now is None else now
        cutoff = now - self.replay_seconds
        while self.sent and self.sent[0].sent_at < cutoff:
            item = self.sent.popleft()
            kept = self.by_post.get(item.post_id)
            if kept and kept[0] is item:
                kept.pop(0)
                if not kept:
                    del self.by_post[item.post_id]
            self.horizon[item.tp] = max(item.offset, self.horizon.get(item.tp, -1))
            for key in item.streams:
                buffer = self.buffers.get(key)
                if buffer and buffer[0] is item:
                    buffer.popleft()
                if buffer is not None and not buffer:
                    del self.buffers[key]
        for post_id in [p for p, at in self.deleted_posts.items() if at < cutoff - 60]:
            del self.deleted_posts[post_id]

    # -- connections -------------------------------------------------------------------
    def is_deleted(self, post_id):
        return post_id in self.deleted_posts

    def register(self, connection, last_id=None):
        """Subscribe; returns (reset, items to send first). Without `last_id` the client
        starts at the heads; with one this process cannot serve exactly, reset=True."""
        connection.registered = True
        for key in connection.keys:
            self.subscribers[key].add(connection)
        if connection.user_id is not None:
            self.by_user[connection.user_id].add(connection)
        if self.metrics:
            self.metrics.opened(connection)
        if last_id is None:
            return False, []
        positions = ids.decode(last_id)
        if positions is None or any(
                positions.get(tp, -1) < max(floor, self.horizon.get(tp, -1))
                for tp, floor in self.floor.items()):
            return True, []
        ahead = {tp: offset for tp, offset in positions.items()
                 if offset > self.heads.get(tp, -1)}
        connection.extra = positions if ahead else None
        found = {}
        for key in connection.keys:
            for item in self.buffers.get(key, ()):
                if item.offset > positions.get(item.tp, -1) and not item.purged:
                    found[(item.tp, item.offset)] = item
        return False, sorted(found.values(), key=lambda i: i.seq)

    def unregister(self, connection):
        if not connection.registered:
            return
        connection.registered = False
        for key in connection.keys:
            subscribers = self.subscribers.get(key)
            if subscribers is not None:
                subscribers.discard(connection)
                if not subscribers:
                    del self.subscribers[key]
        if connection.user_id is not None:
            mine = self.by_user.get(connection.user_id)
            if mine is not None:
                mine.discard(connection)
                if not mine:
                    del self.by_user[connection.user_id]
        if self.metrics:
            self.metrics.closed(connection)

    def connections_of(self, user_id):
        return list(self.by_user.get(user_id, ()))

    def all_connections(self):
        found = set()
        for connections in self.subscribers.values():
            found.update(connections)
        return found

    def close_all(self, reason="shutdown"):
        for connection in self.all_connections():
            connection.close(reason)
