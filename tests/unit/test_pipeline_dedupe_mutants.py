"""The analytics pipeline's duplicate handling without Kafka or ClickHouse: Batch.add drops
a copy of an event already in the batch (but still counts its offset), and the sink stores
one `posts`/`post_deletions` row per post, asking ClickHouse which posts it already has
(analytics_pipeline/unique_posts.py). The fake client checks the exact query, parameters
and external table. Written to kill the mutants mutmut left alive (`make mutate`,
docs/robustness.md "Mutation testing"); tests/integration/test_analytics.py runs the same
code against ClickHouse."""
from datetime import date, timedelta

import pytest

from analytics_pipeline import consumer, metrics
from analytics_pipeline.consumer import Batch, ClickHouseSink
from analytics_pipeline.rows import COLUMNS
from analytics_pipeline.unique_posts import (STORED_DELETIONS, STORED_POSTS, batch_posts,
                                             unstored_deletions, unstored_posts)
from tests import synthetic_events as syn

DAY = date(2026, 11, 27)


class FakeMessage:
    def __init__(self, value, topic="t-post-events", partition=0, offset=0):
        self._value, self._topic, self._partition, self._offset = value, topic, partition, offset

    def value(self):
        return self._value

    def topic(self):
        return self._topic

    def partition(self):
        return self._partition

    def offset(self):
        return self._offset

    def key(self):
        return b"k"


def encoded(event):
    return syn.encode(event)[2]


class FakeClient:
    """Answers the stored-posts lookups from `stored`; records every call."""

    def __init__(self, stored_posts=(), stored_deletions=()):
        self.stored_posts, self.stored_deletions = set(stored_posts), set(stored_deletions)
        self.calls = []

    def execute(self, sql, params=None, external_tables=None, columnar=False):
        self.calls.append((sql, params, external_tables, columnar))
        if sql == STORED_POSTS:
            ids = {row["post_id"] for row in external_tables[0]["data"]}
            return [(post_id,) for post_id in sorted(ids & self.stored_posts)]
        if sql == STORED_DELETIONS:
            ids = {row["post_id"] for row in external_tables[0]["data"]}
            return [(post_id,) for post_id in sorted(ids & self.stored_deletions)]
        return []

    def inserts(self):
        return [(sql, params) for sql, params, _, _ in self.calls if sql.startswith("INSERT")]


def post_row(post_id, day=DAY, event_id=None):
    row = dict.fromkeys(COLUMNS["posts"])
    row.update(event_id=event_id or f"e{post_id}", day=day, post_id=post_id)
    return tuple(row[c] for c in COLUMNS["posts"])


def deletion_row(post_id, event_id=None):
    row = dict.fromkeys(COLUMNS["post_deletions"])
    row.update(event_id=event_id or f"d{post_id}", post_id=post_id)
    return tuple(row[c] for c in COLUMNS["post_deletions"])


# -- unique_posts ----------------------------------------------------------------------------

def test_batch_posts_is_one_uint64_column_named_for_the_query():
    assert batch_posts([3, 1]) == [{"name": "batch_posts", "structure": [("post_id", "UInt64")],
                                    "data": [{"post_id": 3}, {"post_id": 1}]}]
    assert "IN batch_posts" in STORED_POSTS and "IN batch_posts" in STORED_DELETIONS


def test_unstored_posts_asks_for_the_batch_days_and_keeps_one_new_row_per_post():
    later = DAY + timedelta(days=2)
    rows = [post_row(1, later), post_row(2), post_row(1, later, "copy"), post_row(3), post_row(2)]
    client = FakeClient(stored_posts={3})
    assert unstored_posts(client, rows) == [post_row(1, later), post_row(2)]
    ((sql, params, tables, _),) = client.calls
    assert sql == STORED_POSTS and params == {"days": (DAY, later)}  # sorted, each once
    assert tables == batch_posts([1, 2, 3])


def test_unstored_posts_of_nothing_asks_nothing():
    client = FakeClient()
    assert unstored_posts(client, []) == [] and client.calls == []
    assert unstored_deletions(client, []) == [] and client.calls == []


def test_every_post_already_stored_leaves_nothing_to_insert():
    assert unstored_posts(FakeClient(stored_posts={1, 2}), [post_row(1), post_row(2)]) == []


def test_unstored_deletions_keep_one_new_row_per_deleted_post():
    rows = [deletion_row(5), deletion_row(6), deletion_row(5, "copy"), deletion_row(7)]
    client = FakeClient(stored_deletions={7})
    assert unstored_deletions(client, rows) == [deletion_row(5), deletion_row(6)]
    ((sql, _params, tables, _),) = client.calls
    assert sql == STORED_DELETIONS and tables == batch_posts([5, 6, 7])


# -- Batch.add: in-batch duplicates ---------------------------------------------------------

@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(consumer.time, "monotonic", lambda: now[0])
    return now


def test_a_batch_counts_every_message_but_keeps_one_copy_of_each_event(clock):
    created = syn.post_created(1, 2, "alice", "t", syn.at(DAY))
    other = syn.post_created(4, 2, "alice", "u", syn.at(DAY))
    batch = Batch()
    assert batch.age() == 0.0
    batch.add(FakeMessage(encoded(created), offset=10))
    clock[0] = 103.0
    batch.add(FakeMessage(encoded(created), offset=11))  # the relay re-sent it
    batch.add(FakeMessage(encoded(other), partition=1, offset=3))
    batch.add(FakeMessage(encoded(syn.user_registered(9, "u9", syn.at(DAY))),
                          topic="t-user-events", offset=5))
    assert batch.started == 100.0 and batch.age() == 3.0  # from the first message on
    assert batch.size == 4
    assert batch.offsets == {("t-post-events", 0): [10, 11], ("t-post-events", 1): [3, 3],
                             ("t-user-events", 0): [5, 5]}
    assert batch.per_topic == {"t-post-events": 3, "t-user-events": 1}
    assert [row[3] for row in batch.rows["posts"]] == [1, 4]
    assert [row[1] for row in batch.rows["events"]] == ["post.created", "post.created",
                                                        "user.registered"]
    # Each events row says where it was read: the first copy's offset.
    assert [row[-3:] for row in batch.rows["events"]] == [("t-post-events", 0, 10),
                                                          ("t-post-events", 1, 3),
                                                          ("t-user-events", 0, 5)]
    assert {str(e) for e in batch.seen} == {created["event_id"], other["event_id"],
                                            str(batch.rows["events"][2][0])}
    assert len(batch.seen) == 3
    assert batch.dead_letters == []


def test_a_refused_message_is_a_dead_letter_and_no_event_id_is_remembered(clock):
    batch = Batch()
    message = FakeMessage(b"not json", offset=4)
    batch.add(message)
    assert batch.size == 1 and batch.offsets == {("t-post-events", 0): [4, 4]}
    ((letter, exc),) = batch.dead_letters
    assert letter is message and exc.kind
    assert batch.seen == set() and batch.rows == {}


# -- the sink: one row per post, like totals after posts, events last --------------------------

def test_the_sink_drops_stored_posts_and_writes_in_order(monkeypatch):
    totals = []
    client = FakeClient(stored_posts={1}, stored_deletions={6})
    monkeypatch.setattr(consumer, "like_total_rows",
                        lambda given, likes, deleted: totals.append((given is client, list(likes),
                                                                     deleted)) or [(5, 1, 1)])
    sink = ClickHouseSink(client)
    assert sink.client is client
    before = metrics.ROWS.labels("posts")._value.get()
    likes = [("l1",) + (None,) * (len(COLUMNS["likes"]) - 1)]
    batch = {"events": [("ev",) * len(COLUMNS["events"])], "likes": likes,
             "post_deletions": [deletion_row(5), deletion_row(6)],
             "posts": [post_row(1), post_row(2), post_row(2, event_id="copy")]}
    sink.write(batch)
    written = [sql.split()[2] for sql, _ in client.inserts()]
    # posts first, then the totals computed against them, the rest in the batch's order
    # (a stable sort), events last.
    assert written == ["posts", "post_like_totals", "likes", "post_deletions", "events"]
    inserted = {sql.split()[2]: params for sql, params in client.inserts()}
    assert inserted["posts"][COLUMNS["posts"].index("post_id")] == [2]
    assert inserted["post_deletions"][COLUMNS["post_deletions"].index("post_id")] == [5]
    assert inserted["post_like_totals"] == [[5], [1], [1]]
    assert totals == [(True, likes, [5, 6])]  # every deleted post of the batch, stored or not
    assert metrics.ROWS.labels("posts")._value.get() == before + 1
    assert "post_like_totals" not in batch  # the caller's dict is left as it was


def test_the_sink_writes_no_totals_without_likes_or_deletions_and_skips_empty_tables(monkeypatch):
    monkeypatch.setattr(consumer, "like_total_rows", lambda *args: pytest.fail("not needed"))
    client = FakeClient(stored_posts={1})
    ClickHouseSink(client).write({"posts": [post_row(1)], "likes": [], "events": [("e",) * 11]})
    assert [sql.split()[2] for sql, _ in client.inserts()] == ["events"]


LIKE = ("l1",) + (None,) * (len(COLUMNS["likes"]) - 1)


@pytest.mark.parametrize("batch,expected", [
    ({"likes": [LIKE]}, ([LIKE], [])),                         # likes alone
    ({"post_deletions": [deletion_row(5)]}, ([], [5])),      # a deletion alone
])
def test_like_totals_follow_likes_or_deletions_alone(monkeypatch, batch, expected):
    """Either one changes a post's total: a like moves it, a deletion takes it to nothing."""
    totals = []
    monkeypatch.setattr(consumer, "like_total_rows",
                        lambda client, likes, deleted: totals.append((list(likes), list(deleted)))
                        or [(5, 0, 1)])
    client = FakeClient()
    ClickHouseSink(client).write(batch)
    assert totals == [expected]
    assert "post_like_totals" in [sql.split()[2] for sql, _ in client.inserts()]


def test_dead_letters_are_stored_as_received_with_the_time_they_failed(monkeypatch):
    monkeypatch.setattr(consumer.time, "time", lambda: 1_800_000_000.7)
    client = FakeClient()

    class Refused:
        kind, reason, event_type = "not_json", "Expecting value", None
    empty = FakeMessage(None, topic="t-user-events", partition=2, offset=9)
    empty.key = lambda: None
    ClickHouseSink(client).write_dead_letters([(empty, Refused())])
    ((sql, params, _, _),) = client.calls
    assert sql.startswith("INSERT INTO dead_letters")
    assert params == [[1_800_000_000], ["t-user-events"], [2], [9], [b""], [b""], ["not_json"],
                      ["Expecting value"], [""]]


def test_an_insert_names_every_column_and_sends_them_columnar():
    client = FakeClient()
    ClickHouseSink(client)._insert("users", [("e1", "t1", DAY, 1, "a"), ("e2", "t2", DAY, 2, "b")])
    ((sql, params, _, columnar),) = client.calls
    assert sql == "INSERT INTO users (`event_id`, `occurred_at`, `day`, `user_id`, `username`) VALUES"
    assert params == [["e1", "e2"], ["t1", "t2"], [DAY, DAY], [1, 2], ["a", "b"]] and columnar is True
