"""Contract decision 7: which event notifies whom, with what text. Pure functions.

- post.liked      -> LIKE to the post author
- comment.created -> COMMENT to the post author; for a reply, REPLY to the parent
                     comment's author, and the post author's COMMENT only if they are not
                     that parent author (one notification per person per reply)
- user.registered -> SYSTEM welcome
Nobody is notified of their own actions.
"""
from dataclasses import dataclass, field

from imageboard.events.envelope import MalformedEvent

LIKE, COMMENT, REPLY, SYSTEM = "LIKE", "COMMENT", "REPLY", "SYSTEM"


@dataclass(frozen=True)
class Draft:
    user_id: int
    type: str
    message: str
    data: dict = field(default_factory=dict)


def _id(payload, name, nullable=False):
    value = payload.get(name)
    if value is None and nullable:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise MalformedEvent(f"payload.{name} must be a positive integer, got {value!r}")
    return value


def _text(payload, name):
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"payload.{name} must be a non-empty string, got {value!r}")
    return value


def welcome_text(username):
    return f"Welcome to the imageboard, {username}!"


def on_post_liked(payload):
    owner, liker = _id(payload, "post_author_id"), _id(payload, "user_id")
    if owner == liker:
        return []
    text = f'{_text(payload, "username")} liked your post "{_text(payload, "post_title")}"'
    return [Draft(owner, LIKE, text, {"post_id": _id(payload, "post_id"), "actor_id": liker})]


def on_comment_created(payload):
    author = _id(payload, "author_id")
    post_author = _id(payload, "post_author_id")
    parent_author = _id(payload, "parent_author_id", nullable=True)
    if _id(payload, "parent_id", nullable=True) is None:
        parent_author = None
    name, title = _text(payload, "author_username"), _text(payload, "post_title")
    data = {"post_id": _id(payload, "post_id"), "comment_id": _id(payload, "comment_id"),
            "actor_id": author}
    drafts = []
    if parent_author is not None and parent_author != author:
        drafts.append(Draft(parent_author, REPLY, f'{name} replied to your comment on "{title}"', data))
    if post_author != author and post_author != parent_author:
        drafts.append(Draft(post_author, COMMENT, f'{name} commented on your post "{title}"', data))
    return drafts


def on_user_registered(payload):
    user_id = _id(payload, "user_id")
    return [Draft(user_id, SYSTEM, welcome_text(_text(payload, "username")), {"actor_id": None})]


RULES = {
    "post.liked": on_post_liked,
    "comment.created": on_comment_created,
    "user.registered": on_user_registered,
}


def notifications_for(event):
    """The notifications one event causes (an empty list for the others)."""
    rule = RULES.get(event["type"])
    return rule(event["payload"]) if rule else []


def known_user(event):
    """(user_id, username) to remember from user events, else None."""
    if event["type"] in ("user.registered", "user.logged_in"):
        return _id(event["payload"], "user_id"), _text(event["payload"], "username")
    return None
