"""Contract v2 section 4 over HTTP on the running stack: editing posts and comments, deleting
comments (placeholders, exact counts), admin removal and restore (missing for everyone else
on every read path, visible to admins with the reason), their events and the authors'
SYSTEM notifications (section 8)."""
import time

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from analytics_store.client import make_client
from imageboard_ops.util import wait_for
from tests.e2e.conftest import bearer
from tests.e2e.test_posts_api import create, error_of, make_admin
from tests.event_schemas import validate_event
from tests.integration.kafka_support import read_topic

pytestmark = pytest.mark.e2e


def post_of(api, user, title="Lifecycle title", content="Lifecycle content"):
    resp = create(api, user, title, content)
    assert resp.status_code == 201, resp.text
    return resp.json()


def comment_on(api, user, post_id, content="a comment", parent=None):
    resp = api("POST", "/api/comments/", json={"post_id": post_id, "content": content,
                                               "parent": parent}, headers=bearer(user))
    assert resp.status_code == 201, resp.text
    return resp.json()


def listed(api, post_id, user=None):
    resp = api("GET", f"/api/comments/?post_id={post_id}&limit=100",
               headers=bearer(user) if user else {})
    assert resp.status_code == 200, resp.text
    return resp.json(), int(resp.headers["X-Total-Count"])


def comments_count(api, post_id, user=None):
    resp = api("GET", f"/api/posts/{post_id}/", headers=bearer(user) if user else {})
    assert resp.status_code == 200, resp.text
    return resp.json()["comments_count"]


@pytest.fixture
def admin(config, api, register):
    return make_admin(config, api, register("admin"))


# ---- 4.1 editing --------------------------------------------------------------------
def test_the_author_edits_a_post_and_nobody_else_may(api, register, admin):
    alice, bob = register("alice"), register("bob")
    post = post_of(api, alice)
    fresh = api("GET", f"/api/posts/{post['id']}/").json()
    assert fresh["edited"] is False and fresh["updated_at"] == fresh["created_at"]
    assert fresh["removed"] is False and "removed_reason" not in fresh

    time.sleep(0.01)
    resp = api("PATCH", f"/api/posts/{post['id']}/", json={"title": "  New title  "},
               headers=bearer(alice))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["title"], body["content"], body["edited"]) == ("New title", "Lifecycle content", True)
    assert body["updated_at"] > body["created_at"]
    assert body["likes"] == [] and body["removed"] is False
    again = api("GET", f"/api/posts/{post['id']}/").json()
    assert (again["title"], again["edited"], again["updated_at"]) == ("New title", True, body["updated_at"])

    # Unchanged values change nothing: same updated_at.
    same = api("PATCH", f"/api/posts/{post['id']}/", json={"title": "New title"}, headers=bearer(alice))
    assert same.status_code == 200 and same.json()["updated_at"] == body["updated_at"]

    for user in (bob, admin):  # admins too: 403 forbidden
        assert error_of(api("PATCH", f"/api/posts/{post['id']}/", json={"title": "x"},
                            headers=bearer(user))) == (403, "forbidden")
    assert error_of(api("PATCH", "/api/posts/999999999/", json={"title": "x"},
                        headers=bearer(alice))) == (404, "post_not_found")
    assert error_of(api("PATCH", f"/api/posts/{post['id']}/", json={"image": "x"},
                        headers=bearer(alice))) == (400, "missing_fields")
    assert error_of(api("PATCH", f"/api/posts/{post['id']}/", json={"title": "   "},
                        headers=bearer(alice))) == (422, "validation_error")
    assert error_of(api("PATCH", f"/api/posts/{post['id']}/", json={"content": "x" * 5001},
                        headers=bearer(alice))) == (422, "validation_error")
    assert error_of(api("PATCH", f"/api/posts/{post['id']}/", files={"title": (None, "t")},
                        headers=bearer(alice))) == (400, "invalid_json")
    assert error_of(api("PATCH", f"/api/posts/{post['id']}/", json={"title": "x"})) == \
        (401, "not_authenticated")


def test_an_edit_is_searchable_and_new_events_carry_the_new_title(api, register, config):
    alice, bob = register("alice"), register("bob")
    post = post_of(api, alice, title="Plainword", content="nothing special")
    resp = api("PATCH", f"/api/posts/{post['id']}/", json={"title": "Zanzibarquux sunrise"},
               headers=bearer(alice))
    assert resp.status_code == 200
    found = api("GET", "/api/posts/?search=zanzibarquux").json()
    assert [p["id"] for p in found["results"]] == [post["id"]] and found["count"] == 1
    comment = comment_on(api, bob, post["id"])
    assert api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(bob)).status_code == 200

    key = str(post["id"])
    updated = [e for _, e in read_topic(config, "post-events", 2, keep=lambda e: e["key"] == key
                                        and e["type"] in ("post.updated", "post.liked"))]
    by_type = {e["type"]: e for e in updated}
    assert by_type["post.updated"]["payload"] == {"post_id": post["id"], "author_id": alice["id"],
                                                  "title": "Zanzibarquux sunrise", "fields": ["title"]}
    assert by_type["post.liked"]["payload"]["post_title"] == "Zanzibarquux sunrise"
    created = read_topic(config, "comment-events", 1, keep=lambda e: e["key"] == key
                         and e["type"] == "comment.created")[0][1]
    assert created["payload"]["comment_id"] == comment["id"]
    assert created["payload"]["post_title"] == "Zanzibarquux sunrise"
    for event in (*updated, created):
        validate_event(event)


def test_the_author_edits_a_comment_and_nobody_else_may(api, register, admin, config):
    alice, bob = register("alice"), register("bob")
    post = post_of(api, alice)
    comment = comment_on(api, bob, post["id"], "first words")
    got = api("GET", f"/api/comments/{comment['id']}/").json()
    assert got["edited"] is False and got["updated_at"] == got["created_at"]
    assert (got["is_deleted"], got["removed"]) == (False, False) and "removed_reason" not in got

    time.sleep(0.01)
    resp = api("PATCH", f"/api/comments/{comment['id']}/", json={"content": "better words"},
               headers=bearer(bob))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["content"], body["edited"], body["author"]["id"]) == ("better words", True, bob["id"])
    assert body["updated_at"] > body["created_at"]
    assert listed(api, post["id"])[0][0]["content"] == "better words"

    for user in (alice, admin):  # the post's author and admins: 403
        assert error_of(api("PATCH", f"/api/comments/{comment['id']}/", json={"content": "x"},
                            headers=bearer(user))) == (403, "forbidden")
    assert error_of(api("PATCH", "/api/comments/999999999/", json={"content": "x"},
                        headers=bearer(bob))) == (404, "comment_not_found")
    assert error_of(api("GET", "/api/comments/999999999/")) == (404, "comment_not_found")
    assert error_of(api("PATCH", f"/api/comments/{comment['id']}/", json={},
                        headers=bearer(bob))) == (400, "missing_fields")
    assert error_of(api("PATCH", f"/api/comments/{comment['id']}/", json={"content": "x" * 1001},
                        headers=bearer(bob))) == (422, "validation_error")

    event = read_topic(config, "comment-events", 1, keep=lambda e: e["key"] == str(post["id"])
                       and e["type"] == "comment.updated")[0][1]
    assert event["payload"] == {"comment_id": comment["id"], "post_id": post["id"],
                                "author_id": bob["id"]}
    validate_event(event)


# ---- 4.2 deleting comments ------------------------------------------------------------
def test_deleting_comments_keeps_the_thread_shape_and_the_count_exact(api, register, admin, config):
    alice, bob, carol = register("alice"), register("bob"), register("carol")
    post = post_of(api, alice)
    pid = post["id"]
    top = comment_on(api, bob, pid, "top")
    reply = comment_on(api, carol, pid, "reply", parent=top["id"])
    leaf = comment_on(api, carol, pid, "leaf")
    assert comments_count(api, pid) == 3

    # Someone else: 403; the author of a comment with a reply: a placeholder.
    assert error_of(api("DELETE", f"/api/comments/{top['id']}/", headers=bearer(carol))) == \
        (403, "forbidden")
    assert api("DELETE", f"/api/comments/{top['id']}/", headers=bearer(bob)).status_code == 204
    rows, total = listed(api, pid)
    assert total == 3 and [r["id"] for r in rows] == [top["id"], reply["id"], leaf["id"]]
    placeholder = rows[0]
    assert (placeholder["author"], placeholder["content"], placeholder["is_deleted"],
            placeholder["removed"]) == (None, "", True, False)
    assert comments_count(api, pid) == 2
    assert api("GET", f"/api/comments/{top['id']}/").json() == placeholder
    # A placeholder cannot be edited, deleted or replied to.
    assert error_of(api("PATCH", f"/api/comments/{top['id']}/", json={"content": "x"},
                        headers=bearer(bob))) == (404, "comment_not_found")
    assert error_of(api("DELETE", f"/api/comments/{top['id']}/", headers=bearer(admin))) == \
        (404, "comment_not_found")
    resp = api("POST", "/api/comments/", json={"post_id": pid, "content": "x", "parent": top["id"]},
               headers=bearer(carol))
    assert error_of(resp) == (400, "invalid_parent")

    # A comment without replies goes; the last reply of a placeholder takes it along.
    assert api("DELETE", f"/api/comments/{leaf['id']}/", headers=bearer(admin)).status_code == 204
    assert api("DELETE", f"/api/comments/{reply['id']}/", headers=bearer(carol)).status_code == 204
    assert listed(api, pid) == ([], 0)
    assert comments_count(api, pid) == 0
    for gone in (top, reply, leaf):
        assert error_of(api("GET", f"/api/comments/{gone['id']}/")) == (404, "comment_not_found")
    assert error_of(api("DELETE", f"/api/comments/{leaf['id']}/", headers=bearer(carol))) == \
        (404, "comment_not_found")

    events = [e for _, e in read_topic(config, "comment-events", 3, keep=lambda e: e["key"] == str(pid)
                                       and e["type"] == "comment.deleted")]
    assert sorted((e["payload"]["comment_id"], e["payload"]["deleted_by"], e["payload"]["placeholder"])
                  for e in events) == sorted([(top["id"], bob["id"], True),
                                              (leaf["id"], admin["id"], False),
                                              (reply["id"], carol["id"], False)])
    for event in events:
        validate_event(event)


# ---- 4.3 removal by admins --------------------------------------------------------------
def test_admin_removes_and_restores_a_post(api, register, admin, config):
    alice, bob = register("alice"), register("bob")
    post = post_of(api, alice, title="Removable quuxfoobar", content="body")
    pid = post["id"]
    comment = comment_on(api, bob, pid)
    before = api("GET", "/api/posts/?limit=100").json()["count"]
    profile = api("GET", f"/api/users/profile/{alice['id']}/").json()["posts_count"]

    for user in (alice, bob):
        assert error_of(api("POST", f"/api/posts/{pid}/remove/", json={"reason": "spam"},
                            headers=bearer(user))) == (403, "admin_required")
    assert error_of(api("POST", f"/api/posts/{pid}/remove/", json={"reason": "spam"})) == \
        (401, "not_authenticated")
    assert error_of(api("POST", f"/api/posts/{pid}/remove/", json={},
                        headers=bearer(admin))) == (400, "missing_fields")
    assert error_of(api("POST", f"/api/posts/{pid}/remove/", json={"reason": "x" * 501},
                        headers=bearer(admin))) == (422, "validation_error")
    assert error_of(api("POST", "/api/posts/999999999/remove/", json={"reason": "spam"},
                        headers=bearer(admin))) == (404, "post_not_found")
    assert error_of(api("POST", f"/api/posts/{pid}/restore/", json={"reason": "fine"},
                        headers=bearer(admin))) == (409, "not_removed")

    resp = api("POST", f"/api/posts/{pid}/remove/", json={"reason": "spam"}, headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["id"], body["removed"], body["removed_reason"], body["title"]) == \
        (pid, True, "spam", "Removable quuxfoobar")
    assert error_of(api("POST", f"/api/posts/{pid}/remove/", json={"reason": "spam"},
                        headers=bearer(admin))) == (409, "already_removed")

    # Missing for everyone else, the author too, on every read and write path.
    for headers in ({}, bearer(alice), bearer(bob)):
        assert error_of(api("GET", f"/api/posts/{pid}/", headers=headers)) == (404, "post_not_found")
        assert error_of(api("GET", f"/api/comments/?post_id={pid}", headers=headers)) == \
            (404, "post_not_found")
        assert error_of(api("GET", f"/api/comments/?post_id={pid}&pagination=cursor",
                            headers=headers)) == (404, "post_not_found")
    assert error_of(api("PATCH", f"/api/posts/{pid}/", json={"title": "x"}, headers=bearer(alice))) == \
        (404, "post_not_found")
    for method, body in (("GET", None), ("PATCH", {"content": "x"}), ("DELETE", None)):
        assert error_of(api(method, f"/api/comments/{comment['id']}/", json=body,
                            headers=bearer(bob))) == (404, "comment_not_found")
    assert api("GET", f"/api/comments/{comment['id']}/", headers=bearer(admin)).status_code == 200
    assert error_of(api("DELETE", f"/api/posts/{pid}/", headers=bearer(alice))) == (404, "post_not_found")
    assert error_of(api("POST", f"/api/posts/{pid}/like/", headers=bearer(bob))) == (404, "post_not_found")
    assert error_of(api("POST", "/api/comments/", json={"post_id": pid, "content": "x"},
                        headers=bearer(bob))) == (404, "post_not_found")
    feed = api("GET", "/api/posts/?limit=100").json()
    assert pid not in [p["id"] for p in feed["results"]] and feed["count"] == before - 1
    cursor_feed = api("GET", "/api/posts/?pagination=cursor&limit=100").json()
    assert pid not in [p["id"] for p in cursor_feed["results"]]
    assert api("GET", "/api/posts/?search=quuxfoobar").json() == {
        "count": 0, "next": None, "previous": None, "results": []}
    assert api("GET", f"/api/users/profile/{alice['id']}/").json()["posts_count"] == profile - 1
    # Admins see it, with its reason; lists are the same for them.
    seen = api("GET", f"/api/posts/{pid}/", headers=bearer(admin)).json()
    assert (seen["removed"], seen["removed_reason"], seen["content"]) == (True, "spam", "body")
    assert pid not in [p["id"] for p in api("GET", "/api/posts/?limit=100",
                                            headers=bearer(admin)).json()["results"]]

    resp = api("POST", f"/api/posts/{pid}/restore/", json={"reason": "appeal granted"},
               headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    assert (resp.json()["removed"], resp.json()["removed_reason"]) == (False, None)
    back = api("GET", f"/api/posts/{pid}/").json()
    assert (back["removed"], back["title"], back["comments_count"], back["edited"]) == \
        (False, "Removable quuxfoobar", 1, False)
    assert "removed_reason" not in back
    assert api("GET", "/api/posts/?limit=100").json()["count"] == before
    assert [p["id"] for p in api("GET", "/api/posts/?search=quuxfoobar").json()["results"]] == [pid]
    assert listed(api, pid)[1] == 1

    # content.removed / content.restored on moderation-events, SYSTEM notifications.
    events = [e for _, e in read_topic(config, "moderation-events", 2,
                                       keep=lambda e: e["key"] == str(pid))]
    assert [e["type"] for e in events] == ["content.removed", "content.restored"]
    assert events[0]["payload"] == {"target_type": "post", "target_id": pid, "post_id": pid,
                                    "post_title": "Removable quuxfoobar", "author_id": alice["id"],
                                    "reason": "spam", "removed_by": admin["id"], "report_id": None,
                                    "unlisted": []}
    assert events[1]["payload"]["restored_by"] == admin["id"]
    assert events[0]["actor_id"] == admin["id"]
    for event in events:
        validate_event(event)
    messages = wait_for_system(api, alice, 2)
    assert 'Your post "Removable quuxfoobar" was removed by a moderator: spam' in messages
    assert 'Your post "Removable quuxfoobar" was restored' in messages


def system_notifications(api, user):
    resp = api("GET", "/api/notifications/?limit=100", headers=bearer(user))
    assert resp.status_code == 200
    return [n for n in resp.json() if n["type"] == "SYSTEM" and n["data"].get("post_id")]


def wait_for_system(api, user, count):
    wait_for(lambda: len(system_notifications(api, user)) >= count, 20, interval=0.2,
             what="SYSTEM notifications")
    notes = system_notifications(api, user)
    for note in notes:
        assert note["data"]["actor_id"] is None  # moderators stay anonymous
    return [n["message"] for n in notes]


def test_admin_removes_and_restores_a_comment(api, register, admin, config):
    alice, bob, carol = register("alice"), register("bob"), register("carol")
    post = post_of(api, alice, title="Thread")
    pid = post["id"]
    parent = comment_on(api, bob, pid, "parent words")
    reply = comment_on(api, carol, pid, "reply words", parent=parent["id"])
    lone = comment_on(api, bob, pid, "lone words")
    assert comments_count(api, pid) == 3

    assert error_of(api("POST", f"/api/comments/{parent['id']}/remove/", json={"reason": "rude"},
                        headers=bearer(bob))) == (403, "admin_required")
    assert error_of(api("POST", "/api/comments/999999999/remove/", json={"reason": "rude"},
                        headers=bearer(admin))) == (404, "comment_not_found")
    assert error_of(api("POST", f"/api/comments/{lone['id']}/restore/", json={"reason": "ok"},
                        headers=bearer(admin))) == (409, "not_removed")

    # A removed comment with a listed reply stays as a placeholder; one without vanishes.
    resp = api("POST", f"/api/comments/{parent['id']}/remove/", json={"reason": "rude"},
               headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["removed"], body["removed_reason"], body["content"], body["author"]["id"]) == \
        (True, "rude", "parent words", bob["id"])
    assert error_of(api("POST", f"/api/comments/{parent['id']}/remove/", json={"reason": "rude"},
                        headers=bearer(admin))) == (409, "already_removed")
    assert api("POST", f"/api/comments/{lone['id']}/remove/", json={"reason": "spam"},
               headers=bearer(admin)).status_code == 200
    rows, total = listed(api, pid)
    assert total == 2 and [r["id"] for r in rows] == [parent["id"], reply["id"]]
    assert (rows[0]["author"], rows[0]["content"], rows[0]["removed"], rows[0]["is_deleted"]) == \
        (None, "", True, False)
    assert "removed_reason" not in rows[0]
    assert listed(api, pid, admin) == (rows, total)  # lists are the same for admins
    assert comments_count(api, pid) == 1
    for headers in ({}, bearer(bob)):
        for gone in (parent, lone):
            assert error_of(api("GET", f"/api/comments/{gone['id']}/", headers=headers)) == \
                (404, "comment_not_found")
    assert error_of(api("PATCH", f"/api/comments/{lone['id']}/", json={"content": "x"},
                        headers=bearer(bob))) == (404, "comment_not_found")
    assert error_of(api("DELETE", f"/api/comments/{lone['id']}/", headers=bearer(bob))) == \
        (404, "comment_not_found")
    resp = api("POST", "/api/comments/", json={"post_id": pid, "content": "x", "parent": parent["id"]},
               headers=bearer(carol))
    assert error_of(resp) == (400, "invalid_parent")
    seen = api("GET", f"/api/comments/{lone['id']}/", headers=bearer(admin)).json()
    assert (seen["content"], seen["removed_reason"], seen["author"]["id"]) == ("lone words", "spam", bob["id"])
    assert api("GET", f"/api/users/profile/{bob['id']}/").json()["comments_count"] == 0

    # Removing the last listed reply takes the removed placeholder out too.
    assert api("POST", f"/api/comments/{reply['id']}/remove/", json={"reason": "rude"},
               headers=bearer(admin)).status_code == 200
    assert listed(api, pid) == ([], 0)
    assert comments_count(api, pid) == 0
    # Restoring brings each back unchanged.
    for comment in (parent, reply, lone):
        resp = api("POST", f"/api/comments/{comment['id']}/restore/", json={"reason": "ok"},
                   headers=bearer(admin))
        assert resp.status_code == 200, resp.text
        assert (resp.json()["removed"], resp.json()["removed_reason"]) == (False, None)
    rows, total = listed(api, pid)
    assert total == 3 and [r["content"] for r in rows] == ["parent words", "reply words", "lone words"]
    assert all(r["removed"] is False and r["author"] for r in rows)
    assert comments_count(api, pid) == 3

    events = [e for _, e in read_topic(config, "moderation-events", 6,
                                       keep=lambda e: e["key"] == str(pid))]
    removed = [e for e in events if e["type"] == "content.removed"]
    assert {e["payload"]["target_id"] for e in removed} == {parent["id"], reply["id"], lone["id"]}
    assert all(e["payload"]["target_type"] == "comment" and e["payload"]["post_title"] == "Thread"
               for e in events)
    messages = wait_for_system(api, bob, 4)
    assert messages.count('Your comment on "Thread" was removed by a moderator: rude') == 1
    assert 'Your comment on "Thread" was removed by a moderator: spam' in messages
    assert messages.count('Your comment on "Thread" was restored') == 2
    notes = system_notifications(api, bob)
    assert {n["data"]["comment_id"] for n in notes} == {parent["id"], lone["id"]}


def test_the_rpc_interface_of_the_moderation_service(api, register, config, admin):
    """What the moderation service calls: remove/restore with a report id, admin getters."""
    alice, bob = register("alice"), register("bob")
    post = post_of(api, alice, title="Reported")
    comment = comment_on(api, bob, post["id"], "reported words")
    with ClusterRpcProxy(config, timeout=10) as rpc:
        view = rpc.posts.remove_post(post["id"], "illegal", admin["id"], report_id=31)
        assert (view["removed"], view["removed_reason"]) == (True, "illegal")
        assert rpc.posts.get_post_admin(post["id"])["removed_reason"] == "illegal"
        assert rpc.posts.restore_post(post["id"], "ok", admin["id"])["removed"] is False
        view = rpc.comments.remove_comment(comment["id"], "spam", admin["id"], 32)
        assert (view["removed"], view["content"]) == (True, "reported words")
        assert rpc.comments.get_comment_admin(comment["id"])["removed_reason"] == "spam"
        assert rpc.comments.restore_comment(comment["id"], "ok", admin["id"])["removed"] is False
    events = [e for _, e in read_topic(config, "moderation-events", 4,
                                       keep=lambda e: e["key"] == str(post["id"]))]
    # Two outboxes (posts, comments), two relays: their order on the partition is free.
    assert sorted(e["payload"].get("report_id") for e in events
                  if e["type"] == "content.removed") == [31, 32]


def test_analytics_store_the_new_events_and_a_deleted_comment_stops_counting(api, register, admin, config):
    alice, bob = register("alice"), register("bob")
    post = post_of(api, alice, title="Counted")
    kept = comment_on(api, bob, post["id"], "kept")
    gone = comment_on(api, bob, post["id"], "gone")

    def written():
        resp = api("GET", f"/api/analytics/user-activity/?user_id={bob['id']}", headers=bearer(admin))
        assert resp.status_code == 200, resp.text
        return resp.json()["comments_written"]

    wait_for(lambda: written() == 2, 30, interval=0.5, what="both comments counted")
    assert api("DELETE", f"/api/comments/{gone['id']}/", headers=bearer(bob)).status_code == 204
    api("PATCH", f"/api/posts/{post['id']}/", json={"content": "edited"}, headers=bearer(alice))
    api("PATCH", f"/api/comments/{kept['id']}/", json={"content": "kept, edited"}, headers=bearer(bob))
    api("POST", f"/api/comments/{kept['id']}/remove/", json={"reason": "spam"}, headers=bearer(admin))
    api("POST", f"/api/comments/{kept['id']}/restore/", json={"reason": "ok"}, headers=bearer(admin))
    wait_for(lambda: written() == 1, 30, interval=0.5, what="the deleted comment not counted")

    client = make_client(config)
    wanted = {"post.updated", "comment.updated", "comment.deleted", "content.removed",
              "content.restored"}

    def stored():
        rows = client.execute("SELECT DISTINCT type FROM events WHERE key = %(key)s",
                              {"key": str(post["id"])})
        return {row[0] for row in rows} >= wanted
    wait_for(stored, 30, interval=0.5, what="the new event types in ClickHouse's events")
    rows = client.execute("SELECT comment_id, author_id, deleted_by, placeholder FROM comment_deletions "
                          "WHERE post_id = %(pid)s", {"pid": post["id"]})
    assert set(rows) == {(gone["id"], bob["id"], bob["id"], 0)}


def test_a_placeholder_leaves_with_its_last_listed_reply_and_returns_with_it(api, register, admin,
                                                                             config):
    """Deleted a <- b <- c: removing c (b's only reply) takes b (live? no: deleted) and a out
    only when nothing below them is listed; a restore brings the chain back."""
    alice, bob = register("alice"), register("bob")
    pid = post_of(api, alice)["id"]
    a = comment_on(api, bob, pid, "a")
    b = comment_on(api, bob, pid, "b", parent=a["id"])
    c = comment_on(api, alice, pid, "c", parent=b["id"])
    for comment in (a, b):
        assert api("DELETE", f"/api/comments/{comment['id']}/", headers=bearer(bob)).status_code == 204
    rows, total = listed(api, pid)
    assert total == 3 and [(r["id"], r["is_deleted"]) for r in rows] == [
        (a["id"], True), (b["id"], True), (c["id"], False)]
    assert comments_count(api, pid) == 1

    assert api("POST", f"/api/comments/{c['id']}/remove/", json={"reason": "spam"},
               headers=bearer(admin)).status_code == 200
    assert listed(api, pid) == ([], 0)
    assert comments_count(api, pid) == 0
    assert error_of(api("GET", f"/api/comments/{a['id']}/")) == (404, "comment_not_found")
    # Cursor pages agree.
    resp = api("GET", f"/api/comments/?post_id={pid}&pagination=cursor")
    assert resp.status_code == 200 and resp.json() == []

    assert api("POST", f"/api/comments/{c['id']}/restore/", json={"reason": "ok"},
               headers=bearer(admin)).status_code == 200
    rows, total = listed(api, pid)
    assert total == 3 and [r["id"] for r in rows] == [a["id"], b["id"], c["id"]]
    assert rows[2]["content"] == "c" and rows[2]["author"]["id"] == alice["id"]
    assert api("GET", f"/api/comments/{a['id']}/").json()["is_deleted"] is True
    resp = api("GET", f"/api/comments/?post_id={pid}&pagination=cursor&limit=2")
    assert [r["id"] for r in resp.json()] == [a["id"], b["id"]] and 'rel="next"' in resp.headers["Link"]
    assert comments_count(api, pid) == 1
    # Deleting the last live reply takes every placeholder above it out (upward).
    assert api("DELETE", f"/api/comments/{c['id']}/", headers=bearer(alice)).status_code == 204
    assert listed(api, pid) == ([], 0)

    # The events name the placeholders that left (or came back) with it, nearest first.
    key = str(pid)
    moderation = [e for _, e in read_topic(config, "moderation-events", 2, keep=lambda e: e["key"] == key)]
    assert [(e["type"], e["payload"].get("unlisted"), e["payload"].get("relisted")) for e in moderation] == [
        ("content.removed", [b["id"], a["id"]], None), ("content.restored", None, [b["id"], a["id"]])]
    deleted = [e["payload"] for _, e in read_topic(config, "comment-events", 3, keep=lambda e: e["key"] == key
                                                   and e["type"] == "comment.deleted")]
    assert [(d["comment_id"], d["placeholder"], d["unlisted"]) for d in deleted] == [
        (a["id"], True, []), (b["id"], True, []), (c["id"], False, [b["id"], a["id"]])]
