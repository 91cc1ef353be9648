"""The moderation endpoints (contract v2 section 5) at the gateway with a fake RPC client:
who may call what, what reaches the moderation service, the page envelope, query checks."""
import pytest

from contracts.errors import (AlreadyResolved, CannotBanAdmin, Conflict, NotBanned, OwnContent,
                              ReportNotFound, UserNotFound)
from imageboard.tokens import issue_token
from tests.unit.gateway_fakes import FakeRpc, grant_admin

REPORT = {"id": 31, "status": "open"}


@pytest.fixture
def rpc():
    fake = FakeRpc()
    fake.answers = {
        ("moderation", "create_report"): lambda body, reporter: dict(REPORT, body=body),
        ("moderation", "list_reports"): lambda status, page, limit: {"count": 45, "results": [REPORT]},
        ("moderation", "resolve_report"): lambda rid, body, moderator: dict(REPORT, id=rid),
        ("moderation", "ban_user"): lambda uid, body, moderator: {"user_id": uid},
        ("moderation", "unban_user"): lambda uid, body, moderator: None,
        ("moderation", "modlog"): lambda action, page, limit, is_admin: {"count": 1, "results": [
            {"id": 1, "is_admin": is_admin}]},
    }
    return fake


def auth(user_id=7, username="alice"):
    token = issue_token({"JWT_SECRET": "k" * 32, "JWT_LIFETIME_SECONDS": 60}, user_id, username, False)
    return {"Authorization": f"Bearer {token}"}


def code(resp):
    return resp.status_code, resp.json["error"]["code"] if resp.status_code >= 400 else None


ADMIN_ONLY = [("GET", "/api/reports/"), ("POST", "/api/reports/3/resolve/"),
              ("POST", "/api/users/9/ban/"), ("DELETE", "/api/users/9/ban/")]


@pytest.mark.parametrize("method, path", ADMIN_ONLY + [("POST", "/api/reports/")])
def test_anonymous_callers_get_401_and_reach_no_service(client, rpc, method, path):
    assert code(client.simulate_request(method, path, json={})) == (401, "not_authenticated")
    assert rpc.calls == []


@pytest.mark.parametrize("method, path", ADMIN_ONLY)
def test_admin_rights_come_from_the_access_state(client, rpc, access, method, path):
    assert code(client.simulate_request(method, path, json={"action": "dismiss"},
                                        headers=auth())) == (403, "admin_required")
    assert rpc.calls == []
    grant_admin(access, 7)
    assert client.simulate_request(method, path, json={"action": "dismiss"},
                                   headers=auth()).status_code in (200, 204)


def test_create_report_sends_the_body_and_the_caller(client, rpc):
    body = {"target_type": "post", "target_id": 3, "reason": "spam"}
    resp = client.simulate_post("/api/reports/", json=body, headers=auth())
    assert resp.status_code == 201 and resp.json["body"] == body
    assert rpc.calls[-1] == ("moderation", "create_report", (body, {"id": 7, "username": "alice"}))
    assert ("moderation", "create_report") in rpc.writes


@pytest.mark.parametrize("error, expected", [
    (OwnContent(), (422, "own_content")), (Conflict(), (409, "conflict")),
    (UserNotFound(), (404, "user_not_found"))])
def test_report_errors_map_to_the_contract(client, rpc, error, expected):
    rpc.answers[("moderation", "create_report")] = error
    assert code(client.simulate_post("/api/reports/", json={}, headers=auth())) == expected


def test_the_queue_is_the_v1_envelope_with_the_status_passed_on(client, rpc, access):
    grant_admin(access, 7)
    resp = client.simulate_get("/api/reports/", query_string="status=open&page=2&limit=10",
                               headers=auth())
    assert resp.status_code == 200
    assert resp.json["count"] == 45 and resp.json["results"] == [REPORT]
    assert "page=3" in resp.json["next"] and "page=1" in resp.json["previous"]
    assert rpc.calls[-1] == ("moderation", "list_reports", ("open", 2, 10))
    client.simulate_get("/api/reports/", query_string="status=", headers=auth())
    assert rpc.calls[-1] == ("moderation", "list_reports", (None, 1, 20))
    resp = client.simulate_get("/api/reports/", query_string="status=open&status=resolved",
                               headers=auth())
    assert code(resp) == (400, "invalid_status")


def test_resolve_ban_and_unban_reach_the_service(client, rpc, access):
    grant_admin(access, 1)
    admin = auth(1, "root")
    resp = client.simulate_post("/api/reports/3/resolve/", json={"action": "dismiss"}, headers=admin)
    assert resp.status_code == 200 and resp.json["id"] == 3
    assert rpc.calls[-1] == ("moderation", "resolve_report",
                             (3, {"action": "dismiss"}, {"id": 1, "username": "root"}))
    resp = client.simulate_post("/api/users/9/ban/", json={"reason": "x", "days": None}, headers=admin)
    assert resp.status_code == 200 and resp.json == {"user_id": 9}
    assert rpc.calls[-1][2][:2] == (9, {"reason": "x", "days": None})
    # DELETE takes an optional body.
    assert client.simulate_delete("/api/users/9/ban/", headers=admin).status_code == 204
    assert rpc.calls[-1] == ("moderation", "unban_user", (9, {}, {"id": 1, "username": "root"}))
    resp = client.simulate_delete("/api/users/9/ban/", json={"reason": "appeal"}, headers=admin)
    assert resp.status_code == 204 and rpc.calls[-1][2][1] == {"reason": "appeal"}
    assert all(w in rpc.writes for w in [("moderation", "resolve_report"),
                                         ("moderation", "ban_user"), ("moderation", "unban_user")])


@pytest.mark.parametrize("method, path, error, expected", [
    ("POST", "/api/reports/3/resolve/", ReportNotFound(), (404, "report_not_found")),
    ("POST", "/api/reports/3/resolve/", AlreadyResolved(), (409, "already_resolved")),
    ("POST", "/api/users/9/ban/", CannotBanAdmin(), (403, "cannot_ban_admin")),
    ("DELETE", "/api/users/9/ban/", NotBanned(), (404, "not_banned")),
])
def test_admin_errors_map_to_the_contract(client, rpc, access, method, path, error, expected):
    grant_admin(access, 1)
    service_method = {"/api/reports/3/resolve/": "resolve_report"}.get(
        path, "ban_user" if method == "POST" else "unban_user")
    rpc.answers[("moderation", service_method)] = error
    assert code(client.simulate_request(method, path, json={"action": "ban"},
                                        headers=auth(1))) == expected


def test_the_modlog_is_public_and_shows_moderators_to_admins_only(client, rpc, access):
    resp = client.simulate_get("/api/modlog/", query_string="action=ban_user&limit=5")
    assert resp.status_code == 200 and resp.json["results"] == [{"id": 1, "is_admin": False}]
    assert rpc.calls[-1] == ("moderation", "modlog", ("ban_user", 1, 5, False))
    client.simulate_get("/api/modlog/", headers=auth())
    assert rpc.calls[-1] == ("moderation", "modlog", (None, 1, 20, False))
    grant_admin(access, 7)
    client.simulate_get("/api/modlog/", headers=auth())
    assert rpc.calls[-1] == ("moderation", "modlog", (None, 1, 20, True))
    assert code(client.simulate_get("/api/modlog/", query_string="action=a&action=b")) == \
        (400, "invalid_action")
    assert code(client.simulate_get("/api/modlog/", query_string="page=0")) == (400, "invalid_pagination")


def test_a_banned_admin_write_is_refused_before_the_admin_check(client, rpc, access):
    access.apply("users", {"kind": "ban", "user_id": 7, "reason": "spam",
                           "created_at": "2026-01-01T00:00:00+00:00", "expires_at": None})
    resp = client.simulate_post("/api/users/9/ban/", json={}, headers=auth())
    assert code(resp) == (403, "user_banned")
    assert resp.json["error"]["details"] == {"reason": "spam", "expires_at": None}
    assert client.simulate_get("/api/modlog/", headers=auth()).status_code == 200  # reads stay open


def test_an_expired_ban_lifts_by_itself_and_a_current_one_shows_its_expiry(client, rpc, access):
    ban = {"kind": "ban", "user_id": 7, "reason": "spam", "created_at": "2026-01-01T00:00:00+00:00"}
    access.apply("users", dict(ban, expires_at="2000-01-01T00:00:00+00:00"))
    resp = client.simulate_post("/api/reports/", json={}, headers=auth())
    assert resp.status_code == 201  # no message was needed for the expiry
    access.apply("users", dict(ban, expires_at="2999-01-01T00:00:00+00:00"))
    resp = client.simulate_post("/api/reports/", json={}, headers=auth())
    assert code(resp) == (403, "user_banned")
    assert resp.json["error"]["details"] == {"reason": "spam", "expires_at": "2999-01-01T00:00:00+00:00"}
    assert resp.json["error"]["message"] == "You are banned until 2999-01-01T00:00:00+00:00: spam"
