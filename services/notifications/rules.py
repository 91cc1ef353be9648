"""Contract decision 7: which event notifies whom, with what text. Pure functions of the
typed events of the catalogue (contracts/events.py): the consumer has already parsed and
validated them, so every payload field is there with its declared type.

- post.liked      -> LIKE to the post author
- comment.created -> COMMENT to the post author; for a reply, REPLY to the parent
                     comment's author, and the post author's COMMENT only if they are not
                     that parent author (one notification per person per reply)
- user.registered -> SYSTEM welcome
- user.banned, user.unbanned -> SYSTEM to the user (contract v2 section 8.2; the moderator
                     stays anonymous: actor_id null)
Nobody is notified of their own actions.
"""
from dataclasses import dataclass, field

from contracts.events import (CommentCreated, PostLiked, UserBanned, UserLoggedIn, UserRegistered,
                             UserUnbanned)
from imageboard.timefmt import iso

LIKE, COMMENT, REPLY, SYSTEM = "LIKE", "COMMENT", "REPLY", "SYSTEM"


@dataclass(frozen=True)
class Draft:
    user_id: int
    type: str
    message: str
    data: dict = field(default_factory=dict)


def welcome_text(username):
    return f"Welcome to the imageboard, {username}!"


def on_post_liked(p):
    if p.post_author_id == p.user_id:
        return []
    return [Draft(p.post_author_id, LIKE, f'{p.username} liked your post "{p.post_title}"',
                  {"post_id": p.post_id, "actor_id": p.user_id})]


def on_comment_created(p):
    author, post_author = p.author_id, p.post_author_id
    parent_author = p.parent_author_id if p.parent_id is not None else None
    name, title = p.author_username, p.post_title
    data = {"post_id": p.post_id, "comment_id": p.comment_id, "actor_id": author}
    drafts = []
    if parent_author is not None and parent_author != author:
        drafts.append(Draft(parent_author, REPLY, f'{name} replied to your comment on "{title}"', data))
    if post_author != author and post_author != parent_author:
        drafts.append(Draft(post_author, COMMENT, f'{name} commented on your post "{title}"', data))
    return drafts


def on_user_registered(p):
    return [Draft(p.user_id, SYSTEM, welcome_text(p.username), {"actor_id": None})]


def ban_text(reason, expires_at):
    """Contract v2 section 8.2 (the same words as the 403 user_banned message)."""
    if expires_at is None:
        return f"You are banned permanently: {reason}"
    return f"You are banned until {iso(expires_at)}: {reason}"


def on_user_banned(p):
    return [Draft(p.user_id, SYSTEM, ban_text(p.reason, p.expires_at), {"actor_id": None})]


def on_user_unbanned(p):
    return [Draft(p.user_id, SYSTEM, "Your ban was lifted", {"actor_id": None})]


# payload model -> rule: a new version of a type is a new model, and needs its own rule.
RULES = {
    PostLiked: on_post_liked,
    CommentCreated: on_comment_created,
    UserRegistered: on_user_registered,
    UserBanned: on_user_banned,
    UserUnbanned: on_user_unbanned,
}


def notifications_for(event):
    """The notifications one event (contracts.events.Event) causes; [] for the others."""
    rule = RULES.get(type(event.payload))
    return rule(event.payload) if rule else []


def known_user(event):
    """(user_id, username) to remember from user events, else None."""
    if isinstance(event.payload, (UserRegistered, UserLoggedIn)):
        return event.payload.user_id, event.payload.username
    return None
