"""The comments service's domain wrapper, handed to each worker by the Database provider.

comments_count lives on the post (the feed sorts and shows it without asking us), but the
comments live here, so creating one is a write in two databases. How it stays exact:

1. posts.comment_target(post_id): 404 if the post is missing (nothing written yet); its
   author and title go into the comment.created event. A post's author and title never
   change and ids are never reused, so the answer is kept (POST_TARGETS) and asked for once
   per post, not once per comment: under load every call to posts waits behind the feed
   reads in its queue, and a comment made two such calls. Whether the post still exists
   is settled by step 3, which every comment makes anyway.
2. One local transaction: the comment and its outbox event.
3. posts.sync_comments_count(post_id, <live COUNT of the post's comments>, <version>): the
   count leaves out deleted ones (placeholders.py), and is taken after the write committed,
   under a per-post transaction lock, with a number from the comments_count_version
   sequence; posts applies a count only if its version is newer than the one applied. So
   concurrent, late or repeated syncs converge on the exact number, deletions included
   (the erasure of an account lowers it: erasure.py).
4. If step 3 says the post is gone (deleted between 1 and 3), the comment and its
   unpublished event are removed again and the caller gets 404: no orphan.
   If posts does not answer in time, the comment stands (answering an error would invite
   a duplicate on retry): the sync request waits in posts' RabbitMQ queue, ahead of any
   later read, and the next comment's sync recounts anyway.
"""
import logging
import time
from collections import OrderedDict

import eventlet
from nameko.exceptions import UnknownService

from contracts.errors import ServiceUnavailable
from contracts.schemas import CommentCreateRequest, load
from contracts.events import CommentCreated, PostDeleted, UserDeleted, UserUpdated
from imageboard import avatars
from imageboard.events.dead_letters import record_dead_letter
from imageboard.moderation import is_removed
from imageboard.events.outbox import record_event
from imageboard.pagination import check_page, is_id
from imageboard.service_kit import Database
from imageboard.timefmt import utcnow
from services.comments import erasure
from services.comments.exceptions import (CommentNotFound, InvalidParent, InvalidPostId,
                                          PostNotFound)
from services.comments.models import Comment, Outbox, database
from services.comments.schemas import ITEM_COLUMNS, comment_created, comment_row
from imageboard.settings import settings_of

log = logging.getLogger(__name__)

# A post's live comments (neither deleted nor removed: contract v2 section 4.2) and a number
# ordering this count among all counts of the post: taken under a per-post transaction lock,
# so a larger number always comes with a count that saw at least as many commits.
LIVE_COUNT_LOCK = "SELECT pg_advisory_xact_lock(7245002, (%s %% 2147483647)::int)"
LIVE_COUNT_SQL = ("SELECT count(*) FILTER (WHERE NOT is_deleted), nextval('comments_count_version') "
                  "FROM comments WHERE post_id = %s")

# A post's comments, oldest first, each row with the post's total (a window count).
LIST_SQL = (f"SELECT {', '.join(ITEM_COLUMNS)}, count(*) OVER () FROM comments "
            "WHERE post_id = %s ORDER BY created_at, id LIMIT %s OFFSET %s")


class PostTargets:
    """post_id -> comment_target answer, for up to `ttl` seconds (bounding how long another
    instance keeps a deleted post's entry; see step 3/4 for why a stale one is harmless)
    and at most `size` posts, least recently used first out."""

    def __init__(self, size=50000, ttl=600.0):
        self.size = size
        self.ttl = ttl
        self.entries = OrderedDict()  # post_id -> (stored at, target)

    def get(self, post_id):
        entry = self.entries.get(post_id)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > self.ttl:
            self.entries.pop(post_id, None)
            return None
        self.entries.move_to_end(post_id)
        return entry[1]

    def put(self, post_id, target):
        self.entries[post_id] = (time.monotonic(), target)
        self.entries.move_to_end(post_id)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def forget(self, post_id):
        self.entries.pop(post_id, None)


POST_TARGETS = PostTargets()


class PostsClient:
    """The posts service as this service sees it, with a deadline on every call."""

    def __init__(self, proxy, timeout):
        self.proxy = proxy
        self.timeout = timeout

    def send(self, method, *args):
        try:
            return getattr(self.proxy, method).call_async(*args)
        except UnknownService:
            raise ServiceUnavailable("The posts service is not available", code="service_unavailable")

    def wait(self, reply):
        try:
            with eventlet.Timeout(self.timeout):
                return reply.result()
        except eventlet.Timeout:
            raise ServiceUnavailable("The posts service did not answer in time",
                                     code="service_unavailable")

    def call(self, method, *args):
        return self.wait(self.send(method, *args))


class CommentsStore:
    def __init__(self, db, config):
        self.db = db
        self.config = config
        self.rpc_timeout = settings_of(config).RPC_TIMEOUT

    def create(self, payload, author, posts_proxy):
        data = load(CommentCreateRequest, payload)
        posts = PostsClient(posts_proxy, self.rpc_timeout)
        post_id = data["post_id"]
        target = POST_TARGETS.get(post_id)
        if target is None:
            target = posts.call("comment_target", post_id)
            POST_TARGETS.put(post_id, target)
        parent = self._parent(data["parent"], post_id)
        with self.db.atomic():
            now = utcnow()
            avatar = avatars.refuse_erased(self.db, author["id"])
            comment = Comment.create(post_id=post_id, parent=data["parent"], content=data["content"],
                                     author_id=author["id"], author_username=author["username"],
                                     author_avatar=avatar, created_at=now, updated_at=now)
            event = record_event(Outbox, CommentCreated(
                comment_id=comment.id, post_id=post_id,
                post_author_id=target["author_id"], post_title=target["title"],
                parent_id=parent.id if parent else None,
                parent_author_id=parent.author_id if parent else None,
                author_id=author["id"], author_username=author["username"],
            ), key=post_id, actor_id=author["id"])
        self._sync_count(posts, comment, event)
        return comment_created(comment)

    def _parent(self, parent_id, post_id):
        if parent_id is None:
            return None
        parent = Comment.get_or_none(Comment.id == parent_id)
        if parent is None or parent.post_id != post_id:
            raise InvalidParent(fields={"parent": "must be a comment on the same post"})
        return parent

    def live_count(self, post_id):
        """(live comments of the post, version) for posts.sync_comments_count."""
        with self.db.atomic():
            self.db.execute_sql(LIVE_COUNT_LOCK, (post_id,))
            return tuple(self.db.execute_sql(LIVE_COUNT_SQL, (post_id,)).fetchone())

    def sync_live_count(self, posts_proxy, post_id):
        """After comments of a post were deleted: set its comments_count. If posts is slow
        the request stays queued there (a later count outranks it by its version)."""
        posts = PostsClient(posts_proxy, self.rpc_timeout)
        count, version = self.live_count(post_id)
        try:
            posts.call("sync_comments_count", post_id, count, version)
        except PostNotFound:
            pass  # deleted meanwhile: nothing to count
        except ServiceUnavailable:
            log.warning("comments_count sync still queued at the posts service",
                        extra={"post_id": post_id, "count": count})

    def handle_event(self, event, posts_proxy):
        """post.deleted: the post's comments go (also when the posts service's direct call
        did not arrive); user.deleted: erasure.py. Both idempotent."""
        if isinstance(event.payload, PostDeleted):
            return self.delete_for_post(event.payload.post_id)
        if isinstance(event.payload, UserDeleted):
            return erasure.erase_user(self, event.payload.user_id, posts_proxy)
        if isinstance(event.payload, UserUpdated):
            return avatars.apply_update(self.db, "comments", event.payload.user_id,
                                        event.payload.avatar)
        return None

    def record_dead_letter(self, letter):
        with self.db.atomic():
            record_dead_letter(self.db, letter)

    def _sync_count(self, posts, comment, event):
        count, version = self.live_count(comment.post_id)
        try:
            posts.call("sync_comments_count", comment.post_id, count, version)
        except PostNotFound:
            POST_TARGETS.forget(comment.post_id)
            with self.db.atomic():
                Outbox.delete().where((Outbox.event_id == str(event.event_id))
                                      & Outbox.published_at.is_null()).execute()
                Comment.delete().where(Comment.id == comment.id).execute()
            raise
        except ServiceUnavailable:
            log.warning("comments_count sync still queued at the posts service",
                        extra={"post_id": comment.post_id, "count": count})

    def list(self, post_id, page=1, limit=20):
        """A post's comments, oldest first: {"count", "results"}."""
        if not is_id(post_id):
            raise InvalidPostId()
        check_page(page, limit)
        # Page and total in one statement, as plain tuples (a hot read: peewee's query
        # building and model instances cost more than the query).
        rows = self.db.execute_sql(LIST_SQL, (post_id, limit, (page - 1) * limit)).fetchall()
        if not rows:  # no comments, or past the last page
            return {"count": Comment.select().where(Comment.post_id == post_id).count(),
                    "results": []}
        return {"count": rows[0][-1], "results": [comment_row(row, self.config) for row in rows]}

    def report_target(self, comment_id):
        comment = Comment.get_or_none(Comment.id == comment_id) if is_id(comment_id) else None
        if comment is None or comment.is_deleted or comment.author_id is None or is_removed(comment):
            raise CommentNotFound()
        return {"comment_id": comment.id, "post_id": comment.post_id,
                "author_id": comment.author_id, "author_username": comment.author_username,
                "content": comment.content}

    def delete_for_post(self, post_id):
        if not is_id(post_id):
            return 0
        POST_TARGETS.forget(post_id)
        return Comment.delete().where(Comment.post_id == post_id).execute()

    def count_by_author(self, user_id):
        if not is_id(user_id):
            return 0
        return Comment.select().where((Comment.author_id == user_id)
                                      & (Comment.is_deleted == False)).count()  # noqa: E712


class CommentsDatabase(Database):
    def __init__(self):
        super().__init__(database, CommentsStore, service_name="comments")
