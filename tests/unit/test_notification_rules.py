"""Contract decision 7 as pure functions: who is notified of which event, with what text.
The rules get typed events of the catalogue, parsed by the consumer as it parses Kafka's."""
import json

import pytest

from contracts.events import InvalidEvent, decode
from imageboard.events.envelope import make_event
from services.notifications.rules import known_user, notifications_for


def typed(event_type, key, actor_id, payload):
    """As the consumer gets it: the wire form decoded by the catalogue."""
    return decode(json.dumps(make_event(event_type, key, actor_id, payload)))


def liked(owner, liker):
    return typed("post.liked", 42, liker, {
        "post_id": 42, "post_author_id": owner, "post_title": "Sunset", "user_id": liker,
        "username": "bob", "likes_count": 1})


def comment(author, post_author=1, parent_id=None, parent_author=None):
    return typed("comment.created", 42, author, {
        "comment_id": 9, "post_id": 42, "post_author_id": post_author, "post_title": "Sunset",
        "parent_id": parent_id, "parent_author_id": parent_author, "author_id": author,
        "author_username": "carol"})


def summary(event):
    return [(d.user_id, d.type) for d in notifications_for(event)]


def test_like_notifies_the_post_author_but_not_a_self_like():
    [draft] = notifications_for(liked(owner=1, liker=2))
    assert (draft.user_id, draft.type) == (1, "LIKE")
    assert draft.message == 'bob liked your post "Sunset"'
    assert draft.data == {"post_id": 42, "actor_id": 2}
    assert summary(liked(owner=1, liker=1)) == []


@pytest.mark.parametrize("event, expected", [
    (comment(author=2), [(1, "COMMENT")]),
    (comment(author=1), []),  # own post
    (comment(author=3, parent_id=5, parent_author=2), [(2, "REPLY"), (1, "COMMENT")]),
    (comment(author=3, parent_id=5, parent_author=1), [(1, "REPLY")]),  # one, not two
    (comment(author=2, parent_id=5, parent_author=2), [(1, "COMMENT")]),  # own comment
    (comment(author=1, parent_id=5, parent_author=2), [(2, "REPLY")]),  # post author replies
    (comment(author=1, parent_id=5, parent_author=1), []),
])
def test_comment_and_reply_rules(event, expected):
    assert summary(event) == expected


def test_texts_and_data_of_comment_notifications():
    reply, post_comment = notifications_for(comment(author=3, parent_id=5, parent_author=2))
    assert reply.message == 'carol replied to your comment on "Sunset"'
    assert post_comment.message == 'carol commented on your post "Sunset"'
    assert reply.data == post_comment.data == {"post_id": 42, "comment_id": 9, "actor_id": 3}


def test_registration_gets_a_welcome_and_is_remembered():
    event = typed("user.registered", 7, 7, {"user_id": 7, "username": "alice"})
    [draft] = notifications_for(event)
    assert (draft.user_id, draft.type, draft.message) == (7, "SYSTEM", "Welcome to the imageboard, alice!")
    assert draft.data == {"actor_id": None}
    assert known_user(event) == (7, "alice")
    login = typed("user.logged_in", 7, 7, {"user_id": 7, "username": "alice"})
    assert notifications_for(login) == [] and known_user(login) == (7, "alice")


def test_events_without_rules_notify_nobody():
    unliked = typed("post.unliked", 42, 2, {
        "post_id": 42, "post_author_id": 1, "post_title": "Sunset", "user_id": 2,
        "username": "bob", "likes_count": 0})
    assert notifications_for(unliked) == [] and known_user(unliked) is None


@pytest.mark.parametrize("payload_change", [
    {"post_author_id": None}, {"post_author_id": "1"}, {"user_id": True}, {"post_title": ""},
])
def test_bad_payloads_never_reach_the_rules(payload_change):
    """The catalogue refuses them when the message is parsed (they become dead letters)."""
    event = make_event("post.liked", 42, 2, {
        "post_id": 42, "post_author_id": 1, "post_title": "Sunset", "user_id": 2,
        "username": "bob", "likes_count": 1})
    event["payload"].update(payload_change)
    with pytest.raises(InvalidEvent):
        decode(json.dumps(event))


def moderation(event_type, target_type, **extra):
    payload = {"target_type": target_type, "target_id": 9 if target_type == "comment" else 42,
               "post_id": 42, "post_title": "Sunset", "author_id": 7, "reason": "spam", **extra}
    return typed(event_type, 42, 1, payload)


@pytest.mark.parametrize("event, message, data", [
    (moderation("content.removed", "post", removed_by=1, report_id=None),
     'Your post "Sunset" was removed by a moderator: spam', {"post_id": 42, "actor_id": None}),
    (moderation("content.removed", "comment", removed_by=1, report_id=3),
     'Your comment on "Sunset" was removed by a moderator: spam',
     {"post_id": 42, "comment_id": 9, "actor_id": None}),
    (moderation("content.restored", "post", restored_by=1),
     'Your post "Sunset" was restored', {"post_id": 42, "actor_id": None}),
    (moderation("content.restored", "comment", restored_by=1),
     'Your comment on "Sunset" was restored', {"post_id": 42, "comment_id": 9, "actor_id": None}),
])
def test_removal_and_restore_notify_the_author_with_the_contract_text(event, message, data):
    """Contract v2 section 8.2: SYSTEM, the moderator anonymous (actor_id null)."""
    [draft] = notifications_for(event)
    assert (draft.user_id, draft.type, draft.message, draft.data) == (7, "SYSTEM", message, data)


def test_edits_and_deletions_notify_nobody():
    assert notifications_for(typed("post.updated", 42, 7, {
        "post_id": 42, "author_id": 7, "title": "New", "fields": ["title"]})) == []
    assert notifications_for(typed("comment.updated", 42, 8, {
        "comment_id": 9, "post_id": 42, "author_id": 8})) == []
    assert notifications_for(typed("comment.deleted", 42, 1, {
        "comment_id": 9, "post_id": 42, "author_id": 8, "deleted_by": 1, "placeholder": False})) == []
