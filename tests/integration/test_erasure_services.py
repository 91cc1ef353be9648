"""The posts and comments services' part of an account's erasure and of author avatars, in
real nameko containers consuming real Kafka (tansu) and writing real PostgreSQL: user.deleted
and user.updated are produced straight onto user-events, as the users service's relay would."""
import json
import random

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.errors import AccountErased
from imageboard.erasure import USER_ID_FIELDS
from imageboard.events.envelope import make_event
from services.comments.service import CommentsService
from services.posts.exceptions import PostNotFound
from services.posts.service import PostsService
from tests.integration.kafka_support import (events_migrated, kafka_config,  # noqa: F401 (fixtures)
                                             produce_events, wait_until)
from tests.integration.test_posts_comments_services import sql

pytestmark = pytest.mark.integration


@pytest.fixture
def rpc(kafka_config, container_factory, events_migrated):
    config = dict(kafka_config, max_workers=6)
    for cls in (PostsService, CommentsService):
        events_migrated(cls.name)
        container_factory(cls, config).start()
    with ClusterRpcProxy(kafka_config, timeout=15) as proxy:
        yield proxy


def person():
    n = random.randrange(10**9, 2 * 10**9)
    return {"id": n, "username": f"u{n}"}


def user_deleted(user):
    return make_event("user.deleted", user["id"], user["id"], {"user_id": user["id"]})


def user_updated(user, avatar):
    return make_event("user.updated", user["id"], user["id"], {
        "user_id": user["id"], "username": user["username"], "fields": ["avatar"], "avatar": avatar})


def naming(config, service, user_id):
    """Outbox rows of `service` naming user_id (actor or payload), published or not."""
    rows = sql(config, service, "SELECT body, published_at IS NOT NULL FROM outbox")
    out = []
    for body, published in rows:
        event = json.loads(body)
        if event["actor_id"] == user_id or any(event["payload"].get(f) == user_id
                                               for f in USER_ID_FIELDS):
            out.append((event["type"], published))
    return out


def test_user_deleted_erases_posts_likes_and_comments_with_placeholders(rpc, kafka_config):
    gone, other = person(), person()
    theirs = rpc.posts.create_post({"title": "mine", "content": "c"}, gone)
    post = rpc.posts.create_post({"title": "other's", "content": "c"}, other)
    on_theirs = rpc.comments.create_comment({"post_id": theirs["id"], "content": "hi"}, other)
    answered = rpc.comments.create_comment({"post_id": post["id"], "content": "q"}, gone)
    reply = rpc.comments.create_comment({"post_id": post["id"], "content": "a",
                                         "parent": answered["id"]}, other)
    alone = rpc.comments.create_comment({"post_id": post["id"], "content": "x"}, gone)
    own_reply = rpc.comments.create_comment({"post_id": post["id"], "content": "y",
                                             "parent": alone["id"]}, gone)
    assert rpc.posts.toggle_like(post["id"], gone)["liked"]
    assert rpc.posts.toggle_like(post["id"], other)["liked"]
    assert rpc.posts.toggle_like(theirs["id"], other)["liked"]
    assert rpc.posts.get_post(post["id"])["comments_count"] == 4

    produce_events(kafka_config, [user_deleted(gone)])

    def erased():
        try:
            rpc.posts.get_post(theirs["id"])
            return False
        except PostNotFound:
            pass
        detail = rpc.posts.get_post(post["id"])
        thread = rpc.comments.list_comments(post["id"], 1, 20)["results"]
        return (detail["likes_count"] == 1 and detail["comments_count"] == 1
                and [c["id"] for c in thread] == [answered["id"], reply["id"]]
                and rpc.comments.list_comments(theirs["id"], 1, 20)["count"] == 0
                and not naming(kafka_config, "posts", gone["id"])
                and not naming(kafka_config, "comments", gone["id"]) and thread)
    thread = wait_until(erased, 30, what="the erasure of posts, likes and comments")
    placeholder = thread[0]
    assert placeholder["author"] is None and placeholder["content"] == ""
    assert placeholder["is_deleted"] is True
    assert thread[1]["author"]["id"] == other["id"] and thread[1]["is_deleted"] is False
    assert rpc.posts.get_post(post["id"])["likes"] == [{"user_id": other["id"],
                                                        "username": other["username"]}]
    assert {own_reply["id"], alone["id"], on_theirs["id"]}.isdisjoint(
        row[0] for row in sql(kafka_config, "comments", "SELECT id FROM comments"))
    # No post.unliked for the withdrawn like (decision 24); one post.deleted, comment.deleted
    # rows were sent and then removed, as the rows naming the user.
    assert sql(kafka_config, "posts", "SELECT count(*) FROM outbox WHERE event_type = "
               "'post.unliked'") == [(0,)]
    assert rpc.comments.count_by_author(gone["id"]) == 0

    # A token of theirs not revoked yet writes nothing of theirs.
    for write in (lambda: rpc.posts.create_post({"title": "t", "content": "c"}, gone),
                  lambda: rpc.posts.toggle_like(post["id"], gone),
                  lambda: rpc.comments.create_comment({"post_id": post["id"], "content": "c"}, gone)):
        with pytest.raises(AccountErased):
            write()
    assert rpc.posts.get_post(post["id"])["likes_count"] == 1

    # A second user.deleted (a replay) changes nothing.
    produce_events(kafka_config, [user_deleted(gone), user_updated(gone, "late_avatar.png")])
    wait_until(lambda: sql(kafka_config, "posts", "SELECT erased FROM author_avatars "
                           "WHERE user_id = %s", (gone["id"],)) == [(True,)], 10,
               what="the posts service's tombstone")
    detail = rpc.posts.get_post(post["id"])
    assert (detail["likes_count"], detail["comments_count"]) == (1, 1)
    assert sql(kafka_config, "posts", "SELECT avatar FROM author_avatars WHERE user_id = %s",
               (gone["id"],)) == [(None,)]


def test_user_updated_puts_the_avatar_into_authors_within_10_s(rpc, kafka_config):
    author = person()
    post = rpc.posts.create_post({"title": "t", "content": "c"}, author)
    comment = rpc.comments.create_comment({"post_id": post["id"], "content": "c"}, author)
    assert rpc.posts.get_post(post["id"])["author"]["avatar_url"] is None

    produce_events(kafka_config, [user_updated(author, "9c1e_avatar.png")])

    def shown():
        feed_author = rpc.posts.get_post(post["id"])["author"]
        [listed] = rpc.comments.list_comments(post["id"], 1, 20)["results"]
        return (feed_author["avatar_url"] == "/media/9c1e_avatar.png"
                and listed["author"]["avatar_url"] == "/media/9c1e_avatar.png")
    wait_until(shown, 10, what="the avatar in the author objects")
    assert comment["author"] == author["id"]
    newer = rpc.posts.create_post({"title": "t2", "content": "c"}, author)
    assert rpc.posts.get_post(newer["id"])["author"]["avatar_url"] == "/media/9c1e_avatar.png"

    produce_events(kafka_config, [user_updated(author, None)])
    wait_until(lambda: rpc.posts.get_post(post["id"])["author"]["avatar_url"] is None, 10,
               what="the removed avatar")


def test_comment_counts_apply_only_newer_versions(rpc, kafka_config):
    post = rpc.posts.create_post({"title": "t", "content": "c"}, person())
    assert rpc.posts.sync_comments_count(post["id"], 5, 10**12) == 5
    assert rpc.posts.sync_comments_count(post["id"], 3, 10**12 - 1) == 5  # late: ignored
    assert rpc.posts.sync_comments_count(post["id"], 2, 10**12 + 1) == 2  # deletions lower it
    assert rpc.posts.get_post(post["id"])["comments_count"] == 2
