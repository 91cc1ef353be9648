"""Mass assignment (OWASP API3:2023, Broken Object Property Level Authorization): fields a
client may not set, sent in a request body, are ignored. What is created belongs to the
caller (from the verified token), starts at zero and carries the server's time and id:

- registration with is_admin (and friends) makes no admin: the token says is_admin false,
  and after a login the admin-only statistics answer 403 `admin_required`;
- a post (multipart and JSON) with author/author_id/likes_count/comments_count/created_at/
  updated_at/id/image_url/image_upload is the caller's, with 0 likes and comments, the
  server's time, a new id and no image;
- a comment with author/author_id/id/created_at/updated_at/username is the caller's;
- a like or a mark-read with someone else's user_id in the body acts for the caller.

Request models are open (contracts/schemas/types.py: extra="ignore"): unknown fields are
dropped, not refused, so the codes are the ordinary 201/200. The one internal field a client
could once set, `image_upload` in a JSON post (the gateway's name for a file it wrote), is now
dropped by the gateway (gateway/uploads.py).
"""
import base64
import datetime
import json
import time

import pytest

from tests.e2e.conftest import bearer
from tests.security.conftest import multipart

pytestmark = pytest.mark.e2e

LONG_AGO = "2001-01-01T00:00:00+00:00"
NOT_OURS = 987_654_321  # an id nobody has: a client's wish for its new row's id


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def assert_server_time(value, before, after):
    stamp = datetime.datetime.fromisoformat(value)
    assert before - datetime.timedelta(seconds=2) <= stamp <= after + datetime.timedelta(seconds=2), \
        (value, before, after)


def test_registering_with_is_admin_makes_no_admin(api, config, unique):
    name = f"sneaky_{unique}"[:32]
    before = now()
    resp = api("POST", "/api/users/register/", json={
        "username": name, "email": f"{name}@example.com", "password": "password1",
        "is_admin": True, "admin": True, "is_staff": True, "is_superuser": True,
        "role": "admin", "id": NOT_OURS, "created_at": LONG_AGO})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["id"] != NOT_OURS
    assert_server_time(body["created_at"], before, now())
    assert claims(body["token"])["is_admin"] is False
    assert set(body) == {"id", "username", "email", "token", "created_at"}

    login = api("POST", "/api/users/login/", json={"username": name, "password": "password1",
                                                   "is_admin": True})
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    assert claims(token)["is_admin"] is False
    if "analytics" not in config["SERVICES"]:
        pytest.skip("the analytics service is not deployed")
    stats = api("GET", "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-31",
                headers={"Authorization": f"Bearer {token}"})
    assert stats.status_code == 403, stats.text
    assert stats.json()["error"]["code"] == "admin_required"


FORGED_POST_FIELDS = {"likes_count": "99", "comments_count": "7", "created_at": LONG_AGO,
                      "updated_at": LONG_AGO, "id": str(NOT_OURS),
                      "image_url": "https://evil.example/x.png"}


def assert_post_is_the_callers(api, created, owner, before, after):
    assert created["author"] == owner["id"]
    assert created["likes_count"] == 0
    assert created["id"] != NOT_OURS
    assert created["image_url"] is None
    assert_server_time(created["created_at"], before, after)
    detail = api("GET", f"/api/posts/{created['id']}/")
    assert detail.status_code == 200, detail.text
    detail = detail.json()
    assert detail["author"] == {"id": owner["id"], "username": owner["username"], "avatar_url": None}
    assert (detail["likes_count"], detail["comments_count"], detail["likes"]) == (0, 0, [])
    assert detail["created_at"] == created["created_at"]
    assert detail["image_url"] is None


def test_a_multipart_post_ignores_author_counts_times_and_id(api, register):
    owner, victim = register("ma_owner"), register("ma_victim")
    before = now()
    resp = api("POST", "/api/posts/", headers=bearer(owner), files=multipart(
        title="mine", content="really mine", author=str(victim["id"]),
        author_id=str(victim["id"]), **FORGED_POST_FIELDS))
    assert resp.status_code == 201, resp.text
    assert_post_is_the_callers(api, resp.json(), owner, before, now())


def test_a_json_post_ignores_author_counts_times_id_and_the_upload_reference(api, register):
    owner, victim = register("ma_jowner"), register("ma_jvictim")
    before = now()
    body = {"title": "mine", "content": "json body", "author": victim["id"],
            "author_id": victim["id"], "likes_count": 99, "comments_count": 7,
            "created_at": LONG_AGO, "updated_at": LONG_AGO, "id": NOT_OURS,
            "image_url": "https://evil.example/x.png",
            # The gateway's own name for an uploaded file: a client's must not be taken
            # (it answered 400 "The uploaded file is gone" before gateway/uploads.py dropped it).
            "image_upload": "0123456789abcdef0123456789abcdef.upload"}
    resp = api("POST", "/api/posts/", headers=bearer(owner), json=body)
    assert resp.status_code == 201, resp.text
    assert_post_is_the_callers(api, resp.json(), owner, before, now())


def test_a_comment_ignores_author_times_and_id(api, register, new_post):
    owner, commenter, victim = register("mc_owner"), register("mc_author"), register("mc_victim")
    post = new_post(owner)
    before = now()
    resp = api("POST", "/api/comments/", headers=bearer(commenter), json={
        "post_id": post["id"], "content": "my words", "author": victim["id"],
        "author_id": victim["id"], "username": victim["username"], "id": NOT_OURS,
        "created_at": LONG_AGO, "updated_at": LONG_AGO, "likes_count": 5})
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["author"] == commenter["id"]
    assert created["id"] != NOT_OURS
    assert created["parent"] is None
    assert_server_time(created["created_at"], before, now())
    listed = api("GET", f"/api/comments/?post_id={post['id']}").json()
    assert [(c["id"], c["author"]) for c in listed] == [
        (created["id"], {"id": commenter["id"], "username": commenter["username"],
                         "avatar_url": None})]
    assert listed[0]["created_at"] == created["created_at"]


def test_a_like_is_the_callers_whatever_user_id_the_body_names(api, register, new_post):
    owner, liker, victim = register("ml_owner"), register("ml_liker"), register("ml_victim")
    post = new_post(owner)
    resp = api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(liker),
               json={"user_id": victim["id"], "liked": False, "likes_count": 50})
    assert resp.status_code == 200, resp.text
    toggled = resp.json()
    assert (toggled["post_id"], toggled["liked"], toggled["likes_count"]) == (post["id"], True, 1)
    likes = api("GET", f"/api/posts/{post['id']}/").json()["likes"]
    assert likes == [{"user_id": liker["id"], "username": liker["username"]}]


def test_mark_read_ignores_a_body(api, config, register):
    if "notifications" not in config["SERVICES"]:
        pytest.skip("the notifications service is not deployed")
    user = register("mn_user")
    # The welcome notification of the registration (decision 7) arrives through Kafka.
    deadline = time.monotonic() + 30
    while True:
        listed = api("GET", "/api/notifications/", headers=bearer(user)).json()
        if listed or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert listed, "no welcome notification"
    notification = listed[0]
    resp = api("PATCH", f"/api/notifications/{notification['id']}/mark-read/",
               headers=bearer(user), json={"read": False, "user_id": 1, "id": NOT_OURS})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"id": notification["id"], "read": True}
