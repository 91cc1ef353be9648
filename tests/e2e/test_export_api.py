"""GET /api/users/me/export/ on the running stack (contract v2 section 6.4): everything a
user made and received, oldest first, as a download; nobody else's data; limited."""
import json
import time

import pytest

from tests.e2e.conftest import bearer
from tests.imagefiles import png_bytes
from tests.openapi_check import assert_conforms

pytestmark = pytest.mark.e2e


def poll(fetch, done, timeout=20):
    """The last value fetched once `done` holds or `timeout` passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def ok(resp, status=200):
    assert resp.status_code == status, resp.text
    return resp.json()


def test_the_export_holds_what_the_user_made_and_received_and_nothing_else(api, register):
    alice, bob = register("exa"), register("exb")
    first = ok(api("POST", "/api/posts/", headers=bearer(alice), files={
        "title": (None, "first of alice"), "content": (None, "one"),
        "image": ("p.png", png_bytes((8, 8)), "image/png")}), 201)
    second = ok(api("POST", "/api/posts/", headers=bearer(alice), files={
        "title": (None, "second of alice"), "content": (None, "two")}), 201)
    bobs_post = ok(api("POST", "/api/posts/", headers=bearer(bob), files={
        "title": (None, "of bob"), "content": (None, "bob's")}), 201)
    ok(api("POST", f"/api/posts/{first['id']}/like/", headers=bearer(bob)))
    ok(api("POST", f"/api/posts/{bobs_post['id']}/like/", headers=bearer(alice)))
    ok(api("POST", f"/api/posts/{first['id']}/like/", headers=bearer(alice)))
    mine = ok(api("POST", "/api/comments/", headers=bearer(alice),
                  json={"post_id": bobs_post["id"], "content": "alice on bob"}), 201)
    ok(api("POST", "/api/comments/", headers=bearer(bob),
           json={"post_id": first["id"], "content": "bob on alice"}), 201)
    # Welcome, bob's like and bob's comment reach alice through Kafka.
    received = poll(lambda: ok(api("GET", "/api/notifications/", headers=bearer(alice))),
                    lambda rows: len(rows) >= 3)
    assert len(received) == 3, received

    resp = api("GET", "/api/users/me/export/", headers=bearer(alice))
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Content-Disposition"] == (
        f'attachment; filename="imageboard-export-{alice["id"]}.json"')
    assert (resp.headers["X-RateLimit-Limit"], resp.headers["X-RateLimit-Remaining"]) == ("5", "4")
    export = assert_conforms(resp)

    assert {k: export["profile"][k] for k in ("id", "username", "email", "is_admin", "ban",
                                             "posts_count", "comments_count", "bio", "avatar_url")} == {
        "id": alice["id"], "username": alice["username"], "email": alice["email"],
        "is_admin": False, "ban": None, "posts_count": 2, "comments_count": 1, "bio": "",
        "avatar_url": None}
    posts = export["posts"]
    assert [p["id"] for p in posts] == [first["id"], second["id"]]  # oldest first, only hers
    assert posts[0]["image_url"] == first["image_url"]
    assert [like["user_id"] for like in posts[0]["likes"]] == [bob["id"], alice["id"]]
    assert (posts[0]["likes_count"], posts[0]["comments_count"]) == (2, 1)
    assert all(p["removed"] is False and p["removed_reason"] is None for p in posts)
    assert [(c["id"], c["content"], c["author"]["id"]) for c in export["comments"]] == [
        (mine["id"], "alice on bob", alice["id"])]
    assert [like["post_id"] for like in export["likes"]] == [bobs_post["id"], first["id"]]
    assert export["likes"][0]["created_at"] <= export["likes"][1]["created_at"]
    assert [n["id"] for n in export["notifications"]] == sorted(n["id"] for n in received)
    # The welcome (user-events) and the like (post-events) come through different topics:
    # either may be stored first. Oldest first is by the time each was stored.
    assert sorted(n["type"] for n in export["notifications"]) == ["COMMENT", "LIKE", "SYSTEM"]
    times = [n["created_at"] for n in export["notifications"]]
    assert times == sorted(times)
    assert export["reports"] == []
    assert abs(time.time() - _epoch(export["exported_at"])) < 60

    # Bob's own things are not in it: his post, his comment, his email.
    text = json.dumps(export)
    assert "bob's" not in text and "bob on alice" not in text and bob["email"] not in text
    bobs_export = ok(api("GET", "/api/users/me/export/", headers=bearer(bob)))
    assert [p["id"] for p in bobs_export["posts"]] == [bobs_post["id"]]
    assert alice["email"] not in json.dumps(bobs_export)


def test_the_export_needs_a_token_and_is_limited_to_five_an_hour(api, register):
    assert api("GET", "/api/users/me/export/").status_code == 401
    user = register("exlim")
    answers = [api("GET", "/api/users/me/export/", headers=bearer(user)) for _ in range(6)]
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 3600
    assert_conforms(answers[-1])


def _epoch(text):
    from datetime import datetime
    return datetime.fromisoformat(text).timestamp()
