"""Comments service: threaded comments on posts, over RPC."""
from nameko.rpc import RpcProxy

from imageboard.events.kafka_entrypoint import consume_events, dead_letters
from imageboard.events.relay import OutboxRelay
from imageboard.rpc_queues import WRITE_PRIORITY
from imageboard import service_kit  # bases by module: `nameko run` runs every class imported here
from imageboard.service_kit import RequestContext, rpc
from services.comments.cursor_pages import CommentPagesProvider
from services.comments.dependencies import CommentsDatabase
from services.comments import export


class CommentsService(service_kit.OutboxService):
    name = "comments"
    # /metrics is served on METRICS_PORT_BASE + this (compose sets METRICS_PORT instead).
    metrics_port_offset = 3

    comments = CommentsDatabase()
    pages = CommentPagesProvider()  # cursor pages (services/comments/cursor_pages.py)
    posts = RpcProxy("posts", priority=WRITE_PRIORITY)  # only calls made for a new comment
    context = RequestContext()
    relay = OutboxRelay()  # publishes comment-events from the outbox table

    @rpc
    def create_comment(self, payload, author):
        """payload: post_id, content, parent?; author: {"id", "username"} from the token."""
        return self.comments.create(payload, author, self.posts)

    @rpc
    def list_comments(self, post_id, page=1, limit=20):
        return self.comments.list(post_id, page, limit)

    @rpc
    def list_comments_cursor(self, post_id, limit=20, direction="next", key=None):
        return self.pages.page(post_id, limit, direction, key)

    @rpc
    def report_target(self, comment_id):
        """For the moderation service (a report's snapshot): post_id, author and content of
        a live comment; 404 comment_not_found for a missing one or a placeholder."""
        return self.comments.report_target(comment_id)

    @rpc
    def get_comment(self, comment_id, admin=False):
        """GET /api/comments/{id}/ (contract v2 section 4.2): a live or listed deleted
        comment; removed ones (and comments of removed posts) only if `admin`."""
        return self.comments.get(comment_id, admin=bool(admin))

    @rpc
    def get_comment_admin(self, comment_id):
        """The admin view of any comment that exists (removed too, with removed_reason and
        its original author and content): for the moderation service's report snapshots."""
        return self.comments.get(comment_id, admin=True)

    @rpc
    def update_comment(self, comment_id, payload, actor):
        """PATCH /api/comments/{id}/ (section 4.1): payload {content}; actor {"id",
        "username", "is_admin"?}. The comment."""
        return self.comments.update(comment_id, payload, actor)

    @rpc
    def delete_comment(self, comment_id, actor):
        """DELETE /api/comments/{id}/ by its author or an admin (section 4.2)."""
        return self.comments.delete(comment_id, actor, self.posts)

    @rpc
    def remove_comment(self, comment_id, reason, moderator_id, report_id=None):
        """Admin removal (section 4.3); the admin view. CommentNotFound, AlreadyRemoved."""
        return self.comments.remove(comment_id, reason, moderator_id, report_id, self.posts)

    @rpc
    def restore_comment(self, comment_id, reason, moderator_id):
        """Admin restore (section 4.3); the admin view. CommentNotFound, NotRemoved."""
        return self.comments.restore(comment_id, reason, moderator_id, self.posts)

    @rpc
    def update_post_target(self, post_id, author_id, title, removed):
        """Called by the posts service after an edit, removal or restore of a post."""
        return self.comments.update_post_target(post_id, author_id, title, removed)

    @rpc
    def delete_for_post(self, post_id):
        """Called by the posts service after it deleted the post."""
        return self.comments.delete_for_post(post_id)

    @rpc
    def count_by_author(self, user_id):
        return self.comments.count_by_author(user_id)

    @rpc
    def comments_of_author(self, author_id):
        """The data export: every comment of the user, oldest first."""
        return export.comments_of_author(self.comments, author_id)

    @consume_events(["post-events", "user-events"])
    def on_event(self, event):
        """post.deleted and user.deleted (erasure.py); every other type changes nothing."""
        return self.comments.handle_event(event, self.posts)

    @dead_letters
    def on_dead_letter(self, letter):
        self.comments.record_dead_letter(letter)
