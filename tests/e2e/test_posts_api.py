"""Posts, likes, comments and images over HTTP against the running stack."""
import io

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from PIL import Image

from tests.e2e.conftest import bearer
from tests.imagefiles import gif_bytes, jpeg_bytes, png_bomb, png_of_exact_size

pytestmark = pytest.mark.e2e
FIVE_MB = 5 * 1024 * 1024


def create(api, user, title="title", content="content", image=None, filename="a.jpg"):
    """multipart/form-data, as the contract has it (requests sends (None, value) as a field)."""
    files = {"title": (None, title), "content": (None, content)}
    if image is not None:
        files["image"] = (filename, image, "application/octet-stream")
    return api("POST", "/api/posts/", files=files, headers=bearer(user))


def error_of(resp):
    """(status, error code); the code None for a success."""
    return resp.status_code, (resp.json().get("error", {}).get("code") if resp.status_code >= 400 else None)


def make_admin(config, api, user):
    """set_admin, then the user's own token carries the right within 1 s (contract v2 §3.3:
    rights follow the stored flag, no new login needed)."""
    from imageboard_ops.util import wait_for

    with ClusterRpcProxy(config, timeout=10) as rpc:
        rpc.users.set_admin(user["username"])
    stats = "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-02"
    wait_for(lambda: api("GET", stats, headers=bearer(user)).status_code != 403, 1.0,
             interval=0.02, what="admin rights on the gateway")
    return user


def test_post_like_comment_delete_flow(api, register):
    alice, bob = register("alice"), register("bob")
    resp = create(api, alice, "Hello", "World", jpeg_bytes((640, 480), gps=True))
    assert resp.status_code == 201, resp.text
    post = resp.json()
    assert set(post) == {"id", "title", "content", "image_url", "author", "created_at", "likes_count"}
    assert post["author"] == alice["id"] and post["likes_count"] == 0
    image = api("GET", post["image_url"].split("://", 1)[1].split("/", 1)[1].join(["/", ""]))
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert b"SpyCam" not in image.content and Image.open(io.BytesIO(image.content)).size == (640, 480)
    thumb_path = "/" + post["image_url"].split("/", 3)[3].replace(".jpg", "_thumb.jpg")
    assert api("GET", thumb_path).status_code == 200

    liked = api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(bob)).json()
    assert liked == {"post_id": post["id"], "liked": True, "likes_count": 1, "message": "Post liked"}
    first = api("POST", "/api/comments/", json={"post_id": post["id"], "content": "nice"}, headers=bearer(bob))
    assert first.status_code == 201
    assert set(first.json()) == {"id", "post_id", "author", "content", "created_at", "parent"}
    reply = api("POST", "/api/comments/", headers=bearer(alice),
                json={"post_id": post["id"], "content": "thanks", "parent": first.json()["id"]})
    assert reply.status_code == 201 and reply.json()["parent"] == first.json()["id"]

    detail = api("GET", f"/api/posts/{post['id']}/").json()
    assert detail["likes"] == [{"user_id": bob["id"], "username": bob["username"]}]
    assert detail["likes_count"] == 1 and detail["comments_count"] == 2
    assert detail["author"] == {"id": alice["id"], "username": alice["username"], "avatar_url": None}
    listing = api("GET", f"/api/comments/?post_id={post['id']}")
    assert [c["content"] for c in listing.json()] == ["nice", "thanks"]
    assert listing.headers["X-Total-Count"] == "2" and 'rel="first"' in listing.headers["Link"]
    profile = api("GET", f"/api/users/profile/{bob['id']}/").json()
    assert profile["comments_count"] == 1 and profile["posts_count"] == 0

    unliked = api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(bob)).json()
    assert unliked["liked"] is False and unliked["likes_count"] == 0
    forbidden = api("DELETE", f"/api/posts/{post['id']}/", headers=bearer(bob))
    assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "not_post_author"
    assert api("DELETE", f"/api/posts/{post['id']}/", headers=bearer(alice)).status_code == 204
    for method, path in (("GET", f"/api/posts/{post['id']}/"), ("POST", f"/api/posts/{post['id']}/like/"),
                         ("DELETE", f"/api/posts/{post['id']}/"), ("GET", f"/api/comments/?post_id={post['id']}")):
        resp = api(method, path, headers=bearer(alice))
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "post_not_found", (method, path)


def test_admin_may_delete_any_post(api, register, config):
    author, admin = register("author"), make_admin(config, api, register("admin"))
    post = create(api, author).json()
    assert api("DELETE", f"/api/posts/{post['id']}/", headers=bearer(admin)).status_code == 204


@pytest.mark.parametrize("fields,status,code", [
    ({"title": "x" * 255, "content": "y" * 5000}, 201, None),
    ({"title": "x" * 256, "content": "y"}, 422, "validation_error"),
    ({"title": "x", "content": "y" * 5001}, 422, "validation_error"),
    ({"title": "", "content": "y"}, 422, "validation_error"),
    ({"content": "y"}, 400, "missing_fields"),
    ({"title": "x"}, 400, "missing_fields"),
])
def test_post_field_limits(api, register, fields, status, code):
    files = {name: (None, value) for name, value in fields.items()}
    resp = api("POST", "/api/posts/", files=files, headers=bearer(register()))
    assert error_of(resp) == (status, code), resp.text


@pytest.mark.parametrize("image,status,code", [
    (png_of_exact_size(FIVE_MB), 201, None),
    (png_of_exact_size(FIVE_MB + 1), 413, "image_too_large"),
    (gif_bytes(), 400, "invalid_image"),
    (b"<?php echo 'not an image'; ?>", 400, "invalid_image"),
    (png_bomb(), 400, "image_too_many_pixels"),
])
def test_image_limits(api, register, image, status, code):
    resp = create(api, register(), image=image, filename="picture.png")
    assert error_of(resp) == (status, code), resp.text[:300]


def test_declared_body_far_over_the_limit_is_413(api, register):
    resp = create(api, register(), image=b"\0" * (6 * 1024 * 1024))
    assert error_of(resp) == (413, "image_too_large"), resp.text[:300]


def test_protected_endpoints_need_a_token(api):
    for method, path in (("POST", "/api/posts/"), ("POST", "/api/posts/1/like/"),
                         ("DELETE", "/api/posts/1/"), ("POST", "/api/comments/")):
        resp = api(method, path, json={})
        assert error_of(resp) == (401, "not_authenticated"), (path, resp.text)
        assert resp.headers["WWW-Authenticate"].startswith("Bearer"), path


def test_feed_pagination_over_http(api, register):
    user = register()
    for i in range(3):
        create(api, user, title=f"p{i}")
    body = api("GET", "/api/posts/?limit=2&ordering=-created_at").json()
    assert len(body["results"]) == 2 and body["count"] >= 3 and body["previous"] is None
    assert body["next"].startswith("http://") and "ordering=-created_at" in body["next"] and "page=2" in body["next"]
    assert api("GET", body["next"].split("/", 3)[3].join(["/", ""])).json()["results"]
    past = api("GET", "/api/posts/?page=100000").json()
    assert past["results"] == [] and past["next"] is None
    assert api("GET", "/api/posts/?limit=100").status_code == 200
    for query, code in (("limit=101", "invalid_pagination"), ("limit=0", "invalid_pagination"),
                        ("page=0", "invalid_pagination"), ("page=abc", "invalid_pagination"),
                        ("ordering=title", "invalid_ordering")):
        resp = api("GET", f"/api/posts/?{query}")
        assert error_of(resp) == (400, code), (query, resp.text)


def test_comment_rules_over_http(api, register):
    user = register()
    post, other = create(api, user).json(), create(api, user).json()
    elsewhere = api("POST", "/api/comments/", json={"post_id": other["id"], "content": "x"}, headers=bearer(user)).json()
    cases = [
        ({"post_id": post["id"], "content": "x" * 1000}, 201, None),
        ({"post_id": post["id"], "content": "x" * 1001}, 422, "validation_error"),
        ({"post_id": post["id"], "content": ""}, 422, "validation_error"),
        ({"post_id": "abc", "content": "x"}, 422, "validation_error"),
        ({"content": "x"}, 400, "missing_fields"),
        ({"post_id": post["id"]}, 400, "missing_fields"),
        ({"post_id": 10**15, "content": "x"}, 404, "post_not_found"),
        ({"post_id": post["id"], "content": "x", "parent": elsewhere["id"]}, 400, "invalid_parent"),
        ({"post_id": post["id"], "content": "x", "parent": 10**15}, 400, "invalid_parent"),
    ]
    for payload, status, code in cases:
        resp = api("POST", "/api/comments/", json=payload, headers=bearer(user))
        assert error_of(resp) == (status, code), (payload, resp.text)
    for query, status, code in (
            ("", 400, "invalid_post_id"), ("post_id=abc", 400, "invalid_post_id"),
            ("post_id=0", 400, "invalid_post_id"), (f"post_id={10**15}", 404, "post_not_found"),
            (f"post_id={post['id']}&limit=101", 400, "invalid_pagination"),
            (f"post_id={post['id']}&limit=100", 200, None)):
        resp = api("GET", f"/api/comments/?{query}")
        assert error_of(resp) == (status, code), (query, resp.text)
    assert api("GET", f"/api/posts/{post['id']}/").json()["comments_count"] == 1
