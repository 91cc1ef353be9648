"""streaming/hub.py and ids.py: the reorder window, replay buffers, resume and reset,
slow clients, once per connection. Pure: a fake clock, no loop needed beyond Event."""
import asyncio

import pytest

from streaming import ids
from streaming.app import parse_streams
from contracts import errors
from streaming.hub import Connection, Hub, Item, absolute


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def hub(clock):
    hub = Hub(replay_seconds=300, reorder_seconds=0.25, clock=clock)
    for tp in ("p0", "p1", "c0"):
        hub.start_at(tp, 0)
    return hub


@pytest.fixture(autouse=True)
def loop():
    # Connection holds an asyncio.Event; give it a loop to belong to.
    new = asyncio.new_event_loop()
    asyncio.set_event_loop(new)
    yield new
    new.close()


def item(tp, offset, at, streams=("public",), name="post_created", post_id=None, received=None):
    return Item(tp, offset, at, streams, name, {"id": offset}, post_id, received)


def names(connection):
    return [(i.tp, i.offset) for i in connection.queue]


def test_ids_round_trip_and_refuse_foreign_text():
    positions = {"p0": 12, "c2": -1, "n1": 0}
    assert ids.decode(ids.encode(positions)) == positions
    for bad in ("", "garbage", "p0-x", "p0-1.", "P0-1", "x" * 600, "p0--2"):
        assert ids.decode(bad) is None


def test_the_window_orders_by_commit_time_across_partitions_and_keeps_each_partitions_order(hub, clock):
    conn = Connection(["public"])
    hub.register(conn)
    t = clock.now
    hub.push(item("c0", 0, at=5.0, received=t))       # a comment committed at 5
    hub.push(item("p0", 0, at=4.0, received=t + 0.1))  # a like committed earlier, arriving later
    hub.flush(t + 0.2)
    assert names(conn) == []                            # still within the window
    hub.flush(t + 0.4)
    assert names(conn) == [("p0", 0), ("c0", 0)]
    # Within one partition Kafka's order holds even if occurred_at says otherwise.
    hub.push(item("p1", 0, at=9.0, received=t + 1))
    hub.push(item("p1", 1, at=8.0, received=t + 1))
    hub.flush(t + 2)
    assert names(conn)[2:] == [("p1", 0), ("p1", 1)]


def test_an_item_waits_for_an_earlier_one_still_in_its_window(hub, clock):
    conn = Connection(["public"])
    hub.register(conn)
    t = clock.now
    hub.push(item("p0", 0, at=10.0, received=t))
    hub.push(item("p1", 0, at=9.0, received=t + 0.2))
    hub.flush(t + 0.3)  # p0's window passed, but p1's earlier commit is not ripe yet
    assert names(conn) == []
    hub.flush(t + 0.5)
    assert names(conn) == [("p1", 0), ("p0", 0)]


def send(hub, clock, *items):
    for one in items:
        one.received = clock.now
        hub.push(one)
    clock.now += 1
    hub.flush()


def test_resume_gives_every_later_event_once_and_nothing_before(hub, clock):
    first = Connection(["public", "post:7"])
    hub.register(first)
    send(hub, clock, item("p0", 0, 1.0), item("p0", 1, 2.0, streams=("public", "post:7"), post_id=7))
    last_seen = first.id_of(first.queue[0])
    send(hub, clock, item("p0", 2, 3.0), item("c0", 0, 4.0, streams=("post:7",), post_id=7),
         item("p1", 0, 5.0, streams=("post:8",)))
    assert names(first) == [("p0", 0), ("p0", 1), ("p0", 2), ("c0", 0)]  # p0-1 once, not twice
    again = Connection(["public", "post:7"])
    reset, backlog = hub.register(again, last_seen)
    assert not reset
    assert [(i.tp, i.offset) for i in backlog] == [("p0", 1), ("p0", 2), ("c0", 0)]
    # The id of the last one resumes with nothing left.
    assert hub.register(Connection(["public", "post:7"]), first.id_of(first.queue[-1])) == (False, [])


def test_ids_older_than_the_replay_window_or_this_process_get_reset(hub, clock):
    conn = Connection(["public"])
    hub.register(conn)
    send(hub, clock, item("p0", 0, 1.0), item("p0", 1, 1.5))
    old = conn.id_of(conn.queue[0])
    clock.now += 301
    send(hub, clock, item("p0", 2, 2.0))  # p0-1, after the id, is forgotten now
    assert hub.register(Connection(["public"]), old)[0] is True
    reset, backlog = hub.register(Connection(["public"]), conn.id_of(conn.queue[1]))
    assert not reset and [i.offset for i in backlog] == [2]
    assert hub.register(Connection(["public"]), "nonsense")[0] is True
    late = Hub(clock=clock)
    late.start_at("p0", 5)  # started reading at offset 5: an id at 3 cannot be served
    assert late.register(Connection(["public"]), "p0-3")[0] is True
    assert late.register(Connection(["public"]), "p0-4")[0] is False


def test_a_client_ahead_of_this_process_gets_no_duplicates(hub, clock):
    conn = Connection(["public"])
    hub.register(conn, "p0-1.p1--1.c0--1")  # another process had sent p0-0 and p0-1
    send(hub, clock, item("p0", 0, 1.0), item("p0", 1, 2.0), item("p0", 2, 3.0))
    assert names(conn) == [("p0", 2)]
    assert ids.decode(conn.id_of(conn.queue[0]))["p0"] == 2


def test_a_slow_client_is_dropped_when_its_buffer_overflows_and_others_go_on(hub, clock):
    slow, fast = Connection(["public"], limit=2), Connection(["public"], limit=100)
    slow.sending = True  # its writer waits for a full socket
    hub.register(slow)
    hub.register(fast)
    send(hub, clock, *[item("p0", n, float(n)) for n in range(5)])
    assert slow.closed == "overflow" and len(fast.queue) == 5


def test_a_burst_larger_than_the_buffer_does_not_drop_a_client_that_keeps_up(hub, clock):
    keeping_up = Connection(["public"], limit=4)
    hub.register(keeping_up)
    send(hub, clock, *[item("p0", n, float(n)) for n in range(20)])
    assert keeping_up.closed is None and len(keeping_up.queue) == 20
    send(hub, clock, *[item("p1", n, 100.0 + n) for n in range(20)])  # past 8 x the buffer
    assert keeping_up.closed == "overflow"


def test_private_streams_reach_only_their_subscribers(hub, clock):
    alice, bob = Connection(["user:1"], user_id=1), Connection(["user:2"], user_id=2)
    hub.register(alice)
    hub.register(bob)
    send(hub, clock, item("c0", 0, 1.0, streams=("user:1",), name="notification"))
    assert len(alice.queue) == 1 and not bob.queue
    assert hub.connections_of(1) == [alice]
    hub.unregister(alice)
    assert hub.connections_of(1) == []


def test_after_post_deleted_nothing_more_and_resumers_never_see_the_content(hub, clock):
    conn = Connection(["public", "post:7"])
    hub.register(conn)
    send(hub, clock, item("p1", 0, 0.5))
    before = conn.id_of(conn.queue[0])
    send(hub, clock, item("p0", 0, 1.0, post_id=7))
    send(hub, clock, item("p0", 1, 2.0, streams=("public", "post:7"), name="post_deleted", post_id=7))
    send(hub, clock, item("c0", 0, 3.0, streams=("post:7",), name="comment_created", post_id=7))
    assert [i.name for i in conn.queue] == ["post_created", "post_created", "post_deleted"]
    assert conn.queue[1].purged  # not written if still queued
    reset, backlog = hub.register(Connection(["public"]), before)
    assert not reset and [i.name for i in backlog] == ["post_deleted"]


def test_a_restore_lets_a_removed_posts_events_flow_again(hub, clock):
    conn = Connection(["public", "post:7"])
    hub.register(conn)
    send(hub, clock, item("p0", 0, 1.0, post_id=7))
    send(hub, clock, item("m0", 0, 2.0, streams=("public", "post:7"), name="post_deleted", post_id=7))
    assert hub.is_deleted(7)
    restored = item("m0", 1, 3.0, streams=("public", "post:7"), name="post_created", post_id=7)
    restored.restores = True
    send(hub, clock, restored)
    send(hub, clock, item("c0", 0, 4.0, streams=("post:7",), name="comment_created", post_id=7))
    assert not hub.is_deleted(7)
    assert [i.name for i in conn.queue][-3:] == ["post_deleted", "post_created", "comment_created"]


def test_moderation_and_lifecycle_events_map_to_their_streams():
    from contracts import events as ev
    from streaming.translate import (HYDRATE_COMMENT_BY_ID, HYDRATE_POST_BY_ID, HYDRATE_REPORT,
                                     translate)

    def one(payload, key):
        return translate(ev.new_event(payload, key, 1), "t0", 5)
    report = one(ev.ReportCreated(report_id=3, target_type="post", target_id=7, post_id=7,
                                  target_author_id=2, reporter_id=4, reason="spam"), 3)
    assert (report[0].streams, report[0].name, report[1]) == (("moderation",), "report_created",
                                                             (HYDRATE_REPORT, 3))
    restored = one(ev.ContentRestored(target_type="post", target_id=7, post_id=7, post_title="t",
                                      author_id=2, reason="ok", restored_by=1), 7)
    assert (restored[0].name, restored[0].restores, restored[1]) == (
        "post_created", True, (HYDRATE_POST_BY_ID, 7))
    removed = one(ev.ContentRemoved(target_type="comment", target_id=9, post_id=7, post_title="t",
                                    author_id=2, reason="spam", removed_by=1, report_id=None), 7)
    assert (removed[0].streams, removed[0].name) == (("post:7",), "comment_deleted")
    assert removed[0].data["id"] == 9 and removed[0].data["removed"] is True
    edited = one(ev.CommentUpdated(comment_id=9, post_id=7, author_id=2), 7)
    assert (edited[0].name, edited[1]) == ("comment_updated", (HYDRATE_COMMENT_BY_ID, 9))


def test_media_urls_are_made_absolute_per_client():
    data = {"image_url": "/media/a.jpg", "thumbnail_url": None,
            "author": {"id": 1, "avatar_url": "/media/b.png"}}
    out = absolute(data, "https://board.example")
    assert out["image_url"] == "https://board.example/media/a.jpg"
    assert out["author"]["avatar_url"] == "https://board.example/media/b.png"
    assert data["image_url"] == "/media/a.jpg"  # the shared item is untouched


@pytest.mark.parametrize("value,error", [
    (None, errors.InvalidStream), ("", errors.InvalidStream), (" , ", errors.InvalidStream),
    ("public,bogus", errors.InvalidStream), ("post:0", errors.InvalidStream),
    ("post:-1", errors.InvalidStream), (",".join(f"post:{n}" for n in range(1, 12)), errors.TooManyStreams),
])
def test_stream_names_are_checked(value, error):
    with pytest.raises(error):
        parse_streams(value, 10)


def test_repeated_names_count_once():
    assert parse_streams("public, public,post:3,post:3", 2) == ["public", "post:3"]
