"""The posts and comments services in real nameko containers, over real RabbitMQ and
PostgreSQL: counters, orderings, cascades, events in the outbox, images."""
import json
import os
from datetime import datetime
from functools import partial

import eventlet
import psycopg2
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from imageboard.config import database_url
from imageboard.db import connect_kwargs
from contracts.errors import BadRequest, ServiceUnavailable, ValidationFailed
from services.comments.exceptions import InvalidParent
from services.comments.service import CommentsService
from services.posts import images
from services.posts.exceptions import InvalidImage, InvalidOrdering, NotPostAuthor, PostNotFound
from services.posts.service import PostsService
from tests.imagefiles import gif_bytes, jpeg_bytes

pytestmark = pytest.mark.integration


def sql(config, service, statement, params=()):
    name, kwargs = connect_kwargs(database_url(config, service))
    conn = psycopg2.connect(dbname=name, **kwargs)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


@pytest.fixture
def start(service_config, container_factory, migrated):
    # Fewer workers than the default 10: each worker may hold a PostgreSQL connection, and
    # the server's 100 slots are shared by every suite and stack on the machine.
    config = dict(service_config, max_workers=6)

    def run(*service_classes):
        for cls in service_classes:
            migrated(cls.name)
            container_factory(cls, config).start()
    return run


@pytest.fixture
def rpc(service_config, start):
    start(PostsService, CommentsService)
    with ClusterRpcProxy(service_config, timeout=15) as proxy:
        yield proxy


@pytest.fixture
def users(unique):
    counter = iter(range(1, 10**6))
    base = int(unique[:7], 16) * 1000

    def make(admin=False):
        n = base + next(counter)
        return {"id": n, "username": f"u{n}", "is_admin": admin}
    return make


def new_post(rpc, author, **fields):
    return rpc.posts.create_post(dict({"title": "title", "content": "content"}, **fields), author)


def events(config, service, key):
    rows = sql(config, service, "SELECT body FROM outbox WHERE event_key = %s ORDER BY id", (str(key),))
    return [json.loads(body) for (body,) in rows]


def test_create_detail_and_post_created_event(rpc, config, users):
    alice = users()
    created = new_post(rpc, alice, title="  Hello ", content="World")
    assert set(created) == {"id", "title", "content", "image_url", "author", "created_at", "likes_count"}
    assert created["title"] == "Hello" and created["author"] == alice["id"] and created["likes_count"] == 0
    assert created["image_url"] is None and created["created_at"].endswith("+00:00")
    detail = rpc.posts.get_post(created["id"])
    assert detail["author"] == {"id": alice["id"], "username": alice["username"], "avatar_url": None}
    assert detail["likes"] == [] and detail["comments_count"] == 0
    assert detail["created_at"] == detail["updated_at"] == created["created_at"]
    [event] = events(config, "posts", created["id"])
    assert event["type"] == "post.created" and event["actor_id"] == alice["id"]
    assert event["payload"] == {"post_id": created["id"], "author_id": alice["id"],
                                "author_username": alice["username"], "title": "Hello", "has_image": False}
    assert rpc.posts.count_by_author(alice["id"]) == 1


def test_validation_errors_cross_rpc(rpc, users):
    with pytest.raises(BadRequest):
        rpc.posts.create_post({"title": "t"}, users())
    with pytest.raises(ValidationFailed) as err:
        rpc.posts.create_post({"title": "x" * 256, "content": "x" * 5001}, users())
    assert set(err.value.fields) == {"title", "content"}
    assert new_post(rpc, users(), title="x" * 255, content="y" * 5000)["id"] > 0
    with pytest.raises(PostNotFound):
        rpc.posts.get_post(10**15)


def test_like_toggle_counts_and_events(rpc, config, users):
    author, fan = users(), users()
    post = new_post(rpc, author)
    liked = rpc.posts.toggle_like(post["id"], fan)
    assert liked == {"post_id": post["id"], "liked": True, "likes_count": 1, "message": "Post liked"}
    assert rpc.posts.get_post(post["id"])["likes"] == [{"user_id": fan["id"], "username": fan["username"]}]
    unliked = rpc.posts.toggle_like(post["id"], fan)
    assert unliked["liked"] is False and unliked["likes_count"] == 0
    assert rpc.posts.get_post(post["id"])["likes_count"] == 0
    types = [(e["type"], e["payload"]["likes_count"]) for e in events(config, "posts", post["id"])[1:]]
    assert types == [("post.liked", 1), ("post.unliked", 0)]
    payload = events(config, "posts", post["id"])[1]["payload"]
    assert payload == {"post_id": post["id"], "post_author_id": author["id"], "post_title": "title",
                       "user_id": fan["id"], "username": fan["username"], "likes_count": 1}
    with pytest.raises(PostNotFound):
        rpc.posts.toggle_like(10**15, fan)


def test_concurrent_likes_keep_the_counter_exact(rpc, config, service_config, users):
    post = new_post(rpc, users())
    fans = [users() for _ in range(8)]

    def like(fan):
        with ClusterRpcProxy(service_config, timeout=15) as proxy:
            return proxy.posts.toggle_like(post["id"], fan)

    list(eventlet.GreenPool(8).imap(like, fans + fans[:3]))  # 3 of them toggle twice
    detail = rpc.posts.get_post(post["id"])
    assert detail["likes_count"] == len(detail["likes"]) == 5
    # Analytics (post_likes, docs/analytics.md) takes the likes_count of a post's latest
    # toggle by occurred_at: the times must follow the commit order, even for racing toggles.
    toggles = sorted((e for e in events(config, "posts", post["id"]) if e["type"] != "post.created"),
                     key=lambda e: datetime.fromisoformat(e["occurred_at"]))
    counts = [0] + [e["payload"]["likes_count"] for e in toggles]
    assert len({e["occurred_at"] for e in toggles}) == len(toggles) == 11
    assert [b - a for a, b in zip(counts, counts[1:])] == [
        1 if e["type"] == "post.liked" else -1 for e in toggles]
    assert counts[-1] == 5


def test_one_users_racing_toggles_of_a_post_alternate(rpc, service_config, users):
    """Ten simultaneous toggles by the same user: each decides on what the one before it
    committed (the toggle runs after the row lock, on a fresh snapshot), so they alternate
    like, unlike, ... and end where they began."""
    post, fan = new_post(rpc, users()), users()

    def toggle(_):
        with ClusterRpcProxy(service_config, timeout=15) as proxy:
            return proxy.posts.toggle_like(post["id"], fan)

    results = list(eventlet.GreenPool(10).imap(toggle, range(10)))
    assert sorted(r["liked"] for r in results) == [False] * 5 + [True] * 5
    assert sorted(r["likes_count"] for r in results) == [0] * 5 + [1] * 5
    detail = rpc.posts.get_post(post["id"])
    assert detail["likes_count"] == 0 and detail["likes"] == []


def test_feed_orderings_ties_newest_first_and_pages(rpc, config, users):
    sql(config, "posts", "TRUNCATE posts, likes")
    a, b, c, d = (new_post(rpc, users(), title=t) for t in "abcd")
    fans = [users() for _ in range(3)]
    for fan in fans[:2]:
        rpc.posts.toggle_like(b["id"], fan)
    rpc.posts.toggle_like(c["id"], fans[2])

    def ids(ordering, page=1, limit=20):
        return [p["id"] for p in rpc.posts.list_posts(page, limit, ordering)["results"]]

    assert ids(None) == ids("-created_at") == [d["id"], c["id"], b["id"], a["id"]]
    assert ids("created_at") == [a["id"], b["id"], c["id"], d["id"]]
    assert ids("-likes_count") == [b["id"], c["id"], d["id"], a["id"]]  # 2, 1, then 0s newest first
    assert ids("likes_count") == [d["id"], a["id"], c["id"], b["id"]]
    page = rpc.posts.list_posts(2, 3, "-created_at")
    assert page["count"] == 4 and [p["id"] for p in page["results"]] == [a["id"]]
    assert rpc.posts.list_posts(3, 3, None) == {"count": 4, "results": []}
    row = rpc.posts.list_posts(1, 1, "-likes_count")["results"][0]
    assert set(row) == {"id", "title", "content", "image_url", "author", "created_at", "updated_at",
                        "edited", "likes_count", "comments_count"}
    with pytest.raises(InvalidOrdering):
        rpc.posts.list_posts(1, 20, "title")
    with pytest.raises(BadRequest):
        rpc.posts.list_posts(1, 101, None)


def test_comments_thread_counts_and_event(rpc, config, users):
    author, bob, carol = users(), users(), users()
    post = new_post(rpc, author, title="Thread")
    first = rpc.comments.create_comment({"post_id": post["id"], "content": " first "}, bob)
    assert first == {"id": first["id"], "post_id": post["id"], "author": bob["id"], "content": "first",
                     "created_at": first["created_at"], "parent": None}
    reply = rpc.comments.create_comment({"post_id": post["id"], "content": "x" * 1000,
                                         "parent": first["id"]}, carol)
    assert reply["parent"] == first["id"]
    # Exact as soon as the write answered.
    assert rpc.posts.get_post(post["id"])["comments_count"] == 2
    listing = rpc.comments.list_comments(post["id"], 1, 20)
    assert listing["count"] == 2 and [c["id"] for c in listing["results"]] == [first["id"], reply["id"]]
    assert listing["results"][1]["author"] == {"id": carol["id"], "username": carol["username"],
                                           "avatar_url": None}
    assert rpc.comments.list_comments(post["id"], 2, 1)["results"][0]["id"] == reply["id"]
    assert rpc.comments.list_comments(post["id"], 3, 1)["results"] == []
    [event] = [e for e in events(config, "comments", post["id"]) if e["payload"]["comment_id"] == reply["id"]]
    assert event["type"] == "comment.created" and event["actor_id"] == carol["id"]
    assert event["payload"] == {"comment_id": reply["id"], "post_id": post["id"],
                                "post_author_id": author["id"], "post_title": "Thread",
                                "parent_id": first["id"], "parent_author_id": bob["id"],
                                "author_id": carol["id"], "author_username": carol["username"]}
    assert rpc.comments.count_by_author(carol["id"]) == 1


def test_comment_errors(rpc, users):
    post, other = new_post(rpc, users()), new_post(rpc, users())
    elsewhere = rpc.comments.create_comment({"post_id": other["id"], "content": "x"}, users())
    with pytest.raises(PostNotFound):
        rpc.comments.create_comment({"post_id": 10**15, "content": "x"}, users())
    with pytest.raises(InvalidParent):
        rpc.comments.create_comment({"post_id": post["id"], "content": "x", "parent": elsewhere["id"]}, users())
    with pytest.raises(InvalidParent):
        rpc.comments.create_comment({"post_id": post["id"], "content": "x", "parent": 10**15}, users())
    with pytest.raises(ValidationFailed):
        rpc.comments.create_comment({"post_id": post["id"], "content": "x" * 1001}, users())
    assert rpc.posts.get_post(post["id"])["comments_count"] == 0


def test_concurrent_comments_keep_comments_count_exact(rpc, service_config, users):
    post = new_post(rpc, users())

    def comment(i):
        with ClusterRpcProxy(service_config, timeout=15) as proxy:
            return proxy.comments.create_comment({"post_id": post["id"], "content": f"c{i}"}, users())

    list(eventlet.GreenPool(6).imap(comment, range(8)))
    assert rpc.posts.get_post(post["id"])["comments_count"] == 8


def test_delete_by_author_or_admin_takes_likes_and_comments(rpc, config, users):
    author, other, admin = users(), users(), users(admin=True)
    post = new_post(rpc, author)
    rpc.posts.toggle_like(post["id"], other)
    rpc.comments.create_comment({"post_id": post["id"], "content": "x"}, other)
    with pytest.raises(NotPostAuthor):
        rpc.posts.delete_post(post["id"], other)
    assert rpc.posts.delete_post(post["id"], author) == {"post_id": post["id"]}
    with pytest.raises(PostNotFound):
        rpc.posts.get_post(post["id"])
    with pytest.raises(PostNotFound):
        rpc.posts.delete_post(post["id"], author)
    assert sql(config, "posts", "SELECT count(*) FROM likes WHERE post_id = %s", (post["id"],)) == [(0,)]
    assert rpc.comments.list_comments(post["id"], 1, 20) == {"count": 0, "results": []}
    deleted = events(config, "posts", post["id"])[-1]
    assert deleted["type"] == "post.deleted" and deleted["payload"] == {
        "post_id": post["id"], "author_id": author["id"], "title": "title", "deleted_by": author["id"]}
    by_admin = new_post(rpc, author)
    rpc.posts.delete_post(by_admin["id"], admin)
    assert events(config, "posts", by_admin["id"])[-1]["payload"]["deleted_by"] == admin["id"]


def test_feed_count_follows_inserts_and_deletes(rpc, users):
    before = rpc.posts.list_posts(1, 1, None)["count"]
    post = new_post(rpc, users())
    assert rpc.posts.list_posts(1, 1, None)["count"] == before + 1
    # An admin's id is a real user id: the post.deleted event's deleted_by must be one.
    rpc.posts.delete_post(post["id"], {"id": 1, "is_admin": True})
    assert rpc.posts.list_posts(1, 1, None)["count"] == before


def put_upload(config, data):
    folder = images.upload_dir(config)
    os.makedirs(folder, exist_ok=True)
    name = images.new_upload_name()
    with open(os.path.join(folder, name), "wb") as fh:
        fh.write(data)
    return name, os.path.join(folder, name)


def test_image_upload_is_processed_and_stored(rpc, config, users):
    name, path = put_upload(config, jpeg_bytes((500, 400), gps=True))
    post = new_post(rpc, users(), image_upload=name)
    assert not os.path.exists(path)
    stored = post["image_url"].rsplit("/", 1)[1]
    assert post["image_url"] == config["MEDIA_URL"].rstrip("/") + "/" + stored
    with open(os.path.join(images.media_root(config), stored), "rb") as fh:
        assert b"SpyCam" not in fh.read()
    assert os.path.exists(os.path.join(images.media_root(config), images.thumbnail_name(stored)))
    [event] = events(config, "posts", post["id"])
    assert event["payload"]["has_image"] is True


def test_a_gif_is_refused_and_its_upload_removed(rpc, config, users):
    name, path = put_upload(config, gif_bytes())
    with pytest.raises(InvalidImage):
        new_post(rpc, users(), image_upload=name)
    assert not os.path.exists(path)


def test_comments_without_the_posts_service_is_503_and_writes_nothing(service_config, start, config, users):
    start(CommentsService)
    author = users()
    with ClusterRpcProxy(service_config, timeout=15) as proxy:
        with pytest.raises(ServiceUnavailable):  # a post the comments service does not know yet
            proxy.comments.create_comment({"post_id": 987654321, "content": "x"}, author)
    assert sql(config, "comments", "SELECT count(*) FROM comments WHERE author_id = %s", (author["id"],)) == [(0,)]


class FakeReply:
    def __init__(self, outcome):
        self.outcome = outcome

    def result(self):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class FakePosts:
    """The posts service as the comments store sees it, scripted per method."""

    def __init__(self, **outcomes):
        for method, outcome in outcomes.items():
            setattr(self, method, type("M", (), {"call_async": lambda _s, *a, o=outcome: FakeReply(o)})())


def comments_store(config):
    from services.comments.dependencies import CommentsStore
    from services.comments.models import database
    return CommentsStore(database.obj, config)


def test_comment_on_a_post_deleted_meanwhile_is_rolled_back(rpc, config, users):
    """Post deleted between the existence check and the counter sync: the comment and its
    unpublished event are removed again and the caller gets 404 (no orphan)."""
    author = users()
    posts = FakePosts(comment_target={"post_id": 10**14, "author_id": 1, "title": "t"},
                      sync_comments_count=PostNotFound())
    with pytest.raises(PostNotFound):
        comments_store(config).create({"post_id": 10**14, "content": "x"}, author, posts)
    assert sql(config, "comments", "SELECT count(*) FROM comments WHERE author_id = %s", (author["id"],)) == [(0,)]
    assert sql(config, "comments", "SELECT count(*) FROM outbox WHERE event_key = %s", (str(10**14),)) == [(0,)]


def test_comment_stands_when_the_counter_sync_is_late(rpc, config, users):
    author = users()
    post = new_post(rpc, users())
    posts = FakePosts(comment_target={"post_id": post["id"], "author_id": 1, "title": "t"},
                      sync_comments_count=ServiceUnavailable("slow"))
    created = comments_store(config).create({"post_id": post["id"], "content": "x"}, author, posts)
    assert created["id"] > 0
    # The next comment's sync carries the fresh count, so the counter catches up.
    rpc.comments.create_comment({"post_id": post["id"], "content": "y"}, users())
    assert rpc.posts.get_post(post["id"])["comments_count"] == 2


class CountingPosts:
    """The real posts service behind the comments store, counting the calls it gets."""

    def __init__(self, rpc):
        self.rpc = rpc
        self.calls = []
        for method in ("comment_target", "sync_comments_count"):
            setattr(self, method, type("M", (), {"call_async": partial(self._call, method)})())

    def _call(self, method, *args):
        self.calls.append(method)
        try:
            return FakeReply(getattr(self.rpc.posts, method)(*args))
        except Exception as exc:  # the remote error, raised by result() as nameko would
            return FakeReply(exc)


def test_a_posts_author_and_title_are_asked_for_once_per_post(rpc, config, users):
    author = users()
    post = new_post(rpc, author)
    posts = CountingPosts(rpc)
    store = comments_store(config)
    for text in ("first", "second", "third"):
        store.create({"post_id": post["id"], "content": text}, users(), posts)
    assert posts.calls == ["comment_target"] + ["sync_comments_count"] * 3
    assert rpc.posts.get_post(post["id"])["comments_count"] == 3
    target = events(config, "comments", post["id"])[-1]["payload"]
    assert (target["post_author_id"], target["post_title"]) == (author["id"], "title")


def test_a_comment_on_a_post_deleted_after_it_was_remembered_is_404_and_leaves_nothing(rpc, config, users):
    author = users()
    post = new_post(rpc, author)
    store = comments_store(config)
    store.create({"post_id": post["id"], "content": "remembered"}, users(), CountingPosts(rpc))
    # Deleted behind the comments service's back (as if another instance had been told).
    sql(config, "posts", "DELETE FROM posts WHERE id = %s", (post["id"],))
    late = users()
    with pytest.raises(PostNotFound):
        store.create({"post_id": post["id"], "content": "too late"}, late, CountingPosts(rpc))
    assert sql(config, "comments", "SELECT count(*) FROM comments WHERE author_id = %s", (late["id"],)) == [(0,)]
    posts = CountingPosts(rpc)
    with pytest.raises(PostNotFound):  # forgotten: asked again, refused before any write
        store.create({"post_id": post["id"], "content": "again"}, late, posts)
    assert posts.calls == ["comment_target"]


def test_feed_times_formatted_by_postgresql_are_what_iso_gives(config):
    """services.posts.schemas.iso_sql against imageboard.timefmt.iso, on the real server:
    whole seconds (no fraction), microseconds, other zones, both sides of midnight."""
    from imageboard.timefmt import iso
    from services.posts.schemas import iso_sql
    values = ["2026-11-30 16:20:01+00", "2026-11-30 16:20:01.000123+02", "2026-01-02 03:04:05.5+00",
              "2026-12-31 23:59:59.999999-05", "2027-01-01 00:00:00.000001+00"]
    rows = sql(config, "posts", f"SELECT t, {iso_sql('t')} FROM unnest(%s::timestamptz[]) AS v(t)", (values,))
    assert len(rows) == len(values)
    for parsed, formatted in rows:
        assert formatted == iso(parsed)
