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
| report.created, report.resolved | report_created / report_resolved | moderation | the report as the admin queue lists it (hydrated) |

Events carry ids, not representations, so the data is fetched once per Kafka event
(batched: one RPC per poll and kind, none per delivery) from the services, in the
anonymous view (reports: the admin view): a post or comment that is gone or removed by
then is simply not found, and never sent. New posts come from a feed page at their time;
edited and restored posts by id (posts.feed_rows), edited and restored comments by id
(comments.get_comment), new comments from the thread's last page, reports by id
(moderation.reports_by_id).

Not sent yet: a `comment_deleted` of its own for each placeholder that leaves the list with a
deleted or removed comment (the events' `unlisted`); one Kafka event is one SSE event here,
and a client refetching the thread on `comment_deleted` sees them go.
"""
import logging
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor

from contracts.schemas.types import MAX_LIMIT
from streaming.hub import Item

log = logging.getLogger(__name__)

HYDRATE_POST, HYDRATE_COMMENT, HYDRATE_NOTIFICATION = "post", "comment", "notification"
HYDRATE_POST_BY_ID, HYDRATE_COMMENT_BY_ID, HYDRATE_REPORT = "post_id", "comment_id", "report"


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
                (HYDRATE_POST_BY_ID, p.post_id))
    if kind == "post.deleted":
        return item(("public", f"post:{p.post_id}"), "post_deleted", {"id": p.post_id},
                    post_id=p.post_id), None
    if kind in ("post.liked", "post.unliked"):
        return item((f"post:{p.post_id}",), "likes",
                    {"post_id": p.post_id, "likes_count": p.likes_count}, post_id=p.post_id), None
    if kind == "comment.created":
        return (item((f"post:{p.post_id}",), "comment_created", post_id=p.post_id),
                (HYDRATE_COMMENT, p.post_id, p.comment_id))
    if kind == "comment.updated":
        return (item((f"post:{p.post_id}",), "comment_updated", post_id=p.post_id),
                (HYDRATE_COMMENT_BY_ID, p.comment_id))
    if kind == "comment.deleted":
        # A placeholder as GET /api/comments/{id}/ shows it (parent, times); one that left
        # the list is 404 there: then the minimal form.
        return (item((f"post:{p.post_id}",), "comment_deleted", post_id=p.post_id),
                (HYDRATE_COMMENT_BY_ID, p.comment_id, placeholder(p.comment_id, p.post_id)))
    if kind == "content.removed":
        if p.target_type == "post":
            return item(("public", f"post:{p.post_id}"), "post_deleted", {"id": p.post_id},
                        post_id=p.post_id), None
        return item((f"post:{p.post_id}",), "comment_deleted",
                    placeholder(p.target_id, p.post_id, removed=True), post_id=p.post_id), None
    if kind == "content.restored":
        if p.target_type == "post":
            restored = item(("public", f"post:{p.post_id}"), "post_created", post_id=p.post_id)
            restored.restores = True
            return restored, (HYDRATE_POST_BY_ID, p.post_id)
        return (item((f"post:{p.post_id}",), "comment_created", post_id=p.post_id),
                (HYDRATE_COMMENT_BY_ID, p.target_id))
    if kind in ("report.created", "report.resolved"):
        name = "report_created" if kind == "report.created" else "report_resolved"
        return item(("moderation",), name), (HYDRATE_REPORT, p.report_id)
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
        # By id: one call per kind and batch (comments: one per comment, as GET shows it).
        for kind, fetch in ((HYDRATE_POST_BY_ID, lambda ids: self._keyed(self._call(
                                lambda: self.rpc.read("posts", "feed_rows", ids)))),
                            (HYDRATE_REPORT, lambda ids: self._keyed(self._call(
                                lambda: self.rpc.read("moderation", "reports_by_id", ids))))):
            wanted = [(i, n) for i, n in pairs if n and n[0] == kind]
            if wanted:
                ids = sorted({n[1] for _, n in wanted})
                calls.append((wanted, lambda fetch=fetch, ids=ids: fetch(ids), lambda n: n[1]))
        for i, n in pairs:
            if n and n[0] == HYDRATE_COMMENT_BY_ID:
                calls.append(([(i, n)], lambda comment_id=n[1]: self._one(self._call(
                    lambda: self.rpc.read("comments", "get_comment", comment_id))),
                    lambda n: n[1]))
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
                fallback = n[2] if n[0] == HYDRATE_COMMENT_BY_ID and len(n) > 2 else None
                i.data = found.get(pick(n), fallback)
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
    def _keyed(found):
        """{id: value} from an RPC's {"<id>": value} (JSON keys are text)."""
        return {int(k): v for k, v in (found or {}).items()}

    @staticmethod
    def _one(found):
        return {found["id"]: found} if found else {}

    @staticmethod
    def _by_id(found):
        return {x["id"]: x for x in (found or {}).get("results", [])}

    def _call(self, fn):
        try:
            return fn()
        except Exception as exc:  # a service down: those items are not sent (logged)
            log.warning("stream hydration failed", extra={"error": repr(exc)})
            return None
