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
