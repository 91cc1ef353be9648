"""The comments service's domain wrapper, handed to each worker by the Database provider.

comments_count lives on the post (the feed sorts and shows it without asking us), but the
comments live here, so creating one is a write in two databases. How it stays exact:

1. The post's author and title (for the comment.created event) and whether it is removed
   come from post_targets, this database's copy (lifecycle.py): the posts service updates
   it over RPC after every edit, removal and restore, before it answers, so a new comment
   carries the current title and a removed post takes no comments (404). A post not known
   yet is asked for once, posts.comment_target(post_id) (404 if missing or removed), not
   once per comment: under load every call to posts waits behind the feed reads in its
   queue. Whether the post still exists is settled by step 3, which every comment makes.
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

import eventlet
from nameko.exceptions import UnknownService

from contracts.errors import ServiceUnavailable
from contracts.schemas import CommentCreateRequest, load
from contracts.events import CommentCreated, PostDeleted, UserDeleted, UserUpdated
from imageboard import avatars
from imageboard.events.dead_letters import record_dead_letter
from imageboard.events.outbox import record_event
from imageboard.pagination import check_page, is_id
from imageboard.service_kit import Database
from imageboard.timefmt import utcnow
from services.comments import erasure, lifecycle
from services.comments.exceptions import (CommentNotFound, InvalidParent, InvalidPostId,
                                          PostNotFound)
from services.comments.models import Comment, Outbox, PostTarget, database
from services.comments.schemas import ITEM_COLUMNS, comment_created, comment_row
from imageboard.settings import settings_of

log = logging.getLogger(__name__)

# A post's live comments (neither deleted nor removed: contract v2 section 4.2) and a number
# ordering this count among all counts of the post: taken under a per-post transaction lock,
# so a larger number always comes with a count that saw at least as many commits.
LIVE_COUNT_LOCK = "SELECT pg_advisory_xact_lock(7245002, (%s %% 2147483647)::int)"
LIVE_COUNT_SQL = ("SELECT count(*) FILTER (WHERE NOT is_deleted AND NOT removed), "
                  "nextval('comments_count_version') FROM comments WHERE post_id = %s")

# A post's listed comments (placeholders included: contract v2 section 4.2), oldest first,
# each row with the number of listed rows (a window count: X-Total-Count).
LIST_SQL = (f"SELECT {', '.join(ITEM_COLUMNS)}, count(*) OVER () FROM comments "
            "WHERE post_id = %s AND listed ORDER BY created_at, id LIMIT %s OFFSET %s")


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
        target = lifecycle.known_target(self.db, post_id,
                                        lambda: posts.call("comment_target", post_id))
        parent = self._parent(data["parent"], post_id)
        with self.db.atomic():
            now = utcnow()
            avatar = avatars.refuse_erased(self.db, author["id"])
            comment = Comment.create(post_id=post_id, parent=data["parent"], content=data["content"],
                                     author_id=author["id"], author_username=author["username"],
                                     author_avatar=avatar, created_at=now, updated_at=now)
            event = record_event(Outbox, CommentCreated(
                comment_id=comment.id, post_id=post_id,
                post_author_id=target.author_id, post_title=target.title,
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
        if parent.is_deleted or parent.removed:  # placeholders take no replies (section 4.2)
            raise InvalidParent("The parent comment was deleted or removed",
                                fields={"parent": "must be a live comment on the same post"})
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
            with self.db.atomic():
                PostTarget.delete().where(PostTarget.post_id == comment.post_id).execute()
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
        if lifecycle.post_removed(post_id):  # a removed post's comments: 404 (section 4.3)
            raise PostNotFound()
        # Page and total in one statement, as plain tuples (a hot read: peewee's query
        # building and model instances cost more than the query).
        rows = self.db.execute_sql(LIST_SQL, (post_id, limit, (page - 1) * limit)).fetchall()
        if not rows:  # no comments, or past the last page
            return {"count": Comment.select().where((Comment.post_id == post_id)
                                                    & Comment.listed).count(),
                    "results": []}
        return {"count": rows[0][-1], "results": [comment_row(row, self.config) for row in rows]}

    def report_target(self, comment_id):
        comment = Comment.get_or_none(Comment.id == comment_id) if is_id(comment_id) else None
        # Missing for reporters as for every non-admin (contract v2 section 4.3): deleted
        # (a placeholder), removed, or on a removed post.
        if (comment is None or comment.is_deleted or comment.author_id is None or comment.removed
                or PostTarget.select().where((PostTarget.post_id == comment.post_id)
                                             & PostTarget.removed).exists()):
            raise CommentNotFound()
        return {"comment_id": comment.id, "post_id": comment.post_id,
                "author_id": comment.author_id, "author_username": comment.author_username,
                "content": comment.content}

    def delete_for_post(self, post_id):
        if not is_id(post_id):
            return 0
        with self.db.atomic():
            PostTarget.delete().where(PostTarget.post_id == post_id).execute()
            return Comment.delete().where(Comment.post_id == post_id).execute()

    def count_by_author(self, user_id):
        if not is_id(user_id):
            return 0
        return Comment.select().where((Comment.author_id == user_id)
                                      & (Comment.is_deleted == False)  # noqa: E712
                                      & (Comment.removed == False)).count()  # noqa: E712

    # ---- the lifecycle (lifecycle.py): detail, edit, delete, remove, restore -------------
    def get(self, comment_id, admin=False):
        return lifecycle.get(self, comment_id, admin)

    def update(self, comment_id, payload, actor):
        return lifecycle.update(self, comment_id, payload, actor)[0]

    def delete(self, comment_id, actor, posts_proxy):
        post_id = lifecycle.delete(self, comment_id, actor)
        self.sync_live_count(posts_proxy, post_id)
        return {"comment_id": comment_id}

    def remove(self, comment_id, reason, moderator_id, report_id, posts_proxy):
        posts = PostsClient(posts_proxy, self.rpc_timeout)
        post_id = lifecycle.remove(self, comment_id, reason, moderator_id, report_id,
                                   lambda pid: self._target_of(posts, pid))
        self.sync_live_count(posts_proxy, post_id)
        return self.get(comment_id, admin=True)

    def restore(self, comment_id, reason, moderator_id, posts_proxy):
        posts = PostsClient(posts_proxy, self.rpc_timeout)
        post_id = lifecycle.restore(self, comment_id, reason, moderator_id,
                                    lambda pid: self._target_of(posts, pid))
        self.sync_live_count(posts_proxy, post_id)
        return self.get(comment_id, admin=True)

    def update_post_target(self, post_id, author_id, title, removed):
        return lifecycle.update_post_target(self.db, post_id, author_id, title, removed)

    def _target_of(self, posts, post_id):
        """{"title", ...} of a post, removed or not: post_targets, else the posts service."""
        target = PostTarget.get_or_none(PostTarget.post_id == post_id)
        if target is not None:
            return {"title": target.title, "author_id": target.author_id}
        return posts.call("get_post_admin", post_id)


class CommentsDatabase(Database):
    def __init__(self):
        super().__init__(database, CommentsStore, service_name="comments")
