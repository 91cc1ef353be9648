"""The notification endpoints at the gateway with a fake RPC client: auth, query parsing,
the plain-array body with X-Total-Count/Link headers (decision 3), error mapping."""
import pytest

from imageboard.tokens import issue_token
from services.notifications.exceptions import NotificationNotFound, NotYourNotification
from tests.unit.gateway_fakes import FakeRpc

CONFIG = {"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60,
          "SERVICES": ["users", "notifications"], "MEDIA_ROOT": "/tmp", "MEDIA_URL": "/media/"}
ROW = {"id": 5, "type": "LIKE", "message": 'bob liked your post "Sunset"',
       "data": {"post_id": 1, "actor_id": 2}, "read": False,
       "created_at": "2026-11-27T14:32:42.123456+00:00"}


@pytest.fixture
def rpc():
    fake = FakeRpc()
    fake.answers = {
        ("notifications", "list_notifications"): lambda user, unread, page, limit: {"count": 45, "results": [ROW]},
        ("notifications", "mark_read"): lambda user, nid: {"id": nid, "read": True},
        ("notifications", "unread_count"): lambda user: {"unread_count": 3},
        ("notifications", "mark_all_read"): lambda user: {"marked": 3},
    }
    return fake


@pytest.fixture
def gateway_config():
    return CONFIG


def auth(user_id=7):
    token = issue_token({"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60}, user_id, "alice", False)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/notifications/"), ("PATCH", "/api/notifications/5/mark-read/"),
    ("GET", "/api/notifications/unread-count/"), ("POST", "/api/notifications/mark-all-read/"),
])
def test_every_endpoint_needs_a_token(client, rpc, method, path):
    resp = client.simulate_request(method, path)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert rpc.calls == []


def test_list_is_a_plain_array_with_total_and_link_headers(client, rpc):
    resp = client.simulate_get("/api/notifications/", query_string="unread_only=true&page=2&limit=10",
                               headers=auth())
    assert resp.status_code == 200 and resp.json == [ROW]
    assert rpc.calls[-1] == ("notifications", "list_notifications", (7, True, 2, 10))
    assert resp.headers["X-Total-Count"] == "45"
    link = resp.headers["Link"]
    for rel, page in (("first", 1), ("prev", 1), ("next", 3), ("last", 5)):
        assert f'page={page}>; rel="{rel}"' in link and "unread_only=true" in link


def test_list_defaults(client, rpc):
    assert client.simulate_get("/api/notifications", headers=auth()).status_code == 200
    assert rpc.calls[-1] == ("notifications", "list_notifications", (7, False, 1, 20))
    client.simulate_get("/api/notifications/", query_string="unread_only=0", headers=auth())
    assert rpc.calls[-1][2][1] is False


@pytest.mark.parametrize("query", ["unread_only=yes", "unread_only=", "unread_only=true&unread_only=false",
                                   "page=0", "page=x", "limit=101", "limit=-1"])
def test_bad_query_parameters_are_400(client, rpc, query):
    resp = client.simulate_get("/api/notifications/", query_string=query, headers=auth())
    assert resp.status_code == 400 and "error" in resp.json
    assert rpc.calls == []


def test_mark_read_and_its_errors(client, rpc):
    resp = client.simulate_patch("/api/notifications/5/mark-read/", headers=auth())
    assert resp.json == {"id": 5, "read": True}
    assert rpc.calls[-1] == ("notifications", "mark_read", (7, 5))
    rpc.answers[("notifications", "mark_read")] = NotYourNotification()
    resp = client.simulate_patch("/api/notifications/5/mark-read/", headers=auth())
    assert resp.status_code == 403 and resp.json["error"]["code"] == "notification_forbidden"
    rpc.answers[("notifications", "mark_read")] = NotificationNotFound()
    assert client.simulate_patch("/api/notifications/5/mark-read/", headers=auth()).status_code == 404
    assert client.simulate_patch("/api/notifications/0/mark-read/", headers=auth()).status_code == 404
    assert client.simulate_get("/api/notifications/5/mark-read/", headers=auth()).status_code == 405


def test_unread_count_and_mark_all_read(client, rpc):
    assert client.simulate_get("/api/notifications/unread-count/", headers=auth()).json == {"unread_count": 3}
    assert client.simulate_post("/api/notifications/mark-all-read/", headers=auth()).json == {"marked": 3}
    assert rpc.calls[-1] == ("notifications", "mark_all_read", (7,))
