"""Cursor pages of a post's comments (contract v2 section 3.6): oldest first on
(created_at, id), read from comments_post_thread (post_id, created_at, id), so a page deep
in a long thread costs what the first does and needs no count."""
from nameko.extensions import DependencyProvider

from contracts.errors import InvalidCursor
from imageboard.cursors import DIRECTIONS, check_key
from imageboard.keyset import Keyset
from imageboard.pagination import check_page, is_id
from services.comments.exceptions import InvalidPostId, PostNotFound
from services.comments.lifecycle import post_removed
from services.comments.models import database
from services.comments.schemas import ITEM_COLUMNS, comment_row

THREAD_PAGES = Keyset(", ".join(ITEM_COLUMNS), "comments", "post_id = %(post_id)s AND listed",
                      created_desc=False, id_desc=False)


class CommentPages:
    def __init__(self, db, config):
        self.db = db
        self.config = config  # comment_row builds avatar URLs from it

    def page(self, post_id, limit=20, direction="next", key=None):
        """{"results", "next", "previous"}; next/previous are keys or None."""
        if not is_id(post_id):
            raise InvalidPostId()
        check_page(1, limit)
        if direction not in DIRECTIONS:
            raise InvalidCursor()
        key = None if key is None else check_key(key)
        if post_removed(post_id):  # a removed post's comments: 404 (section 4.3)
            raise PostNotFound()
        page = THREAD_PAGES.page(self.db, limit, direction, key, {"post_id": post_id})
        return {"results": [comment_row(row, self.config) for row in page["rows"]],
                "next": page["next"], "previous": page["previous"]}


class CommentPagesProvider(DependencyProvider):
    """On the comments database initialised by CommentsDatabase (whose worker teardown
    returns the connection)."""

    def get_dependency(self, worker_ctx):
        return CommentPages(database, self.container.config)
