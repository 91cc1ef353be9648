"""Notifications over HTTP against the running stack: real events from the real posts,
comments and users services through Kafka into the notifications service."""
import time

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.e2e.conftest import bearer
from tests.event_schemas import validate_event
from tests.integration.kafka_support import read_topic

pytestmark = pytest.mark.e2e


def poll(fetch, done, timeout=20):
    """The last value fetched once `done` holds or `timeout` passed: the caller's assertion
    on it says what was missing."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def notifications(api, user, query=""):
    resp = api("GET", f"/api/notifications/{query}", headers=bearer(user))
    assert resp.status_code == 200, resp.text
    return resp.json()


def create_post(api, user, title):
    resp = api("POST", "/api/posts/", files={"title": (None, title), "content": (None, "text")},
               headers=bearer(user))
    assert resp.status_code == 201, resp.text
    return resp.json()


def comment(api, user, post_id, parent=None):
    body = {"post_id": post_id, "content": "nice"}
    if parent:
        body["parent"] = parent
    resp = api("POST", "/api/comments/", json=body, headers=bearer(user))
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_like_comment_reply_and_welcome_arrive(api, register):
    alice, bob, carol = register("alice"), register("bob"), register("carol")
    welcome = poll(lambda: notifications(api, alice), lambda rows: rows)
    assert [(n["type"], n["message"]) for n in welcome] == [
        ("SYSTEM", f"Welcome to the imageboard, {alice['username']}!")]

    post = create_post(api, alice, "Sunset")
    assert api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(alice)).json()["liked"]  # own like
    assert api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(bob)).json()["liked"]
    bobs = comment(api, bob, post["id"])
    comment(api, alice, post["id"], parent=bobs["id"])  # alice replies on her own post

    rows = poll(lambda: notifications(api, alice), lambda rows: len(rows) >= 3)
    assert sorted((n["type"], n["message"]) for n in rows) == sorted([
        ("SYSTEM", f"Welcome to the imageboard, {alice['username']}!"),
        ("LIKE", f'{bob["username"]} liked your post "Sunset"'),
        ("COMMENT", f'{bob["username"]} commented on your post "Sunset"'),
    ])
    like = next(n for n in rows if n["type"] == "LIKE")
    assert like["data"] == {"post_id": post["id"], "actor_id": bob["id"]} and like["read"] is False
    bob_rows = poll(lambda: notifications(api, bob), lambda rows: len(rows) >= 2)
    assert sorted(n["type"] for n in bob_rows) == ["REPLY", "SYSTEM"]
    reply = next(n for n in bob_rows if n["type"] == "REPLY")
    assert reply["data"]["actor_id"] == alice["id"] and reply["data"]["post_id"] == post["id"]
    # Nothing more arrives (no self-notifications, no duplicates), shown without a sleep: the
    # consumer handles each partition in offset order, and carol's like and comment go to
    # the same partitions (keyed by the post) after alice's own like and reply. Once their
    # notifications are there, anything the earlier events caused is there too.
    assert api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(carol)).json()["liked"]
    comment(api, carol, post["id"])
    rows = poll(lambda: notifications(api, alice), lambda rows: len(rows) >= 5)
    assert sorted(n["type"] for n in rows) == ["COMMENT", "COMMENT", "LIKE", "LIKE", "SYSTEM"]
    assert {n["data"]["actor_id"] for n in rows if n["type"] != "SYSTEM"} == {bob["id"], carol["id"]}
    assert sorted(n["type"] for n in notifications(api, bob)) == ["REPLY", "SYSTEM"]


def test_read_state_pagination_and_errors(api, register):
    alice, bob = register("alice"), register("bob")
    post = create_post(api, alice, "Paged")
    for _ in range(3):
        comment(api, bob, post["id"])
    poll(lambda: notifications(api, alice), lambda rows: len(rows) == 4)

    resp = api("GET", "/api/notifications/?limit=2&page=2&unread_only=false", headers=bearer(alice))
    assert resp.status_code == 200 and len(resp.json()) == 2
    assert resp.headers["X-Total-Count"] == "4"
    assert 'rel="prev"' in resp.headers["Link"] and 'rel="next"' not in resp.headers["Link"]
    assert resp.headers["Link"].startswith("<http")

    first = notifications(api, alice)[0]
    other = api("PATCH", f"/api/notifications/{first['id']}/mark-read/", headers=bearer(bob))
    assert other.status_code == 403 and other.json()["error"]["code"] == "notification_forbidden"
    missing = api("PATCH", "/api/notifications/999999999/mark-read/", headers=bearer(alice))
    assert missing.status_code == 404
    done = api("PATCH", f"/api/notifications/{first['id']}/mark-read/", headers=bearer(alice))
    assert done.status_code == 200 and done.json() == {"id": first["id"], "read": True}
    unread = notifications(api, alice, "?unread_only=true")
    assert len(unread) == 3 and first["id"] not in [n["id"] for n in unread]
    count = api("GET", "/api/notifications/unread-count/", headers=bearer(alice))
    assert count.json() == {"unread_count": 3}
    marked = api("POST", "/api/notifications/mark-all-read/", headers=bearer(alice))
    assert marked.status_code == 200 and marked.json() == {"marked": 3}
    assert notifications(api, alice, "?unread_only=true") == []
    assert api("GET", "/api/notifications/?unread_only=maybe", headers=bearer(alice)).status_code == 400
    assert api("GET", "/api/notifications/").status_code == 401


def test_operator_broadcast_from_nameko(api, register, config):
    alice = register("alice")
    poll(lambda: notifications(api, alice), lambda rows: rows)
    with ClusterRpcProxy(config, timeout=10) as rpc:
        result = rpc.notifications.broadcast("Maintenance tonight at 22:00 UTC")
    assert result["recipients"] >= 1
    latest = notifications(api, alice)[0]
    assert (latest["type"], latest["message"]) == ("SYSTEM", "Maintenance tonight at 22:00 UTC")


def test_events_of_the_real_services_match_their_schemas(api, register, config):
    """Every event type the running services produce, read back from Kafka and checked
    against imageboard/events/schemas/<type>.json."""
    alice, bob = register("alice"), register("bob")
    api("POST", "/api/users/login/", json={"username": bob["username"], "password": "password1"})
    post = create_post(api, alice, "Schemas")
    pid = post["id"]
    api("POST", f"/api/posts/{pid}/like/", headers=bearer(bob))
    api("POST", f"/api/posts/{pid}/like/", headers=bearer(bob))  # unlike
    parent = comment(api, bob, pid)
    comment(api, alice, pid, parent=parent["id"])
    assert api("GET", f"/api/posts/{pid}/", headers=bearer(bob)).status_code == 200
    assert api("GET", f"/api/posts/{pid}/").status_code == 200
    assert api("DELETE", f"/api/posts/{pid}/", headers=bearer(alice)).status_code == 204
    rows = poll(lambda: notifications(api, bob), lambda rows: len(rows) >= 2)
    api("PATCH", f"/api/notifications/{rows[0]['id']}/mark-read/", headers=bearer(bob))

    users, posts = {str(alice["id"]), str(bob["id"])}, {str(pid)}
    expected = {  # topic: (keys, the types this test caused)
        "user-events": (users, ["user.registered", "user.registered", "user.logged_in"]),
        "post-events": (posts, ["post.created", "post.liked", "post.unliked", "post.deleted"]),
        "comment-events": (posts, ["comment.created", "comment.created"]),
        "analytics-events": (posts, ["post.viewed", "post.viewed"]),
        # alice: welcome, like, comment; bob: welcome, reply; then bob reads one
        "notification-events": (users, ["notification.created"] * 5 + ["notification.read"]),
    }
    for topic_name, (keys, types) in expected.items():
        events = [e for _, e in read_topic(config, topic_name, len(types),
                                           keep=lambda e: e["key"] in keys)]
        assert sorted(e["type"] for e in events) == sorted(types), topic_name
        for event in events:
            validate_event(event)
        if topic_name == "post-events":  # order per key: the post's history as it happened
            assert [e["type"] for e in events] == types
    viewers = sorted(str(e["payload"]["viewer_id"]) for _, e in read_topic(
        config, "analytics-events", 2, keep=lambda e: e["key"] == str(pid)))
    assert viewers == sorted([str(bob["id"]), "None"])
