"""The notifications service in a real nameko container, consuming real Kafka (tansu)
and writing real PostgreSQL."""
import json
import logging
import random
import time
from datetime import datetime, timedelta, timezone

import eventlet

import pytest

from contracts.errors import ValidationFailed
from contracts.events import decode
from imageboard.config import topic
from imageboard.events.envelope import make_event
from services.notifications.exceptions import NotificationNotFound, NotYourNotification
from services.notifications.models import KnownUser, database
from services.notifications.service import NotificationsService
from tests.event_schemas import validate_event
from tests.integration.kafka_support import (events_migrated, kafka_config,  # noqa: F401 (fixtures)
                                             produce, produce_events, read_topic, wait_until)

pytestmark = pytest.mark.integration


@pytest.fixture
def notifications(kafka_config, serve, events_migrated):
    events_migrated("notifications")
    return serve(NotificationsService, kafka_config)


def new_ids(n):
    """User/post ids no other test uses (the test database is shared by the session)."""
    return random.sample(range(10**9, 2 * 10**9), n)


def liked(post_id, owner, liker, title="Sunset", username="alice"):
    return make_event("post.liked", post_id, liker, {
        "post_id": post_id, "post_author_id": owner, "post_title": title,
        "user_id": liker, "username": username, "likes_count": 1})


def commented(post_id, post_author, author, comment_id, parent_id=None, parent_author=None):
    return make_event("comment.created", post_id, author, {
        "comment_id": comment_id, "post_id": post_id, "post_author_id": post_author,
        "post_title": "Sunset", "parent_id": parent_id, "parent_author_id": parent_author,
        "author_id": author, "author_username": "bob"})


def registered(user_id, username):
    return make_event("user.registered", user_id, user_id, {"user_id": user_id, "username": username})


def listed(proxy, user_id, **kwargs):
    return proxy.list_notifications(user_id, **kwargs)["results"]


def test_like_comment_reply_and_welcome_follow_decision_7(notifications, kafka_config):
    owner, liker, replier, post_id = new_ids(4)
    events = [
        registered(owner, "owner"),
        liked(post_id, owner, liker, username="alice"),
        liked(post_id, owner, owner),  # own like: nothing
        commented(post_id, owner, liker, 11),  # on owner's post: COMMENT to owner
        # a reply to liker's comment: REPLY to liker, COMMENT to owner
        commented(post_id, owner, replier, 12, parent_id=11, parent_author=liker),
        # a reply to owner's own comment: REPLY to owner, and no second (COMMENT) one
        commented(post_id, owner, liker, 13, parent_id=10, parent_author=owner),
        # owner replies on their own post: REPLY to liker, nothing to owner
        commented(post_id, owner, owner, 14, parent_id=11, parent_author=liker),
    ]
    produce_events(kafka_config, events)
    wait_until(lambda: len(listed(notifications, liker)) == 2, what="liker's two replies")
    owner_list = wait_until(lambda: (lambda rows: rows if len(rows) == 5 else None)(
        listed(notifications, owner)), what="owner's 5 notifications")

    # Topics are not ordered with respect to each other: compare as sets of facts.
    kinds = sorted((n["type"], n["data"].get("comment_id") or 0, n["message"]) for n in owner_list)
    assert kinds == [
        ("COMMENT", 11, 'bob commented on your post "Sunset"'),
        ("COMMENT", 12, 'bob commented on your post "Sunset"'),
        ("LIKE", 0, 'alice liked your post "Sunset"'),
        ("REPLY", 13, 'bob replied to your comment on "Sunset"'),
        ("SYSTEM", 0, "Welcome to the imageboard, owner!"),
    ]
    like = next(n for n in owner_list if n["type"] == "LIKE")
    assert like["data"] == {"post_id": post_id, "actor_id": liker} and like["read"] is False
    assert like["created_at"].endswith("+00:00")
    replies = listed(notifications, liker)
    assert [(n["type"], n["data"]["comment_id"]) for n in replies] == [("REPLY", 14), ("REPLY", 12)]
    assert listed(notifications, replier) == []  # nobody notified of their own actions


def test_redelivered_event_creates_one_notification(notifications, kafka_config):
    owner, liker, post_id = new_ids(3)
    event = liked(post_id, owner, liker)
    produce_events(kafka_config, [event, event])
    marker = liked(post_id, owner, new_ids(1)[0])  # consumed after both copies
    produce_events(kafka_config, [event, marker])
    wait_until(lambda: len(listed(notifications, owner)) == 2, what="the marker")
    rows = listed(notifications, owner)
    assert sorted(n["data"]["actor_id"] for n in rows) == sorted([liker, marker["actor_id"]])


def test_malformed_messages_are_skipped_and_consumption_goes_on(notifications, kafka_config, caplog):
    owner, liker, post_id = new_ids(3)
    bad_payload = liked(post_id, owner, liker)
    del bad_payload["payload"]["post_author_id"]
    caplog.set_level(logging.WARNING)
    produce(kafka_config, [
        ("post-events", str(post_id), b"{not json"),
        ("post-events", str(post_id), b'{"type": "post.liked"}'),
        ("post-events", str(post_id), bad_payload),
        ("post-events", str(post_id), liked(post_id, owner, liker)),
    ])
    rows = wait_until(lambda: listed(notifications, owner), what="the valid event after the bad ones")
    assert len(rows) == 1 and rows[0]["type"] == "LIKE"
    reasons = " ".join(r.getMessage() + str(getattr(r, "reason", "")) for r in caplog.records)
    assert "not JSON" in reasons and "missing envelope fields" in reasons
    assert "post_author_id" in reasons
    # ...and kept, byte for byte, in the service's dead_letters table before their offsets
    # were committed (the valid event after them was handled, so they are there).
    with database.connection_context():
        letters = database.execute_sql(
            'SELECT consumer, partition, "offset", message_key, value, kind, reason, event_type '
            'FROM dead_letters WHERE topic = %s ORDER BY "offset"',
            (topic(kafka_config, "post-events"),)).fetchall()
    assert [(kind, event_type) for *_, kind, _, event_type in letters] == [
        ("not_json", None), ("bad_envelope", "post.liked"), ("bad_payload", "post.liked")]
    assert bytes(letters[0][4]) == b"{not json" and bytes(letters[0][3]) == str(post_id).encode()
    assert letters[2][6] == "payload.post_author_id: missing"
    assert {row[0] for row in letters} == {topic(kafka_config, "notifications")}
    assert len({row[2] for row in letters}) == 3


def test_read_state_endpoints_and_their_events(notifications, kafka_config):
    owner, other, post_id = new_ids(3)
    produce_events(kafka_config, [liked(post_id, owner, other, title=f"t{i}") for i in range(3)])
    wait_until(lambda: notifications.unread_count(owner)["unread_count"] == 3, what="3 unread")
    first, second, third = listed(notifications, owner)

    with pytest.raises(NotYourNotification):
        notifications.mark_read(other, first["id"])
    with pytest.raises(NotificationNotFound):
        notifications.mark_read(owner, 2**62)
    assert notifications.mark_read(owner, first["id"]) == {"id": first["id"], "read": True}
    assert notifications.mark_read(owner, first["id"]) == {"id": first["id"], "read": True}
    assert [n["id"] for n in listed(notifications, owner, unread_only=True)] == [second["id"], third["id"]]
    page = notifications.list_notifications(owner, True, 2, 1)
    assert page["count"] == 2 and [n["id"] for n in page["results"]] == [third["id"]]
    assert notifications.mark_all_read(owner) == {"marked": 2}
    assert notifications.unread_count(owner) == {"unread_count": 0}

    # notification-events via the service's own outbox: 3 created, then 3 read (one each).
    # (Rows other tests left unsent in the shared outbox may come along: keep this user's.)
    events = [e for _, e in read_topic(kafka_config, "notification-events", 6,
                                       keep=lambda e: e["key"] == str(owner))]
    assert [e["type"] for e in events] == ["notification.created"] * 3 + ["notification.read"] * 3
    assert {e["payload"]["notification_id"] for e in events[3:]} == {first["id"], second["id"], third["id"]}
    assert all(e["payload"]["user_id"] == owner for e in events)
    for event in events:
        validate_event(event)


def test_broadcast_reaches_every_known_user(notifications, kafka_config):
    alice, bob = new_ids(2)
    produce_events(kafka_config, [
        registered(alice, "alice"),
        make_event("user.logged_in", bob, bob, {"user_id": bob, "username": "bob"}),
    ])
    wait_until(lambda: listed(notifications, alice), what="alice's welcome")
    wait_until(lambda: _known(bob), what="bob known from user.logged_in")
    result = notifications.broadcast("  Maintenance at 22:00 UTC ")
    assert result["recipients"] >= 2
    for user_id in (alice, bob):
        latest = listed(notifications, user_id)[0]
        assert latest["type"] == "SYSTEM" and latest["message"] == "Maintenance at 22:00 UTC"
    with pytest.raises(ValidationFailed):
        notifications.broadcast("")


def _known(user_id):
    with database.connection_context():
        return KnownUser.get_or_none(KnownUser.id == user_id) is not None


def test_consuming_never_blocks_the_eventlet_hub(notifications, kafka_config):
    """A green ticker beside the container keeps ticking while events are consumed and
    notification events are relayed: nothing waits on Kafka with the hub held."""
    owner, post_id = new_ids(2)
    gaps, running = [], [True]

    def ticker():
        last = time.monotonic()
        while running[0]:
            eventlet.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    thread = eventlet.spawn(ticker)
    likers = new_ids(30)
    produce_events(kafka_config, [liked(post_id, owner, liker) for liker in likers])
    wait_until(lambda: notifications.unread_count(owner)["unread_count"] == 30, what="30 likes")
    eventlet.sleep(1)  # idle consumer and relay polling too
    running[0] = False
    thread.wait()
    # A blocking poll(timeout)/flush() would show up as gaps of its timeout (>= 1 s).
    assert max(gaps) < 0.5, f"hub stalled for {max(gaps):.3f} s"


def test_processed_events_older_than_the_retention_are_pruned(notifications, kafka_config):
    from services.notifications.dependencies import NotificationsStore
    from services.notifications.models import ProcessedEvent

    old, recent = [make_event("user.registered", i, i, {"user_id": i, "username": f"u{i}"})
                   for i in new_ids(2)]
    ProcessedEvent.insert_many([
        {"event_id": old["event_id"], "event_type": old["type"],
         "processed_at": datetime.now(timezone.utc) - timedelta(days=31)},
        {"event_id": recent["event_id"], "event_type": recent["type"],
         "processed_at": datetime.now(timezone.utc) - timedelta(days=29)},
    ]).execute()
    store = NotificationsStore(database.obj, {"PROCESSED_EVENTS_RETENTION_DAYS": 30})

    assert store.prune_processed_events(batch_size=1) >= 1  # batches until none is left
    remaining = {str(e.event_id) for e in ProcessedEvent.select().where(
        ProcessedEvent.event_id.in_([old["event_id"], recent["event_id"]]))}
    assert remaining == {recent["event_id"]}
    # A forgotten id is older than any copy that could still arrive; a recent one still
    # deduplicates: the redelivered registration changes nothing.
    assert store.handle_event(decode(json.dumps(recent))) == []
