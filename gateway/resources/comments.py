import falcon

from gateway.auth import require_admin, require_user
from gateway.cursors import cursor_mode, set_cursor_link_header
from gateway.media import json_body
from gateway.pagination import parse_page, query_int, set_list_headers
from gateway.resources.posts import absolute_avatar_url, removal_reason
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


def _actor(req):
    user = req.context.user
    return {"id": user.id, "username": user.username, "is_admin": user.is_admin}


def _comment(req, comment):
    absolute_avatar_url(req, comment.get("author"))
    return comment


class CommentResource:
    """GET, PATCH, DELETE /api/comments/{id}/ (contract v2 sections 4.1, 4.2)."""

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, comment_id):
        user = req.context.user
        resp.media = _comment(req, self.rpc.read("comments", "get_comment", comment_id,
                                                 admin=bool(user and user.is_admin)))

    @falcon.before(require_user)
    def on_patch(self, req, resp, comment_id):
        resp.media = _comment(req, self.rpc.write("comments", "update_comment", comment_id,
                                                  json_body(req), _actor(req)))

    @falcon.before(require_user)
    def on_delete(self, req, resp, comment_id):
        self.rpc.write("comments", "delete_comment", comment_id, _actor(req))
        resp.status = falcon.HTTP_204


class CommentRemoveResource:
    """POST /api/comments/{id}/remove/ (contract v2 section 4.3): admins only."""

    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_admin)
    def on_post(self, req, resp, comment_id):
        resp.media = _comment(req, self.rpc.write("comments", "remove_comment", comment_id,
                                                  removal_reason(req), req.context.user.id))


class CommentRestoreResource:
    """POST /api/comments/{id}/restore/ (contract v2 section 4.3): admins only."""

    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_admin)
    def on_post(self, req, resp, comment_id):
        resp.media = _comment(req, self.rpc.write("comments", "restore_comment", comment_id,
                                                  removal_reason(req), req.context.user.id))
