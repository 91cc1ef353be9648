"""Users endpoints over HTTP against the running gateway and services."""
import os

import pytest

from imageboard_ops.util import wait_for

from tests.e2e.conftest import bearer

pytestmark = pytest.mark.e2e


def test_health_and_ready(api):
    assert api("GET", "/health").json() == {"status": "ok"}
    ready = api("GET", "/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["users"] == "ok"


def test_register_login_profile_flow(api, unique):
    name = f"flow_{unique}"
    resp = api("POST", "/api/users/register/", json={
        "username": name, "email": f"{name}@example.com", "password": "password1",
        "first_name": "Flo", "last_name": "W"})
    assert resp.status_code == 201
    body = resp.json()
    assert set(body) == {"id", "username", "email", "token", "created_at"}
    assert body["created_at"].endswith("+00:00")

    login = api("POST", "/api/users/login", json={"username": name, "password": "password1"})
    assert login.status_code == 200
    assert set(login.json()) == {"token", "user_id", "username"}
    assert login.json()["user_id"] == body["id"]

    public = api("GET", f"/api/users/profile/{body['id']}/").json()
    assert public == {"id": body["id"], "username": name, "first_name": "Flo", "last_name": "W",
                      "bio": "", "avatar_url": None,
                      "created_at": body["created_at"], "posts_count": 0, "comments_count": 0}
    own = api("GET", f"/api/users/profile/{body['id']}/", headers=bearer(login.json())).json()
    assert own["email"] == f"{name}@example.com"


@pytest.mark.parametrize("payload,status,code", [
    ({"username": "abc"}, 400, "missing_fields"),
    ({"username": "ab", "email": "a@example.com", "password": "password1"}, 422, "validation_error"),
    ({"username": "abc_ok", "email": "nope", "password": "password1"}, 422, "validation_error"),
    ({"username": "abc_ok", "email": "a@example.com", "password": "short"}, 422, "validation_error"),
    ({"username": ["x"], "email": "a@example.com", "password": "password1"}, 422, "validation_error"),
])
def test_register_errors(api, payload, status, code):
    resp = api("POST", "/api/users/register/", json=payload)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code
    assert resp.json()["error"]["fields"]


def test_duplicate_registration_is_400(api, register):
    user = register()
    resp = api("POST", "/api/users/register/", json={
        "username": user["username"].upper(), "email": "other@example.com", "password": "password1"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "user_exists"


def test_login_errors(api, register):
    user = register()
    wrong = api("POST", "/api/users/login/", json={"username": user["username"], "password": "nope-nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["WWW-Authenticate"]
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    missing = api("POST", "/api/users/login/", json={"username": user["username"]})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing_fields"
    assert missing.json()["error"]["fields"] == {"password": "This field is required."}
    garbage = api("POST", "/api/users/login/", data=b"{oops", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "invalid_json"


def test_profile_errors(api):
    unknown = api("GET", "/api/users/profile/999999999/")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "user_not_found"
    no_route = api("GET", "/api/users/profile/abc/")
    assert no_route.status_code == 404 and no_route.json()["error"]["code"] == "not_found"
    resp = api("PUT", "/api/users/profile/1/")
    assert resp.status_code == 405 and resp.json()["error"]["code"] == "method_not_allowed"


def test_request_id_reaches_the_service_log(api, register, unique):
    user = register()
    request_id = f"trace-{unique}"
    resp = api("GET", f"/api/users/profile/{user['id']}/", headers={"X-Request-ID": request_id})
    assert resp.headers["X-Request-ID"] == request_id
    log_file = os.path.join(os.environ["IMAGEBOARD_VAR"], "log", "users.log")

    def logged():
        with open(log_file) as fh:
            return any(f'"request_id": "{request_id}"' in line for line in fh)
    # The service logs the call just after it has replied.
    wait_for(logged, 5, what="the request id in the users service log")


def test_chunked_json_body_is_read(api, unique):
    """A client streaming the body (Transfer-Encoding: chunked, no Content-Length)."""
    name = f"chunk_{unique}"
    body = f'{{"username": "{name}", "email": "{name}@example.com", "password": "password1"}}'
    resp = api("POST", "/api/users/register/", data=iter([body[:10].encode(), body[10:].encode()]),
               headers={"Content-Type": "application/json"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["username"] == name
