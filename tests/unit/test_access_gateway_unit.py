"""The gateway's side of contract v2 §3.3 and §6.1 with a fake RPC client: revoked tokens
refused everywhere, the write guard's table and check order, logout / logout-all /
password change calls."""
import jwt
import pytest

from contracts.errors import InvalidPassword
from gateway.write_guard import is_write
from imageboard.tokens import issue_token
from tests.unit.gateway_fakes import CONFIG, grant_admin


def token_of(user_id=7, version=0):
    token = issue_token(CONFIG, user_id, "alice", False, version)
    return token, jwt.decode(token, options={"verify_signature": False})


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def ban(access, user_id, expires_at="2999-01-01T00:00:00+00:00"):
    access.apply("moderation", {"kind": "ban", "user_id": user_id, "reason": "spam",
                                "created_at": "2026-12-07T12:00:00+00:00", "expires_at": expires_at})


def test_a_revoked_token_is_refused_on_a_public_endpoint_too(client, rpc, access):
    token, claims = token_of()
    access.apply("users", {"kind": "revoke_jti", "user_id": 7, "jti": claims["jti"], "exp": claims["exp"]})
    resp = client.simulate_get("/api/posts/", headers=auth(token))
    assert resp.status_code == 401 and resp.json["error"]["code"] == "token_revoked"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert rpc.calls == []


def test_a_token_without_jti_is_refused(client):
    legacy = jwt.encode({"sub": "7", "exp": 2**40, "is_admin": True}, CONFIG["JWT_SECRET"], "HS256")
    resp = client.simulate_get("/api/posts/", headers=auth(legacy))
    assert resp.status_code == 401 and resp.json["error"]["code"] == "token_revoked"


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/posts/"), ("POST", "/api/posts/3/like"), ("DELETE", "/api/posts/3/"),
    ("POST", "/api/comments/"), ("PATCH", "/api/users/me/"), ("PUT", "/api/users/me/avatar/"),
    ("POST", "/api/reports/"), ("POST", "/api/users/9/ban/"), ("DELETE", "/api/users/9/ban/"),
    ("POST", "/api/posts/3/remove/"), ("PATCH", "/api/comments/5/"),
])
def test_writes_under_api(method, path):
    assert is_write(method, path)


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/users/login/"), ("POST", "/api/users/register"), ("POST", "/api/users/logout/"),
    ("POST", "/api/users/logout-all/"), ("POST", "/api/stream/ticket/"),
    ("POST", "/api/notifications/4/mark-read/"), ("PATCH", "/api/notifications/4/mark-read/"),
    ("POST", "/api/notifications/mark-all-read/"),
    ("POST", "/api/users/me/password/"), ("DELETE", "/api/users/me/"), ("DELETE", "/api/users/me"),
    ("GET", "/api/posts/"), ("POST", "/metrics"),
])
def test_what_is_not_a_write(method, path):
    assert not is_write(method, path)


def test_the_document_lists_403_on_every_write_a_ban_refuses():
    from gateway.openapi import openapi_document

    for path, item in openapi_document()["paths"].items():
        for method, op in item.items():
            if op.get("security") and is_write(method.upper(), path):
                assert "403" in op["responses"], (method, path)


def test_a_banned_user_reads_and_logs_out_but_does_not_write(client, rpc, access):
    token, _ = token_of()
    ban(access, 7)
    resp = client.simulate_post("/api/comments/", headers=auth(token), json={"post_id": 1, "content": "x"})
    assert resp.status_code == 403
    assert resp.json["error"] == {
        "code": "user_banned", "message": "You are banned until 2999-01-01T00:00:00+00:00: spam",
        "details": {"reason": "spam", "expires_at": "2999-01-01T00:00:00+00:00"}}
    rpc.answers[("posts", "list_posts")] = {"count": 0, "results": []}
    rpc.answers[("users", "logout")] = None
    assert client.simulate_post("/api/users/logout/", headers=auth(token)).status_code == 204
    assert [c[:2] for c in rpc.calls] == [("users", "logout")]


def test_a_ban_comes_before_admin_required_and_after_401(client, access):
    token, _ = token_of()
    ban(access, 7, expires_at=None)
    resp = client.simulate_post("/api/posts/3/like/", headers=auth(token))
    assert resp.json["error"]["code"] == "user_banned"
    assert resp.json["error"]["message"] == "You are banned permanently: spam"
    assert resp.json["error"]["details"] == {"reason": "spam", "expires_at": None}
    assert client.simulate_post("/api/posts/3/like/").json["error"]["code"] == "not_authenticated"


def test_an_expired_ban_allows_writes_again(client, rpc, access):
    token, _ = token_of()
    ban(access, 7, expires_at="2000-01-01T00:00:00+00:00")
    rpc.answers[("posts", "toggle_like")] = {"liked": True, "likes_count": 1, "post_id": 3}
    assert client.simulate_post("/api/posts/3/like/", headers=auth(token)).status_code == 200


def test_logout_sends_the_presented_tokens_id_and_expiry(client, rpc):
    token, claims = token_of()
    rpc.answers[("users", "logout")] = None
    assert client.simulate_post("/api/users/logout/", headers=auth(token)).status_code == 204
    assert rpc.calls == [("users", "logout", (7, claims["jti"], claims["exp"]))]
    assert ("users", "logout") in rpc.writes
    assert client.simulate_post("/api/users/logout/").status_code == 401


def test_logout_all_and_password_change(client, rpc):
    token, claims = token_of()
    rpc.answers[("users", "logout_all")] = None
    rpc.answers[("users", "change_password")] = None
    assert client.simulate_post("/api/users/logout-all/", headers=auth(token)).status_code == 204
    body = {"current_password": "password1", "new_password": "password2"}
    assert client.simulate_post("/api/users/me/password/", headers=auth(token), json=body).status_code == 204
    assert rpc.calls == [("users", "logout_all", (7,)),
                         ("users", "change_password", (7, claims["jti"], body))]
    assert {("users", "logout_all"), ("users", "change_password")} <= rpc.writes
    rpc.answers[("users", "change_password")] = InvalidPassword(fields={"current_password": "no"})
    resp = client.simulate_post("/api/users/me/password/", headers=auth(token), json=body)
    assert resp.status_code == 422 and resp.json["error"]["code"] == "invalid_password"
    assert resp.json["error"]["fields"] == {"current_password": "no"}


def test_ready_is_503_while_a_source_is_stale(client, rpc, access):
    rpc.answers = {("users", "ping"): "pong", ("posts", "ping"): "pong", ("comments", "ping"): "pong"}
    access.stale_after = -1  # every source counts as silent
    resp = client.simulate_get("/ready")
    assert resp.status_code == 503 and resp.json["checks"]["access_feed"] == "stale: users"


def test_admin_rights_fail_closed_while_a_source_is_stale(client, access):
    token, _ = token_of()
    grant_admin(access, 7)
    access.stale_after = -1
    url = "/api/analytics/posts/stats/?start_date=2026-01-01&end_date=2026-01-31"
    assert client.simulate_get(url, headers=auth(token)).json["error"]["code"] == "admin_required"
