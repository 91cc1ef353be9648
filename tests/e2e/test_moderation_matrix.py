"""Who may call each endpoint of contract v2 sections 4, 5 and 8.3 (anonymous, a user, an
item's author, a banned user, an admin): the exact status and error code of each cell, checks in the order of section 3.2
(401; 403 user_banned, admin_required; then the responder's own)."""
import pytest
import requests

from imageboard_ops.util import wait_for
from tests.e2e.conftest import bearer
from tests.e2e.test_posts_api import create

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def people(stack, config):
    """{"anonymous": None, "user", "banned", "admin"} and a post of a fifth user."""
    from nameko.standalone.rpc import ClusterRpcProxy
    import uuid

    session = requests.Session()

    def api(method, path, **kwargs):
        return session.request(method, stack + path, timeout=15, **kwargs)

    tag = uuid.uuid4().hex[:8]

    def register(prefix):
        name = f"{prefix}_{tag}"
        resp = api("POST", "/api/users/register/", json={
            "username": name, "email": f"{name}@example.com", "password": "password1"})
        assert resp.status_code == 201, resp.text
        return resp.json()

    user, banned, admin, author = (register(p) for p in ("mxuser", "mxbanned", "mxadmin", "mxauthor"))
    with ClusterRpcProxy(config, timeout=10) as rpc:
        rpc.users.set_admin(admin["username"])
    wait_for(lambda: api("GET", "/api/reports/", headers=bearer(admin)).status_code == 200, 2.0,
             interval=0.02, what="admin rights")
    resp = api("POST", f"/api/users/{banned['id']}/ban/", json={"reason": "matrix", "days": 1},
               headers=bearer(admin))
    assert resp.status_code == 200, resp.text
    wait_for(lambda: api("PATCH", "/api/users/me/", json={}, headers=bearer(banned)).status_code == 403,
             1.0, interval=0.02, what="the ban")
    post = create(api, author, "matrix", "target").json()
    return {"api": api, "anonymous": None, "user": user, "banned": banned, "admin": admin,
            "author": author, "post": post}


def call(people, who, method, path, **kwargs):
    headers = bearer(people[who]) if people[who] else {}
    resp = people["api"](method, path, headers=headers, **kwargs)
    code = resp.json().get("error", {}).get("code") if resp.status_code >= 400 and resp.content else None
    return resp.status_code, code


def open_report(people, reporter="user"):
    """A fresh open report (on a fresh post of the author)."""
    post = create(people["api"], people["author"], "matrix", "target").json()
    status, _ = call(people, reporter, "POST", "/api/reports/",
                     json={"target_type": "post", "target_id": post["id"], "reason": "spam"})
    assert status == 201
    listed = call_json(people, "admin", "GET", "/api/reports/?status=open&limit=1")
    return listed["results"][0]["id"]


def call_json(people, who, method, path, **kwargs):
    return people["api"](method, path, headers=bearer(people[who]), **kwargs).json()


def test_create_report(people):
    def body():
        post = create(people["api"], people["author"], "matrix", "target").json()
        return {"target_type": "post", "target_id": post["id"], "reason": "spam"}
    assert call(people, "anonymous", "POST", "/api/reports/", json=body()) == (401, "not_authenticated")
    assert call(people, "user", "POST", "/api/reports/", json=body()) == (201, None)
    assert call(people, "banned", "POST", "/api/reports/", json=body()) == (403, "user_banned")
    assert call(people, "admin", "POST", "/api/reports/", json=body()) == (201, None)


def test_list_reports(people):
    path = "/api/reports/"
    assert call(people, "anonymous", "GET", path) == (401, "not_authenticated")
    assert call(people, "user", "GET", path) == (403, "admin_required")
    assert call(people, "banned", "GET", path) == (403, "admin_required")  # a read: not user_banned
    assert call(people, "admin", "GET", path) == (200, None)


def test_resolve_report(people):
    report_id = open_report(people)
    path = f"/api/reports/{report_id}/resolve/"
    body = {"action": "dismiss"}
    assert call(people, "anonymous", "POST", path, json=body) == (401, "not_authenticated")
    assert call(people, "user", "POST", path, json=body) == (403, "admin_required")
    assert call(people, "banned", "POST", path, json=body) == (403, "user_banned")
    assert call(people, "admin", "POST", path, json=body) == (200, None)
    # The admin checks come before the object's: a missing report is 403 to a user.
    assert call(people, "user", "POST", "/api/reports/2000000000/resolve/", json=body) == \
        (403, "admin_required")


def test_ban(people):
    target = people["author"]["id"]
    path = f"/api/users/{target}/ban/"
    body = {"reason": "matrix", "days": 1}
    assert call(people, "anonymous", "POST", path, json=body) == (401, "not_authenticated")
    assert call(people, "user", "POST", path, json=body) == (403, "admin_required")
    assert call(people, "banned", "POST", path, json=body) == (403, "user_banned")
    assert call(people, "admin", "POST", path, json=body) == (200, None)
    assert call(people, "admin", "POST", f"/api/users/{people['admin']['id']}/ban/", json=body) == \
        (403, "cannot_ban_admin")


def test_unban(people):
    target = people["author"]["id"]
    path = f"/api/users/{target}/ban/"
    status, _ = call(people, "admin", "POST", path, json={"reason": "matrix", "days": 1})
    assert status == 200
    assert call(people, "anonymous", "DELETE", path) == (401, "not_authenticated")
    assert call(people, "user", "DELETE", path) == (403, "admin_required")
    assert call(people, "banned", "DELETE", path) == (403, "user_banned")
    assert call(people, "admin", "DELETE", path) == (204, None)
    assert call(people, "admin", "DELETE", path) == (404, "not_banned")


def test_modlog(people):
    for who in ("anonymous", "user", "banned", "admin"):
        assert call(people, who, "GET", "/api/modlog/") == (200, None), who
    assert call(people, "anonymous", "GET", "/api/modlog/?action=x") == (400, "invalid_action")


# ---- the content lifecycle (section 4): author-only edits, author-or-admin deletion, admin
# removal; a banned user's writes are 403 user_banned before any other check but 401.
def fresh_post(people):
    return create(people["api"], people["author"], "matrix", "target").json()["id"]


def fresh_comment(people, post_id=None):
    post_id = post_id or people["post"]["id"]
    resp = people["api"]("POST", "/api/comments/", headers=bearer(people["author"]),
                         json={"post_id": post_id, "content": "matrix comment"})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def test_edit_post(people):
    path = f"/api/posts/{fresh_post(people)}/"
    body = {"title": "edited"}
    assert call(people, "anonymous", "PATCH", path, json=body) == (401, "not_authenticated")
    assert call(people, "user", "PATCH", path, json=body) == (403, "forbidden")
    assert call(people, "banned", "PATCH", path, json=body) == (403, "user_banned")
    assert call(people, "admin", "PATCH", path, json=body) == (403, "forbidden")
    assert call(people, "author", "PATCH", path, json=body) == (200, None)
    assert call(people, "author", "PATCH", "/api/posts/2000000000/", json=body) == \
        (404, "post_not_found")


def test_read_edit_and_delete_a_comment(people):
    path = f"/api/comments/{fresh_comment(people)}/"
    body = {"content": "edited"}
    for who in ("anonymous", "user", "banned", "admin", "author"):
        assert call(people, who, "GET", path) == (200, None), who
    assert call(people, "anonymous", "PATCH", path, json=body) == (401, "not_authenticated")
    assert call(people, "user", "PATCH", path, json=body) == (403, "forbidden")
    assert call(people, "banned", "PATCH", path, json=body) == (403, "user_banned")
    assert call(people, "admin", "PATCH", path, json=body) == (403, "forbidden")
    assert call(people, "author", "PATCH", path, json=body) == (200, None)
    assert call(people, "anonymous", "DELETE", path) == (401, "not_authenticated")
    assert call(people, "user", "DELETE", path) == (403, "forbidden")
    assert call(people, "banned", "DELETE", path) == (403, "user_banned")
    assert call(people, "author", "DELETE", path) == (204, None)
    assert call(people, "author", "DELETE", path) == (404, "comment_not_found")
    by_admin = f"/api/comments/{fresh_comment(people)}/"
    assert call(people, "admin", "DELETE", by_admin) == (204, None)


@pytest.mark.parametrize("kind", ["posts", "comments"])
def test_remove_and_restore(people, kind):
    item = fresh_post(people) if kind == "posts" else fresh_comment(people)
    remove, restore = f"/api/{kind}/{item}/remove/", f"/api/{kind}/{item}/restore/"
    missing = "post_not_found" if kind == "posts" else "comment_not_found"
    body = {"reason": "matrix"}
    for path in (remove, restore):
        assert call(people, "anonymous", "POST", path, json=body) == (401, "not_authenticated")
        assert call(people, "user", "POST", path, json=body) == (403, "admin_required")
        assert call(people, "author", "POST", path, json=body) == (403, "admin_required")
        assert call(people, "banned", "POST", path, json=body) == (403, "user_banned")
    assert call(people, "admin", "POST", restore, json=body) == (409, "not_removed")
    assert call(people, "admin", "POST", remove, json={}) == (400, "missing_fields")
    assert call(people, "admin", "POST", remove, json=body) == (200, None)
    assert call(people, "admin", "POST", remove, json=body) == (409, "already_removed")
    detail = f"/api/{kind}/{item}/"
    for who in ("anonymous", "user", "author", "banned"):  # the author too (section 4.3)
        assert call(people, who, "GET", detail) == (404, missing), who
    assert call(people, "admin", "GET", detail) == (200, None)
    assert call(people, "admin", "POST", restore, json=body) == (200, None)
    assert call(people, "anonymous", "GET", detail) == (200, None)
    assert call(people, "admin", "POST", f"/api/{kind}/2000000000/remove/", json=body) == \
        (404, missing)


def test_moderation_analytics(people):
    path = "/api/analytics/moderation/"
    assert call(people, "anonymous", "GET", path) == (401, "not_authenticated")
    assert call(people, "user", "GET", path) == (403, "admin_required")
    assert call(people, "author", "GET", path) == (403, "admin_required")
    assert call(people, "banned", "GET", path) == (403, "admin_required")
    assert call(people, "admin", "GET", path) == (200, None)
