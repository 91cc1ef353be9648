import falcon

from gateway.auth import require_user
from gateway.cursors import cursor_mode, set_cursor_link_header
from gateway.media import json_body
from gateway.pagination import parse_page, query_int, set_list_headers
from gateway.resources.posts import absolute_avatar_url
from contracts.errors import BadRequest


class CommentsResource:
    def __init__(self, rpc, config):
        self.rpc = rpc
        self.secret = config["JWT_SECRET"]  # signs cursors (gateway/cursors.py)

    def on_get(self, req, resp):
        """The documented plain array, oldest first; totals and neighbours in headers."""
        post_id = query_int(req, "post_id", code="invalid_post_id")
        if not post_id:
            raise BadRequest("post_id is required: /api/comments/?post_id=<id>", code="invalid_post_id",
                             fields={"post_id": "a positive integer is required"})
        scope = f"comments:{post_id}"
        cursor = cursor_mode(req, self.secret, scope)
        if cursor:
            result = self.rpc.read("comments", "list_comments_cursor", post_id, cursor.limit,
                                   cursor.direction, cursor.key)
            if not result["results"]:
                self.rpc.read("posts", "post_exists", post_id)  # 404 for an unknown post
            resp.media = result["results"]
            set_cursor_link_header(req, resp, self.secret, scope, result)
            return
        page = parse_page(req)
        result = self.rpc.read("comments", "list_comments", post_id, page.page, page.limit)
        if result["count"] == 0:
            # No comments: an unknown post is 404, not []. Comments only exist for posts
            # that exist (deleting a post deletes them), so only an empty list needs the
            # posts service: one RPC on the common path instead of two (docs/performance-log.md).
            self.rpc.read("posts", "post_exists", post_id)
        for comment in result["results"]:
            absolute_avatar_url(req, comment.get("author"))
        resp.media = result["results"]
        set_list_headers(req, resp, page, result["count"])

    @falcon.before(require_user)
    def on_post(self, req, resp):
        user = req.context.user
        resp.media = self.rpc.write("comments", "create_comment", json_body(req),
                                   {"id": user.id, "username": user.username})
        resp.status = falcon.HTTP_201
