"""The pipeline's erasure (analytics-pipeline/analytics_pipeline/erasure.py) on a real
ClickHouse (18.16 here): after a batch with user.deleted, no row of any table names the user
once the mutations ran, the likes they gave leave post stats, and the same events written
again (a replay) store nothing of them."""
import json
import time

import pytest

from analytics_pipeline.consumer import Batch, ClickHouseSink
from analytics_store.client import make_client
from imageboard.events.envelope import make_event
from tests.integration.conftest import ch_config  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration

GONE, OTHER = 501, 502
MINE, THEIRS = 9001, 9002


class Message:
    def __init__(self, event, offset):
        self._value, self._offset = json.dumps(event).encode(), offset

    def value(self):
        return self._value

    def topic(self):
        return "t-events"

    def partition(self):
        return 0

    def offset(self):
        return self._offset

    def key(self):
        return b"1"


def history():
    def post(post_id, author, name):
        return make_event("post.created", post_id, author, {
            "post_id": post_id, "author_id": author, "author_username": name,
            "title": f"title of {name}", "has_image": False})

    def like(post_id, owner, liker, name, count):
        return make_event("post.liked", post_id, liker, {
            "post_id": post_id, "post_author_id": owner, "post_title": "t", "user_id": liker,
            "username": name, "likes_count": count})
    return [
        make_event("user.registered", GONE, GONE, {"user_id": GONE, "username": "gone_name"}),
        make_event("user.registered", OTHER, OTHER, {"user_id": OTHER, "username": "other"}),
        post(MINE, GONE, "gone_name"), post(THEIRS, OTHER, "other"),
        like(THEIRS, OTHER, GONE, "gone_name", 1), like(MINE, GONE, OTHER, "other", 1),
        like(THEIRS, OTHER, OTHER, "other", 2),
        make_event("comment.created", THEIRS, GONE, {
            "comment_id": 1, "post_id": THEIRS, "post_author_id": OTHER, "post_title": "t",
            "parent_id": None, "parent_author_id": None, "author_id": GONE,
            "author_username": "gone_name"}),
    ]


def write(sink, events, first_offset=0):
    batch = Batch()
    for i, event in enumerate(events):
        batch.add(Message(event, first_offset + i))
    sink.write_batch(batch)


def leftovers(client):
    """Rows naming GONE (any user-id column, or the name in any String column)."""
    found = []
    for table, column, kind in client.execute(
            "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() "
            "AND table IN (SELECT name FROM system.tables WHERE database = currentDatabase() "
            "AND engine NOT IN ('View', 'MaterializedView')) AND table != 'erased_users'"):
        if "String" in kind:
            condition = f"position(toString(`{column}`), 'gone_name') > 0"
        elif column in ("user_id", "author_id", "post_author_id", "actor_id", "deleted_by"):
            condition = f"`{column}` = {GONE}"
        else:
            continue
        if client.execute(f"SELECT count() FROM {table} WHERE {condition}")[0][0]:
            found.append(f"{table}.{column}")
    return found


def standing_likes(client, post_id):
    return client.execute("SELECT sum(likes) FROM post_like_totals WHERE post_id = %(p)s",
                          {"p": post_id})[0][0]


def wait_for_no_leftovers(client, timeout=30):
    deadline = time.monotonic() + timeout
    while leftovers(client):
        assert time.monotonic() < deadline, leftovers(client)
        time.sleep(0.3)


def test_user_deleted_erases_every_row_and_a_replay_stores_nothing_of_them(ch_config):
    client = make_client(ch_config)
    sink = ClickHouseSink(client)
    events = history()
    write(sink, events)
    assert standing_likes(client, THEIRS) == 2
    assert "users.username" in leftovers(client)

    # The posts service withdrew the like and deleted the post without post.unliked, and its
    # post.deleted arrives in the same batch as user.deleted.
    deleted = make_event("user.deleted", GONE, GONE, {"user_id": GONE})
    write(sink, [deleted,
                 make_event("post.deleted", MINE, GONE, {"post_id": MINE, "author_id": GONE,
                                                         "title": "title of gone_name",
                                                         "deleted_by": GONE})], 100)
    wait_for_no_leftovers(client)
    assert standing_likes(client, THEIRS) == 1
    assert client.execute("SELECT count() FROM post_like_totals WHERE post_id = %(p)s",
                          {"p": MINE})[0][0] == 0
    other_rows = client.execute("SELECT count() FROM users WHERE user_id = %(u)s", {"u": OTHER})
    assert other_rows == [(1,)]

    # A replay of everything, and a second user.deleted: nothing comes back, no like twice.
    write(sink, events, 200)
    write(sink, [deleted], 300)
    assert leftovers(client) == []
    assert standing_likes(client, THEIRS) == 1
