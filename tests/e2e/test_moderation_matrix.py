"""Who may call each endpoint of contract v2 section 5 (anonymous, a user, a banned user,
an admin): the exact status and error code of each cell, checks in the order of section 3.2
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
