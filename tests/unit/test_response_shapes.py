"""The services build their answers as plain dicts (cheaper on the hot path than models,
docs/schemas.md); these tests hold the builders to the response models of contracts.schemas
that the OpenAPI document is generated from. Each answer goes through JSON, as a client
gets it, and is validated strictly (closed objects, no coercion)."""
import datetime
import json
from types import SimpleNamespace

import pydantic
import pytest

from contracts.schemas import (Comment, CommentCreated, Me, Notification, PostCreated,
                               PostDetail, PostPage, PostSummary, Profile)
from gateway.me import me_view
from imageboard.access.state import Ban, Principal
from services.comments.schemas import ITEM_COLUMNS, comment_created, comment_row
from services.notifications.schemas import notification_public
from services.posts.schemas import FEED_COLUMNS, feed_row, post_created, post_detail
from services.users.profiles import me_fields
from services.users.schemas import user_public

CONFIG = {}
NOW = datetime.datetime(2026, 11, 27, 14, 32, 42, 123456, tzinfo=datetime.timezone.utc)
ISO = "2026-11-27T14:32:42.123456+00:00"  # the feed's times arrive formatted by PostgreSQL


def conforms(model, answer, gateway_url=True):
    """Validate `answer` as the client sees it; image_url made absolute as the gateway does."""
    body = json.loads(json.dumps(answer))
    for url in ("image_url", "avatar_url"):
        if gateway_url and isinstance(body.get(url), str):
            body[url] = "http://testserver" + body[url]
    return model.model_validate_json(json.dumps(body), strict=True)


def feed_tuple(image="abc.png"):
    row = (7, "title", "content", image, 3, "alice", "av.png", ISO, ISO, False, 2, 5)
    assert len(row) == len(FEED_COLUMNS)
    return row


@pytest.mark.parametrize("image", ["abc.png", None])
def test_feed_rows_and_page_are_post_summaries(image):
    summary = feed_row(feed_tuple(image), CONFIG)
    conforms(PostSummary, summary)
    page = {"count": 1, "next": None, "previous": None,
            "results": [dict(summary, image_url=None)]}
    conforms(PostPage, page)


def test_post_detail_and_created():
    likes = [{"user_id": 4, "username": "bob"}]
    conforms(PostDetail, post_detail(feed_tuple() + (likes,), CONFIG))
    # Contract v2 section 3.1: `removed` for everyone, `removed_reason` for admins only.
    shown = post_detail(feed_tuple() + (likes, True, "spam"), CONFIG)
    assert shown["removed"] is True and "removed_reason" not in shown
    admin = conforms(PostDetail, post_detail(feed_tuple() + (likes, True, "spam"), CONFIG, admin=True))
    assert admin.removed_reason == "spam"
    post = SimpleNamespace(id=7, title="t", content="c", image=None, author_id=3,
                           created_at=NOW, likes_count=0)
    conforms(PostCreated, post_created(post, CONFIG))


def test_comments():
    row = (9, 7, 3, "alice", None, "hello", NOW, NOW, None, False, False, False, None)
    assert len(row) == len(ITEM_COLUMNS)
    conforms(Comment, comment_row(row, CONFIG))
    conforms(Comment, comment_row(row[:8] + (8, True, False, False, None), CONFIG))
    placeholder = comment_row((9, 7, None, None, None, "", NOW, NOW, None, False, True, False, None),
                              CONFIG)
    assert placeholder["author"] is None and placeholder["is_deleted"] is True
    conforms(Comment, placeholder)
    # A removed comment: a placeholder to everyone but admins, who see it and its reason.
    removed = row[:10] + (False, True, "spam")
    hidden = conforms(Comment, comment_row(removed, CONFIG))
    assert (hidden.author, hidden.content, hidden.removed, hidden.removed_reason) == (None, "", True, None)
    assert "removed_reason" not in comment_row(removed, CONFIG)
    shown = conforms(Comment, comment_row(removed, CONFIG, admin=True))
    assert (shown.author.username, shown.content, shown.removed_reason) == ("alice", "hello", "spam")
    comment = SimpleNamespace(id=9, post_id=7, author_id=3, content="hi", created_at=NOW,
                              parent_id=None)
    conforms(CommentCreated, comment_created(comment))


@pytest.mark.parametrize("avatar", ["9c1e_avatar.png", None])
def test_profile_me_and_notification(avatar):
    user = SimpleNamespace(id=3, username="alice", first_name="", last_name="L", bio="",
                           avatar=avatar, email="alice@example.com", is_admin=False,
                           created_at=NOW)
    profile = dict(user_public(user, CONFIG), posts_count=0, comments_count=2)
    assert profile["avatar_url"] == (f"/media/{avatar}" if avatar else None)
    conforms(Profile, profile)
    conforms(Profile, dict(profile, email="alice@example.com"))
    counted = dict(me_fields(user, CONFIG), posts_count=0, comments_count=2)
    conforms(Me, me_view(dict(counted), Principal(id=3, username="alice", is_admin=False)))
    banned = Principal(id=3, username="alice", is_admin=False, ban=Ban("spam", ISO, None))
    assert me_view(dict(counted), banned)["ban"] == {"reason": "spam", "created_at": ISO,
                                                     "expires_at": None}
    conforms(Me, me_view(dict(counted), banned))
    note = SimpleNamespace(id=1, type="LIKE", message="bob liked your post",
                           data={"post_id": 7, "actor_id": 4}, read=False, created_at=NOW)
    conforms(Notification, notification_public(note))


def test_the_models_refuse_what_the_contract_does_not_allow():
    summary = feed_row(feed_tuple(), CONFIG)
    for broken in (dict(summary, extra=1), dict(summary, likes_count="2"),
                   dict(summary, created_at="2026-11-27T14:32:42"),  # no offset
                   {k: v for k, v in summary.items() if k != "comments_count"}):
        with pytest.raises(pydantic.ValidationError):
            conforms(PostSummary, broken)
