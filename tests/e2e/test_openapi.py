"""Real responses of the running stack, for every operation and its error statuses,
validated against the OpenAPI document (tests/openapi_check.py)."""
import io
from urllib.parse import urlparse

import pytest
from PIL import Image

from imageboard.tokens import issue_token
from tests.e2e.conftest import bearer
from tests.e2e.test_posts_api import make_admin
from tests.openapi_check import DOCUMENT, assert_conforms

pytestmark = pytest.mark.e2e


def needs(config, service):
    if service not in config["SERVICES"]:
        pytest.skip(f"the {service} service is not deployed in this configuration")


def png_bytes():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buf, "PNG")
    return buf.getvalue()


def form(image=None, **fields):
    """multipart/form-data fields (requests sends form-urlencoded unless given files)."""
    parts = {name: (None, value) for name, value in fields.items()}
    if image is not None:
        parts["image"] = image
    return parts


def check(api, method, path, status, **kwargs):
    resp = api(method, path, **kwargs)
    assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text[:300]}"
    return assert_conforms(resp)


def test_document_served_equals_the_module(api):
    assert api("GET", "/api/openapi.json").json() == DOCUMENT
    assert "Imageboard API" in api("GET", "/api/docs/").text


def test_operations_and_users(api, register, unique):
    check(api, "GET", "/health", 200)
    check(api, "GET", "/ready", 200)
    check(api, "GET", "/api/openapi.json", 200)
    check(api, "GET", "/api/docs/", 200)
    user = register()
    name = f"oa_{unique}"
    check(api, "POST", "/api/users/register/", 201,
          json={"username": name, "email": f"{name}@example.com", "password": "password1"})
    check(api, "POST", "/api/users/register/", 400,
          json={"username": name, "email": f"{name}@example.com", "password": "password1"})
    check(api, "POST", "/api/users/register/", 400, json={"username": name})
    check(api, "POST", "/api/users/register/", 422,
          json={"username": "x", "email": "bad", "password": "p"})
    check(api, "POST", "/api/users/register/", 400, data=b"{not json")
    check(api, "POST", "/api/users/login/", 200,
          json={"username": name, "password": "password1"})
    check(api, "POST", "/api/users/login/", 401, json={"username": name, "password": "wrong-one"})
    profile = check(api, "GET", f"/api/users/profile/{user['id']}/", 200)
    assert "email" not in profile
    own = check(api, "GET", f"/api/users/profile/{user['id']}/", 200, headers=bearer(user))
    assert own["email"] == user["email"]
    check(api, "GET", "/api/users/profile/2147483647/", 404)
    check(api, "GET", f"/api/users/profile/{user['id']}/", 401,
          headers={"Authorization": "Bearer not.a.token"})


def test_me_and_avatar(api, register, unique):
    user = register()
    check(api, "GET", "/api/users/me/", 200, headers=bearer(user))
    check(api, "GET", "/api/users/me/", 401)
    check(api, "PATCH", "/api/users/me/", 200, headers=bearer(user), json={"bio": "documented"})
    check(api, "PATCH", "/api/users/me/", 400, headers=bearer(user), json={})
    check(api, "PATCH", "/api/users/me/", 400, headers=bearer(user),
          json={"email": register()["email"]})
    check(api, "PATCH", "/api/users/me/", 422, headers=bearer(user), json={"bio": "x" * 501})
    me = check(api, "PUT", "/api/users/me/avatar/", 200, headers=bearer(user),
               files={"avatar": ("a.png", png_bytes(), "image/png")})
    check(api, "GET", urlparse(me["avatar_url"]).path, 200)
    check(api, "PUT", "/api/users/me/avatar/", 400, headers=bearer(user),
          files={"avatar": ("a.png", b"GIF89a not a png", "image/png")})
    check(api, "PUT", "/api/users/me/avatar/", 400, headers=bearer(user), files=form(x="y"))
    check(api, "PUT", "/api/users/me/avatar/", 413, headers=bearer(user),
          files={"avatar": ("a.png", b"\0" * (5 * 1024 * 1024 + 1), "image/png")})
    check(api, "DELETE", "/api/users/me/avatar/", 204, headers=bearer(user))
    check(api, "DELETE", "/api/users/me/avatar/", 401)


def test_metrics(api):
    """/metrics is routed (gateway/app.py) and documented: a 404 is a failure, not a skip."""
    assert "/metrics" in DOCUMENT["paths"]
    check(api, "GET", "/metrics", 200)


def test_posts(api, config, register):
    needs(config, "posts")
    author, other = register(), register()
    check(api, "POST", "/api/posts/", 401, files=form(title="t", content="c"))
    created = check(api, "POST", "/api/posts/", 201, headers=bearer(author),
                    files=form(title="OpenAPI", content="checked",
                               image=("a.png", png_bytes(), "image/png")))
    assert created["image_url"].startswith("http")
    check(api, "GET", urlparse(created["image_url"]).path, 200)
    check(api, "POST", "/api/posts/", 201, headers=bearer(author),
          files=form(title="no image", content="text only"))
    check(api, "POST", "/api/posts/", 400, headers=bearer(author), files=form(content="no title"))
    check(api, "POST", "/api/posts/", 400, headers=bearer(author),
          files=form(title="t", content="c", image=("a.png", b"GIF89a not a png", "image/png")))
    page = check(api, "GET", "/api/posts/?limit=1&ordering=-likes_count", 200)
    assert page["next"] is not None
    nxt = urlparse(page["next"])
    check(api, "GET", f"{nxt.path}?{nxt.query}", 200)
    check(api, "GET", "/api/posts/?ordering=title", 400)
    check(api, "GET", "/api/posts/?limit=1000", 400)
    liked = check(api, "POST", f"/api/posts/{created['id']}/like/", 200, headers=bearer(other))
    assert liked["liked"] is True
    detail = check(api, "GET", f"/api/posts/{created['id']}/", 200)
    assert detail["likes"] == [{"user_id": other["id"], "username": other["username"]}]
    check(api, "GET", "/api/posts/2147483647/", 404)
    check(api, "POST", "/api/posts/2147483647/like/", 404, headers=bearer(other))
    check(api, "DELETE", f"/api/posts/{created['id']}/", 403, headers=bearer(other))
    check(api, "DELETE", f"/api/posts/{created['id']}/", 204, headers=bearer(author))


def test_comments(api, config, register):
    needs(config, "comments")
    author = register()
    post = api("POST", "/api/posts/", headers=bearer(author),
               files=form(title="c", content="c")).json()
    first = check(api, "POST", "/api/comments/", 201, headers=bearer(author),
                  json={"post_id": post["id"], "content": "first"})
    check(api, "POST", "/api/comments/", 201, headers=bearer(author),
          json={"post_id": post["id"], "content": "reply", "parent": first["id"]})
    check(api, "POST", "/api/comments/", 404, headers=bearer(author),
          json={"post_id": 2147483647, "content": "x"})
    check(api, "POST", "/api/comments/", 400, headers=bearer(author), json={"content": "x"})
    check(api, "POST", "/api/comments/", 422, headers=bearer(author),
          json={"post_id": post["id"], "content": "x" * 1001})
    listed = check(api, "GET", f"/api/comments/?post_id={post['id']}&limit=1", 200)
    assert len(listed) == 1
    check(api, "GET", "/api/comments/", 400)


def test_content_lifecycle(api, config, register):
    """Contract v2 section 4: edit, comment detail and deletion, removal and restore."""
    needs(config, "comments")
    author, other = register(), register()
    admin = make_admin(config, api, register())
    post = api("POST", "/api/posts/", headers=bearer(author), files=form(title="l", content="c")).json()
    pid = post["id"]
    edited = check(api, "PATCH", f"/api/posts/{pid}/", 200, headers=bearer(author),
                   json={"title": "edited"})
    assert edited["edited"] is True
    check(api, "PATCH", f"/api/posts/{pid}/", 403, headers=bearer(other), json={"title": "x"})
    check(api, "PATCH", f"/api/posts/{pid}/", 400, headers=bearer(author), json={})
    check(api, "PATCH", f"/api/posts/{pid}/", 422, headers=bearer(author), json={"title": ""})
    check(api, "PATCH", "/api/posts/2147483647/", 404, headers=bearer(author), json={"title": "x"})
    first = api("POST", "/api/comments/", headers=bearer(other),
                json={"post_id": pid, "content": "first"}).json()
    api("POST", "/api/comments/", headers=bearer(other),
        json={"post_id": pid, "content": "reply", "parent": first["id"]})
    check(api, "GET", f"/api/comments/{first['id']}/", 200)
    check(api, "GET", "/api/comments/2147483647/", 404)
    check(api, "PATCH", f"/api/comments/{first['id']}/", 200, headers=bearer(other),
          json={"content": "changed"})
    check(api, "PATCH", f"/api/comments/{first['id']}/", 403, headers=bearer(author),
          json={"content": "changed"})
    check(api, "PATCH", f"/api/comments/{first['id']}/", 422, headers=bearer(other),
          json={"content": "x" * 1001})
    for kind, item in (("posts", pid), ("comments", first["id"])):
        check(api, "POST", f"/api/{kind}/{item}/remove/", 403, headers=bearer(other),
              json={"reason": "spam"})
        check(api, "POST", f"/api/{kind}/{item}/remove/", 400, headers=bearer(admin), json={})
        check(api, "POST", f"/api/{kind}/{item}/remove/", 422, headers=bearer(admin),
              json={"reason": ""})
        check(api, "POST", f"/api/{kind}/2147483647/remove/", 404, headers=bearer(admin),
              json={"reason": "spam"})
        check(api, "POST", f"/api/{kind}/{item}/restore/", 409, headers=bearer(admin),
              json={"reason": "ok"})
        removed = check(api, "POST", f"/api/{kind}/{item}/remove/", 200, headers=bearer(admin),
                        json={"reason": "spam"})
        assert removed["removed_reason"] == "spam"
        check(api, "POST", f"/api/{kind}/{item}/remove/", 409, headers=bearer(admin),
              json={"reason": "spam"})
        check(api, "GET", f"/api/{kind}/{item}/", 200, headers=bearer(admin))
        check(api, "GET", f"/api/{kind}/{item}/", 404)
        check(api, "POST", f"/api/{kind}/{item}/restore/", 200, headers=bearer(admin),
              json={"reason": "ok"})
    check(api, "DELETE", f"/api/comments/{first['id']}/", 403, headers=bearer(author))
    check(api, "DELETE", f"/api/comments/{first['id']}/", 204, headers=bearer(other))
    check(api, "DELETE", f"/api/comments/{first['id']}/", 404, headers=bearer(other))


def test_notifications(api, config, register):
    needs(config, "notifications")
    user = register()
    check(api, "GET", "/api/notifications/", 401)
    check(api, "GET", "/api/notifications/?unread_only=true", 200, headers=bearer(user))
    check(api, "GET", "/api/notifications/unread-count/", 200, headers=bearer(user))
    check(api, "POST", "/api/notifications/mark-all-read/", 200, headers=bearer(user))
    check(api, "PATCH", "/api/notifications/2147483647/mark-read/", 404, headers=bearer(user))


def test_sessions(api, register):
    """Contract v2 §6.1: logout, logout-all, password change and token_revoked."""
    import time

    user = register()
    password = "/api/users/me/password/"
    check(api, "POST", password, 422, headers=bearer(user),
          json={"current_password": "wrong-one", "new_password": "password2"})
    check(api, "POST", password, 422, headers=bearer(user),
          json={"current_password": "password1", "new_password": "short"})
    check(api, "POST", password, 400, headers=bearer(user), json={})
    check(api, "POST", password, 401, json={"current_password": "a", "new_password": "b" * 8})
    check(api, "POST", password, 204, headers=bearer(user),
          json={"current_password": "password1", "new_password": "password2"})
    check(api, "POST", "/api/users/logout/", 401)
    check(api, "POST", "/api/users/logout/", 204, headers=bearer(user))
    deadline = time.monotonic() + 1.0
    while api("GET", "/api/users/profile/1/", headers=bearer(user)).status_code != 401:
        assert time.monotonic() < deadline, "logout not applied within 1 s"
        time.sleep(0.01)
    check(api, "POST", "/api/users/logout-all/", 401, headers=bearer(user))  # token_revoked
    other = register()
    check(api, "POST", "/api/users/logout-all/", 204, headers=bearer(other))


def test_analytics(api, config, register):
    needs(config, "analytics")
    user = register()
    check(api, "GET", "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-31",
          403, headers=bearer(user))
    # Rights follow the stored flag (contract v2 §3.3), not the token's is_admin claim.
    claimed = {"token": issue_token(config, user["id"], user["username"], True)}
    check(api, "GET", "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-31",
          403, headers=bearer(claimed))
    admin = make_admin(config, api, register())
    check(api, "GET", "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-31",
          200, headers=bearer(admin))
    check(api, "GET", "/api/analytics/posts/stats/?start_date=2026-02-01&end_date=2026-01-01",
          400, headers=bearer(admin))
    check(api, "GET", "/api/analytics/user-activity/", 200, headers=bearer(user))
    check(api, "GET", "/api/analytics/user-activity/?user_id=2147483647", 404, headers=bearer(user))
