"""Contract v2 section 4 at the gateway, with a fake RPC client: who may call what, what
reaches the services (and with which priority), how the services' errors answer."""
import pytest

from contracts.errors import AlreadyRemoved, CommentNotFound, NotContentAuthor, NotRemoved
from imageboard.tokens import issue_token
from services.posts.exceptions import PostNotFound
from tests.unit.gateway_fakes import grant_admin

SECRET = {"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60}


@pytest.fixture
def gateway_config():
    return dict(SECRET, SERVICES=["users", "posts", "comments"], MEDIA_URL="/media/")


def auth(user_id=7, username="alice"):
    return {"Authorization": "Bearer " + issue_token(SECRET, user_id, username, False)}


def code_of(resp):
    return resp.status_code, resp.json["error"]["code"]


COMMENT = {"id": 5, "post_id": 3, "author": {"id": 7, "username": "alice", "avatar_url": "/media/a.png"},
           "content": "hi", "parent": None}


def test_patch_post_sends_the_body_and_the_caller(client, rpc):
    rpc.answers = {("posts", "update_post"): {"id": 3, "image_url": "/media/x.png", "author": {}}}
    resp = client.simulate_patch("/api/posts/3/", json={"title": "new", "extra": 1}, headers=auth())
    assert resp.status_code == 200
    assert resp.json["image_url"] == "http://falconframework.org/media/x.png"
    assert rpc.calls == [("posts", "update_post", (3, {"title": "new", "extra": 1},
                                                   {"id": 7, "username": "alice", "is_admin": False}))]
    assert ("posts", "update_post") in rpc.writes


def test_patch_needs_a_token_and_json(client, rpc):
    assert code_of(client.simulate_patch("/api/posts/3/", json={"title": "x"})) == (401, "not_authenticated")
    resp = client.simulate_patch("/api/posts/3/", body="title=x", headers=auth())
    assert code_of(resp) == (400, "invalid_json")
    assert rpc.calls == []


@pytest.mark.parametrize("error, status, code", [
    (NotContentAuthor(), 403, "forbidden"), (PostNotFound(), 404, "post_not_found"),
    (AlreadyRemoved(), 409, "already_removed"), (NotRemoved(), 409, "not_removed")])
def test_service_errors_keep_their_codes(client, rpc, access, error, status, code):
    grant_admin(access, 7)
    rpc.answers = {("posts", "update_post"): error, ("posts", "remove_post"): error}
    path, body = (("/api/posts/3/", {"title": "x"}) if status == 403 or code == "post_not_found"
                  else ("/api/posts/3/remove/", {"reason": "spam"}))
    method = client.simulate_patch if path == "/api/posts/3/" else client.simulate_post
    assert code_of(method(path, json=body, headers=auth())) == (status, code)


@pytest.mark.parametrize("kind, service", [("posts", "posts"), ("comments", "comments")])
@pytest.mark.parametrize("action", ["remove", "restore"])
def test_removal_is_for_admins_and_passes_the_reason_and_moderator(client, rpc, access, kind, service, action):
    method = f"{action}_{kind[:-1]}"
    rpc.answers = {(service, method): {"id": 3, "author": None}}
    resp = client.simulate_post(f"/api/{kind}/3/{action}/", json={"reason": "spam"}, headers=auth())
    assert code_of(resp) == (403, "admin_required") and rpc.calls == []
    assert code_of(client.simulate_post(f"/api/{kind}/3/{action}/", json={"reason": "x"})) == \
        (401, "not_authenticated")
    grant_admin(access, 7)  # rights come from the access state, not the token
    resp = client.simulate_post(f"/api/{kind}/3/{action}/", json={"reason": "spam"}, headers=auth())
    assert resp.status_code == 200
    assert rpc.calls == [(service, method, (3, "spam", 7))] and (service, method) in rpc.writes
    client.simulate_post(f"/api/{kind}/3/{action}/", json={}, headers=auth())
    assert rpc.calls[-1] == (service, method, (3, None, 7))  # the service answers 400


def test_comment_detail_edit_and_delete(client, rpc, access):
    rpc.answers = {("comments", "get_comment"): dict(COMMENT),
                   ("comments", "update_comment"): dict(COMMENT),
                   ("comments", "delete_comment"): {"comment_id": 5}}
    resp = client.simulate_get("/api/comments/5/")
    assert resp.status_code == 200
    assert resp.json["author"]["avatar_url"] == "http://falconframework.org/media/a.png"
    assert rpc.calls[-1] == ("comments", "get_comment", (5,))
    resp = client.simulate_patch("/api/comments/5/", json={"content": "x"}, headers=auth())
    assert resp.status_code == 200
    assert rpc.calls[-1] == ("comments", "update_comment", (5, {"content": "x"},
                                                            {"id": 7, "username": "alice", "is_admin": False}))
    grant_admin(access, 7)
    assert client.simulate_delete("/api/comments/5/", headers=auth()).status_code == 204
    assert rpc.calls[-1] == ("comments", "delete_comment", (5, {"id": 7, "username": "alice", "is_admin": True}))
    assert code_of(client.simulate_delete("/api/comments/5/")) == (401, "not_authenticated")


def test_a_missing_comment_is_404_comment_not_found(client, rpc):
    rpc.answers = {("comments", "get_comment"): CommentNotFound()}
    assert code_of(client.simulate_get("/api/comments/5/")) == (404, "comment_not_found")
    assert client.simulate_get("/api/comments/0/").status_code == 404  # not a route
