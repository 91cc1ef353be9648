"""The other services as the moderation service sees them: each call with a deadline.

- posts.report_target / comments.report_target: a report's snapshot (404 post_not_found /
  comment_not_found for a missing, removed or placeholder item: imageboard/moderation.py);
- users.admin_status: a ban's target exists and is not an admin;
- posts.remove_post / comments.remove_comment (and restore_*, for operators): removal.
"""
import eventlet
from nameko.exceptions import UnknownService

from contracts.errors import DomainError, ServiceUnavailable

# What a removal answers when there is nothing (more) to remove: resolving goes on.
NOTHING_TO_REMOVE = frozenset({"already_removed", "post_not_found", "comment_not_found"})


class Peers:
    def __init__(self, posts, comments, users, timeout):
        self.proxies = {"posts": posts, "comments": comments, "users": users}
        self.timeout = timeout

    def call(self, service, method, *args):
        try:
            reply = getattr(self.proxies[service], method).call_async(*args)
        except UnknownService:
            raise ServiceUnavailable(f"The {service} service is not available")
        try:
            with eventlet.Timeout(self.timeout):
                return reply.result()
        except eventlet.Timeout:
            raise ServiceUnavailable(f"The {service} service did not answer in time")

    # -- what the store asks ------------------------------------------------------------
    def target(self, target_type, target_id):
        """{"post_id", "author_id", "author_username", "title", "content"} of a reportable
        item, or PostNotFound / CommentNotFound."""
        if target_type == "post":
            post = self.call("posts", "report_target", target_id)
            return {"post_id": post["post_id"], "author_id": post["author_id"],
                    "author_username": post["author_username"], "title": post["title"],
                    "content": post["content"]}
        comment = self.call("comments", "report_target", target_id)
        return {"post_id": comment["post_id"], "author_id": comment["author_id"],
                "author_username": comment["author_username"], "title": None,
                "content": comment["content"]}

    def user(self, user_id):
        """{"id", "username", "is_admin"} or UserNotFound."""
        return self.call("users", "admin_status", user_id)

    def username(self, user_id):
        """The user's name, or None (erased, or the users service down)."""
        try:
            return self.user(user_id)["username"]
        except DomainError:
            return None

    def remove(self, target_type, target_id, reason, moderator_id, report_id=None):
        """Removes the item (contract v2 section 4.3); False if it was removed or gone
        already (a report's resolution then goes on)."""
        try:
            self.content("remove", target_type, target_id, reason, moderator_id, report_id)
        except DomainError as exc:
            if exc.code in NOTHING_TO_REMOVE:
                return False
            raise
        return True

    def content(self, action, target_type, *args):
        """posts.remove_post / restore_post, comments.remove_comment / restore_comment
        (`action`: remove or restore): the content service's answer."""
        service = "posts" if target_type == "post" else "comments"
        return self.call(service, f"{action}_{target_type}", *args)
