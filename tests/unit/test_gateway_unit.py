"""The gateway alone, with a fake RPC client: routing, auth, error mapping."""
import pytest

from gateway.rpc import ServiceTimeout
from contracts.errors import ServiceUnavailable
from imageboard.tokens import issue_token
from services.users.exceptions import InvalidCredentials, UserNotFound

from tests.unit.gateway_fakes import CONFIG  # noqa: F401  (imported by other modules)


def profile(user_id):
    return {"id": user_id, "username": "alice", "first_name": "", "last_name": "",
            "created_at": "2026-01-01T00:00:00+00:00", "email": "a@example.com"}


def auth(user_id, admin=False):
    return {"Authorization": "Bearer " + issue_token(CONFIG, user_id, "alice", admin)}


def test_profile_combines_counts_and_hides_email_from_others(client, rpc):
    rpc.answers = {("users", "get_profile"): profile, ("posts", "count_by_author"): 3,
                   ("comments", "count_by_author"): 5}
    body = client.simulate_get("/api/users/profile/4/").json
    assert body["posts_count"] == 3 and body["comments_count"] == 5
    assert "email" not in body
    own = client.simulate_get("/api/users/profile/4/", headers=auth(4)).json
    assert own["email"] == "a@example.com"
    other = client.simulate_get("/api/users/profile/4/", headers=auth(5)).json
    assert "email" not in other


@pytest.mark.parametrize("error,status,code", [
    (UserNotFound(), 404, "user_not_found"),
    (InvalidCredentials(), 401, "invalid_credentials"),
    (ServiceUnavailable("down"), 503, "service_unavailable"),
    (ServiceTimeout(), 504, "service_timeout"),
    (RuntimeError("bug"), 500, "internal_error"),
])
def test_errors_map_to_status_and_one_body_shape(client, rpc, error, status, code):
    rpc.answers = {("users", "login"): error}
    resp = client.simulate_post("/api/users/login/", json={"username": "a", "password": "b"})
    assert resp.status_code == status
    assert resp.json["error"]["code"] == code
    assert "Traceback" not in resp.text
    if status == 401:
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2]", b"\xff\xfe", b"[" * 30000])
def test_unparseable_bodies_are_400(client, body):
    resp = client.simulate_post("/api/users/register/", body=body,
                                headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json["error"]["code"] == "invalid_json"


def test_oversized_json_is_413(client):
    resp = client.simulate_post("/api/users/register/", body=b'{"a": "' + b"x" * 70000 + b'"}')
    assert resp.status_code == 413


def test_unknown_route_and_method(client):
    assert client.simulate_get("/api/nope/").json["error"]["code"] == "not_found"
    resp = client.simulate_delete("/api/users/login/")
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]
    assert resp.json["error"]["code"] == "method_not_allowed"


def test_invalid_bearer_token_is_401(client):
    resp = client.simulate_get("/api/users/profile/1/", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401 and resp.json["error"]["code"] == "invalid_token"
    resp = client.simulate_get("/api/users/profile/1/", headers={"Authorization": "Basic abc"})
    assert resp.status_code == 401


def test_request_id_is_echoed_or_generated(client, rpc):
    rpc.answers = {("users", "ping"): "pong"}
    assert client.simulate_get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.simulate_get("/health", headers={"X-Request-ID": "bad id\n"}).headers["X-Request-ID"]
    assert len(generated) == 32


def test_ready_reports_each_service(client, rpc):
    rpc.answers = {("users", "ping"): "pong", ("posts", "ping"): ServiceUnavailable("x"),
                   ("comments", "ping"): "pong"}
    resp = client.simulate_get("/ready")
    assert resp.status_code == 503
    assert resp.json["checks"] == {"users": "ok", "posts": "service_unavailable", "comments": "ok",
                                   "access_feed": "ok"}
