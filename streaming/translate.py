"""Kafka events -> SSE events (contract v2 section 7): which streams, which name, what data.

| Kafka event | SSE event | streams | data |
| --- | --- | --- | --- |
| post.created | post_created | public | the post as the feed lists it (hydrated) |
| post.updated | post_updated | public, post:{id} | the post (hydrated) |
| post.deleted, content.removed (post) | post_deleted | public, post:{id} | {"id"} |
| post.liked, post.unliked | likes | post:{id} | {"post_id", "likes_count"} (from the event) |
| comment.created, comment.updated, content.restored (comment) | comment_created / comment_updated | post:{id} | the comment (hydrated) |
| comment.deleted, content.removed (comment) | comment_deleted | post:{id} | its placeholder form |
| notification.created | notification | user:{user id} | the notification as GET /api/notifications/ lists it (hydrated) |
| report.created, report.resolved | report_created / report_resolved | moderation | (no moderation service on this branch: not sent yet) |

Events carry ids, not representations, so the data of *_created events is fetched once
per Kafka event (batched: one RPC per poll and kind, none per delivery) from the services'
own list methods, the anonymous view: a post or comment that is gone or removed by then is
simply not found, and never sent. The types this branch's catalogue does not declare yet
(post.updated, content.*) are mapped by name and start flowing when they exist.
"""
import logging
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor

from contracts.schemas.types import MAX_LIMIT
from streaming.hub import Item

log = logging.getLogger(__name__)

HYDRATE_POST, HYDRATE_COMMENT, HYDRATE_NOTIFICATION = "post", "comment", "notification"


def _ts(value):
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def translate(event, tp, offset, received=None):
    """(Item, hydration need or None). An event no stream shows gives an Item without
    streams (it still moves the position)."""
    p, kind = event.payload, event.type
    at = _ts(event.occurred_at)

    def item(streams=(), name=None, data=None, post_id=None):
        return Item(tp, offset, at, streams, name, data, post_id, received)

    if kind == "post.created":
        return item(("public",), "post_created", post_id=p.post_id), (HYDRATE_POST, p.post_id)
    if kind == "post.updated":
        return (item(("public", f"post:{p.post_id}"), "post_updated", post_id=p.post_id),
                (HYDRATE_POST, p.post_id))
    if kind == "post.deleted":
        return item(("public", f"post:{p.post_id}"), "post_deleted", {"id": p.post_id},
                    post_id=p.post_id), None
    if kind in ("post.liked", "post.unliked"):
        return item((f"post:{p.post_id}",), "likes",
                    {"post_id": p.post_id, "likes_count": p.likes_count}, post_id=p.post_id), None
    if kind in ("comment.created", "comment.updated"):
        name = "comment_created" if kind == "comment.created" else "comment_updated"
        return (item((f"post:{p.post_id}",), name, post_id=p.post_id),
                (HYDRATE_COMMENT, p.post_id, p.comment_id))
    if kind == "comment.deleted":
        return item((f"post:{p.post_id}",), "comment_deleted", placeholder(p.comment_id, p.post_id),
                    post_id=p.post_id), None
    if kind == "content.removed":
        if p.target_type == "post":
            return item(("public", f"post:{p.post_id}"), "post_deleted", {"id": p.post_id},
                        post_id=p.post_id), None
        return item((f"post:{p.post_id}",), "comment_deleted",
                    placeholder(p.target_id, p.post_id, removed=True), post_id=p.post_id), None
    if kind == "content.restored":
        if p.target_type == "post":
            return item(("public", f"post:{p.post_id}"), "post_created",
                        post_id=p.post_id), (HYDRATE_POST, p.post_id)
        return (item((f"post:{p.post_id}",), "comment_created", post_id=p.post_id),
                (HYDRATE_COMMENT, p.post_id, p.target_id))
    if kind == "notification.created":
        return (item((f"user:{p.user_id}",), "notification"),
                (HYDRATE_NOTIFICATION, p.user_id, p.notification_id))
    return item(), None


def placeholder(comment_id, post_id, removed=False):
    """A deleted (or removed) comment as lists show it (contract v2 section 4.2)."""
    return {"id": comment_id, "post_id": post_id, "author": None, "content": "",
            "parent": None, "edited": False, "is_deleted": not removed, "removed": removed}


def list_shape(post):
    """The feed's shape of a post (the detail less its like list and moderation fields)."""
    return {k: v for k, v in post.items() if k not in ("likes", "removed", "removed_reason")}


class Hydrator:
    """Fills the data of items that need a representation. `rpc.read(service, method,
    *args)`; runs on the Kafka thread, so its RPCs never block the loop."""

    def __init__(self, rpc, parallel=8):
        self.rpc = rpc
        # The RPCs of one batch run side by side (each thread its own proxy: rpc.py).
        self.pool = ThreadPoolExecutor(parallel, thread_name_prefix="stream-hydrate")

    def hydrate(self, pairs):
        """pairs: [(item, need)]; returns the items to send (those not found are dropped,
        except that their position still moves: they come back without streams)."""
        posts = [(i, n) for i, n in pairs if n and n[0] == HYDRATE_POST]
        comments = {}
        notifications = {}
        for i, n in pairs:
            if n and n[0] == HYDRATE_COMMENT:
                comments.setdefault(n[1], []).append((i, n))
            elif n and n[0] == HYDRATE_NOTIFICATION:
                notifications.setdefault(n[1], []).append((i, n))
        calls = []
        if posts:
            newest = max(i.occurred_at for i, _ in posts)
            calls.append((posts, lambda: self._posts(len(posts), newest), lambda n: n[1]))
        for post_id, wanted in comments.items():
            calls.append((wanted, lambda post_id=post_id: self._by_id(self._call(
                lambda: self.rpc.read("comments", "list_comments_cursor", post_id, MAX_LIMIT,
                                      "prev", None))), lambda n: n[2]))
        for user_id, wanted in notifications.items():
            calls.append((wanted, lambda user_id=user_id: self._by_id(self._call(
                lambda: self.rpc.read("notifications", "list_notifications", user_id, False, 1,
                                      MAX_LIMIT))), lambda n: n[2]))
        futures = [(wanted, self.pool.submit(fetch), pick) for wanted, fetch, pick in calls]
        for wanted, future, pick in futures:
            found = future.result()
            for i, n in wanted:
                i.data = found.get(pick(n))
        out = []
        for i, n in pairs:
            if n and i.data is None:
                i.streams = ()  # gone (deleted, removed) or not found: position only
            out.append(i)
        return out

    def _posts(self, count, newest):
        """The posts created up to just after the batch's newest event (a keyset page from
        there, so a batch read late still finds its posts), by id, in the list shape."""
        key = [datetime.fromtimestamp(newest + 2.0, timezone.utc).isoformat(), 2**62]
        found = self._call(lambda: self.rpc.read("posts", "list_posts_cursor",
                                                 min(MAX_LIMIT, max(20, count + 30)), None,
                                                 "next", key))
        return {p["id"]: list_shape(p) for p in (found or {}).get("results", [])}

    @staticmethod
    def _by_id(found):
        return {x["id"]: x for x in (found or {}).get("results", [])}

    def _call(self, fn):
        try:
            return fn()
        except Exception as exc:  # a service down: those items are not sent (logged)
            log.warning("stream hydration failed", extra={"error": repr(exc)})
            return None
