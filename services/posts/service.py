"""Posts service: the feed, post details, likes and images, over RPC."""
import logging

import eventlet
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from contracts.events import PostViewed
from imageboard.events.kafka_entrypoint import consume_events, dead_letters
from imageboard.events.publisher import EventPublisher
from imageboard.events.relay import OutboxRelay
from imageboard import service_kit  # bases by module: `nameko run` runs every class imported here
from imageboard.service_kit import RequestContext, rpc
from services.posts.dependencies import PostsDatabase
from services.posts import export
from services.posts.search import PostsQueriesProvider

log = logging.getLogger(__name__)
COMMENTS_CLEANUP_WAIT = 3  # seconds


class PostsService(service_kit.OutboxService):
    name = "posts"
    # /metrics is served on METRICS_PORT_BASE + this (compose sets METRICS_PORT instead).
    metrics_port_offset = 2

    posts = PostsDatabase()
    queries = PostsQueriesProvider()  # search and cursor pages (services/posts/search.py)
    comments = RpcProxy("comments")
    context = RequestContext()
    relay = OutboxRelay()  # publishes post-events from the outbox table
    events = EventPublisher()  # best-effort analytics-events (post.viewed)

    @rpc
    def create_post(self, payload, author):
        """payload: title, content, image_upload? (a file name in UPLOAD_DIR written by
        the gateway); author: {"id", "username"} from the caller's token."""
        return self.posts.create(payload, author)

    @rpc
    def list_posts(self, page=1, limit=20, ordering=None):
        return self.posts.list(page, limit, ordering)

    @rpc
    def search_posts(self, search, page=1, limit=20, ordering=None):
        return self.queries.search(search, page, limit, ordering)

    @rpc
    def list_posts_cursor(self, limit=20, ordering=None, direction="next", key=None):
        return self.queries.cursor_page(limit, ordering, direction, key)

    @rpc
    def feed_rows(self, post_ids):
        """The stream process: {id: feed row} of the live ones of post_ids (no post.viewed)."""
        return {str(k): v for k, v in self.posts.feed_rows(post_ids).items()}

    @rpc
    def get_post(self, post_id, viewer_id=None, admin=False):
        """The post detail; removed: 404 unless `admin` (then with removed_reason)."""
        post = self.posts.get(post_id, admin=bool(admin))
        # Best effort, no outbox row: queued without waiting; dropped if Kafka is down.
        self.events.publish(PostViewed(post_id=post_id, viewer_id=viewer_id),
                            key=post_id, actor_id=viewer_id)
        return post

    @rpc
    def get_post_admin(self, post_id):
        """The admin view of a post (removed ones too, with removed_reason), no post.viewed:
        for the moderation service (report snapshots, checks before acting)."""
        return self.posts.get(post_id, admin=True)

    @rpc
    def update_post(self, post_id, payload, actor):
        """PATCH /api/posts/{id}/ (contract v2 section 4.1): payload {title?, content?};
        actor {"id", "username", "is_admin"?}. The post detail."""
        post, detail = self.posts.update(post_id, payload, actor)
        self._tell_comments(post)
        return detail

    @rpc
    def remove_post(self, post_id, reason, moderator_id, report_id=None):
        """Admin removal (section 4.3); the admin view. PostNotFound, AlreadyRemoved."""
        post, detail = self.posts.remove(post_id, reason, moderator_id, report_id)
        self._tell_comments(post)
        return detail

    @rpc
    def restore_post(self, post_id, reason, moderator_id):
        """Admin restore (section 4.3); the admin view. PostNotFound, NotRemoved."""
        post, detail = self.posts.restore(post_id, reason, moderator_id)
        self._tell_comments(post)
        return detail

    @rpc
    def toggle_like(self, post_id, user):
        return self.posts.toggle_like(post_id, user)

    @rpc
    def delete_post(self, post_id, actor):
        deleted = self.posts.delete(post_id, actor)
        self._delete_comments(post_id)
        return deleted

    @rpc
    def report_target(self, post_id):
        """For the moderation service (a report's snapshot): author, title and content of a
        post that exists and is not removed, else 404 post_not_found. No post.viewed: a
        report is not a view."""
        return self.posts.report_target(post_id)

    @rpc
    def comment_target(self, post_id):
        """For the comments service: 404 unless the post exists; its author and title."""
        return self.posts.comment_target(post_id)

    @rpc
    def sync_comments_count(self, post_id, count, version=None):
        return self.posts.sync_comments_count(post_id, count, version)

    @rpc
    def post_exists(self, post_id):
        return self.posts.exists(post_id)

    @rpc
    def count_by_author(self, user_id):
        return self.posts.count_by_author(user_id)

    @rpc
    def posts_of_author(self, author_id):
        """The data export: every post of the user with its likes, oldest first."""
        return export.posts_of_author(self.posts, author_id)

    @rpc
    def likes_of_user(self, user_id):
        """The data export: every like the user gave, oldest first."""
        return export.likes_of_user(self.posts, user_id)

    @consume_events(["user-events"])
    def on_user_event(self, event):
        """user.deleted: erase the user's posts and likes (services/posts/erasure.py)."""
        return self.posts.handle_user_event(event)

    @dead_letters
    def on_dead_letter(self, letter):
        self.posts.record_dead_letter(letter)

    def _tell_comments(self, post):
        """After an edit, removal or restore committed: the comments service's copy of the
        post's title and removal (its post_targets) follows before we answer, so the next
        comment.created carries the new title and a removed post's comments are 404. If the
        comments service is slow the call stays queued; it also applies post.updated and
        content.removed/restored from Kafka (idempotent), so it converges either way."""
        try:
            reply = self.comments.update_post_target.call_async(
                post.id, post.author_id, post.title, post.removed)
            with eventlet.Timeout(COMMENTS_CLEANUP_WAIT):
                reply.result()
        except UnknownService:
            log.warning("comments service not deployed", extra={"post_id": post.id})
        except eventlet.Timeout:
            log.warning("comments post target update still queued", extra={"post_id": post.id})
        except Exception as exc:
            log.error("comments post target update failed",
                      extra={"post_id": post.id, "error": repr(exc)})

    def _delete_comments(self, post_id):
        """The post is already gone (committed). Its comments live in the comments
        service: ask it and wait briefly. If it is slow or down the request stays queued
        in RabbitMQ and runs when it is back; meanwhile the gateway answers 404 for the
        deleted post's comment list, so nobody sees them."""
        try:
            reply = self.comments.delete_for_post.call_async(post_id)
            with eventlet.Timeout(COMMENTS_CLEANUP_WAIT):
                reply.result()
        except UnknownService:
            log.warning("comments service not deployed; no comments to delete",
                        extra={"post_id": post_id})
        except eventlet.Timeout:
            log.warning("comments cleanup still queued", extra={"post_id": post_id})
        except Exception as exc:  # the deletion stands; log what did not follow
            log.error("comments cleanup failed", extra={"post_id": post_id, "error": repr(exc)})
