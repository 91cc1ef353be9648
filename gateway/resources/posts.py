import falcon

from gateway.auth import require_admin, require_user
from gateway.cursors import cursor_links, cursor_mode, search_term
from gateway.media import json_body
from gateway.pagination import envelope, parse_page
from gateway.uploads import read_post_form


def _caller(req, with_admin=False):
    """Who is acting, from the verified token: the username is copied into the rows the
    services write, so lists never ask the users service for names."""
    user = req.context.user
    caller = {"id": user.id, "username": user.username}
    if with_admin:
        caller["is_admin"] = user.is_admin
    return caller


def absolute_image_url(req, post):
    """Services know the path under MEDIA_URL; clients get an absolute URL (the image's and
    the author's avatar's)."""
    url = post.get("image_url")
    if url and url.startswith("/"):
        post["image_url"] = req.forwarded_prefix + url  # the client's scheme and host behind nginx
    absolute_avatar_url(req, post.get("author"))
    return post


def absolute_avatar_url(req, author):
    """An `author` object's avatar_url (contract v2 section 3.1), as image_url."""
    url = author.get("avatar_url") if isinstance(author, dict) else None
    if url and url.startswith("/"):
        author["avatar_url"] = req.forwarded_prefix + url


class PostsResource:
    def __init__(self, rpc, config):
        self.rpc = rpc
        self.config = config

    def on_get(self, req, resp):
        ordering = req.get_param("ordering")
        search = search_term(req)
        scope = f"posts:{ordering or '-created_at'}"
        cursor = cursor_mode(req, self.config["JWT_SECRET"], scope, search, ordering)
        if cursor:
            self._cursor_page(req, resp, cursor, ordering, scope)
            return
        page = parse_page(req)
        if search is not None:
            result = self.rpc.read("posts", "search_posts", search, page.page, page.limit, ordering)
        else:
            result = self.rpc.read("posts", "list_posts", page.page, page.limit, ordering)
        for post in result["results"]:
            absolute_image_url(req, post)
        resp.media = envelope(req, page, result)

    def _cursor_page(self, req, resp, cursor, ordering, scope):
        """Contract v2 section 3.6: next, previous, results; no count."""
        result = self.rpc.read("posts", "list_posts_cursor", cursor.limit, ordering,
                               cursor.direction, cursor.key)
        for post in result["results"]:
            absolute_image_url(req, post)
        next_url, previous_url = cursor_links(req, self.config["JWT_SECRET"], scope, result)
        resp.media = {"next": next_url, "previous": previous_url, "results": result["results"]}

    @falcon.before(require_user)
    def on_post(self, req, resp):
        form = read_post_form(req, self.config)
        try:
            post = self.rpc.write("posts", "create_post", form.payload(), _caller(req))
        finally:
            form.discard()
        resp.media = absolute_image_url(req, post)
        resp.status = falcon.HTTP_201


class PostResource:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, post_id):
        user = req.context.user
        viewer = user.id if user else None  # for post.viewed
        admin = bool(user and user.is_admin)  # a removed post: admins only (v2 section 4.3)
        resp.media = absolute_image_url(req, self.rpc.read("posts", "get_post", post_id, viewer,
                                                           admin=admin))

    @falcon.before(require_user)
    def on_patch(self, req, resp, post_id):
        """Contract v2 section 4.1: the author edits title and/or content (JSON only)."""
        resp.media = absolute_image_url(req, self.rpc.write(
            "posts", "update_post", post_id, json_body(req), _caller(req, with_admin=True)))

    @falcon.before(require_user)
    def on_delete(self, req, resp, post_id):
        self.rpc.write("posts", "delete_post", post_id, _caller(req, with_admin=True))
        resp.status = falcon.HTTP_204


class PostLikeResource:
    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_user)
    def on_post(self, req, resp, post_id):
        resp.media = self.rpc.write("posts", "toggle_like", post_id, _caller(req))


def removal_reason(req):
    """The `reason` of a remove/restore body (the service checks it: missing 400, bad 422)."""
    return json_body(req).get("reason")


class PostRemoveResource:
    """POST /api/posts/{id}/remove/ (contract v2 section 4.3): admins only."""

    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_admin)
    def on_post(self, req, resp, post_id):
        resp.media = absolute_image_url(req, self.rpc.write(
            "posts", "remove_post", post_id, removal_reason(req), req.context.user.id))


class PostRestoreResource:
    """POST /api/posts/{id}/restore/ (contract v2 section 4.3): admins only."""

    def __init__(self, rpc):
        self.rpc = rpc

    @falcon.before(require_admin)
    def on_post(self, req, resp, post_id):
        resp.media = absolute_image_url(req, self.rpc.write(
            "posts", "restore_post", post_id, removal_reason(req), req.context.user.id))
