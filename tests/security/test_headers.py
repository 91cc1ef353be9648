"""Security headers and what responses give away (OWASP API8:2023, Security
Misconfiguration), directly at the gateway and through the real nginx of nginx/:

- X-Content-Type-Options: nosniff on JSON answers (2xx and errors, the gateway's and
  nginx's own), the docs page and media (the gateway's development route and nginx's
  /media/);
- the CORS policy: same-origin only. No answer carries Access-Control-Allow-Origin,
  whatever the Origin; a preflight gets a JSON 403 `cors_not_allowed`
  (gateway/middleware.py SecurityHeadersMiddleware);
- no server software version: gunicorn's Server header is replaced (gateway/gunicorn_conf.py),
  nginx runs with server_tokens off, and their own error pages name no version;
- no stack trace in a 500: provoked with a fake RPC client in falcon.testing (a service
  error of an unknown kind, and a bug in the gateway itself).
"""
import json
import os
import re
import socket

import falcon.testing
import pytest
import requests

from gateway.app import create_app
from imageboard_ops import nginx
from tests.e2e.conftest import bearer
from tests.imagefiles import png_bytes
from tests.security.conftest import multipart
from tests.unit.gateway_fakes import CONFIG, FakeRpc

HAS_NGINX = os.path.exists(nginx.NGINX_BIN)
needs_nginx = pytest.mark.skipif(not HAS_NGINX, reason="nginx not installed")
EVIL = "https://evil.example"
VERSION = re.compile(r"\d+\.\d+")



def raw(base, request):
    """Send bytes exactly as written; (status, headers lowercased, body)."""
    host, port = base.split("://", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split(" ", 2)[1]), headers, body


def assert_no_software_version(resp_headers, body=b""):
    server = resp_headers.get("Server") or resp_headers.get("server") or ""
    assert not VERSION.search(server), server
    assert "gunicorn" not in server.lower(), server
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    assert not re.search(r"(nginx|gunicorn)/\d", text), text[:300]
    assert "Traceback" not in text, text[:300]


# --- Through the running stack, directly at the gateway ---------------------------------

@pytest.mark.e2e
def test_json_answers_of_the_gateway_are_nosniff(api, register):
    user = register("hdr")
    answers = {
        "feed 200": api("GET", "/api/posts/"),
        "profile 200": api("GET", f"/api/users/profile/{user['id']}/"),
        "docs 200": api("GET", "/api/docs/"),
        "unknown route 404": api("GET", "/api/nothing-here/"),
        "wrong method 405": api("PUT", "/api/posts/"),
        "no token 401": api("POST", "/api/comments/", json={"post_id": 1, "content": "x"}),
        "bad body 400": api("POST", "/api/users/login/", data=b"{not json",
                            headers={"Content-Type": "application/json"}),
        "bad limit 400": api("GET", "/api/posts/?limit=101"),
    }
    for name, resp in answers.items():
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", (name, dict(resp.headers))
        assert_no_software_version(resp.headers, resp.content)
        assert "Access-Control-Allow-Origin" not in resp.headers, name
    assert answers["unknown route 404"].status_code == 404
    assert answers["wrong method 405"].status_code == 405


@pytest.mark.e2e
def test_media_from_the_gateway_is_nosniff(api, register):
    user = register("hdrm")
    created = api("POST", "/api/posts/", headers=bearer(user),
                  files=multipart(title="media", content="x",
                                  image=("x.png", png_bytes((8, 8)), "image/png")))
    assert created.status_code == 201, created.text
    served = requests.get(created.json()["image_url"], timeout=10)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert_no_software_version(served.headers)


@pytest.mark.e2e
def test_no_origin_is_allowed_and_a_preflight_is_a_json_403(api):
    for origin in (EVIL, "null", "http://127.0.0.1"):
        resp = api("GET", "/api/posts/", headers={"Origin": origin})
        assert resp.status_code == 200
        assert not [h for h in resp.headers if h.lower().startswith("access-control-")], resp.headers
    preflight = api("OPTIONS", "/api/posts/", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 403, preflight.text
    assert preflight.headers["Content-Type"].startswith("application/json")
    assert preflight.json() == {"error": {
        "code": "cors_not_allowed",
        "message": "Cross-origin requests are not allowed: this API is same-origin only"}}
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert preflight.headers["X-Content-Type-Options"] == "nosniff"
    # Not a preflight (no Origin): falcon's usual answer, still no CORS grant.
    plain = api("OPTIONS", "/api/posts/")
    assert plain.status_code == 200 and "Access-Control-Allow-Origin" not in plain.headers


@pytest.mark.e2e
def test_gateway_names_no_server_software_even_on_its_own_error_pages(stack):
    status, headers, body = raw(stack, b"GET /api/posts/ HTTP/1.1\r\nHost: x\r\n"
                                       b"Connection: close\r\n\r\n")
    assert status == 200 and headers["server"] == "imageboard", headers
    # A request gunicorn refuses before the app sees it: the contract's JSON error body
    # (gateway/gunicorn_conf.py), nosniff, no version or trace.
    status, headers, body = raw(stack, b"GET /api/posts/ HTTP/9.9\r\nHost: x\r\n\r\n")
    assert status == 400, (status, body)
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert json.loads(body)["error"]["code"] == "bad_request", body
    assert_no_software_version(headers, body)


# --- Through nginx ------------------------------------------------------------------------

@pytest.mark.e2e
@needs_nginx
def test_every_answer_through_nginx_is_nosniff_once_and_names_no_version(front, register):
    user = requests.post(front + "/api/users/register/", timeout=15, json={
        "username": f"hdrn_{os.urandom(4).hex()}", "email": f"hdrn_{os.urandom(4).hex()}@example.com",
        "password": "password1"}).json()
    created = requests.post(front + "/api/posts/", headers=bearer(user), timeout=30,
                            files=multipart(title="n", content="x",
                                            image=("x.png", png_bytes((8, 8)), "image/png")))
    assert created.status_code == 201, created.text
    answers = {
        "feed 200": requests.get(front + "/api/posts/", timeout=10),
        "gateway 404": requests.get(front + "/api/nothing-here/", timeout=10),
        "metrics 404 (nginx)": requests.get(front + "/metrics", timeout=10),
        "media 200 (nginx)": requests.get(created.json()["image_url"], timeout=10),
        "media 404 (nginx)": requests.get(front + "/media/none.png", timeout=10),
        "body 413 (nginx)": requests.post(front + "/api/users/login/", timeout=30,
                                          data=b"a" * (6 * 1024 * 1024),
                                          headers={"Content-Type": "application/json"}),
    }
    for name, resp in answers.items():
        sniff = [v for k, v in resp.raw.headers.items() if k.lower() == "x-content-type-options"]
        assert sniff == ["nosniff"], (name, sniff)
        assert resp.headers.get("Server") == "nginx", (name, resp.headers.get("Server"))
        assert_no_software_version(resp.headers, resp.content)
        assert "Access-Control-Allow-Origin" not in resp.headers, name
    assert answers["media 200 (nginx)"].headers["Content-Type"] == "image/png"
    assert answers["body 413 (nginx)"].status_code == 413
    # nginx's own error page for a request it refuses itself (two Host headers): no version.
    status, headers, body = raw(front, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert status == 400
    assert headers["server"] == "nginx"
    assert_no_software_version(headers, body)


@pytest.mark.e2e
@needs_nginx
def test_cors_policy_holds_through_nginx(front):
    resp = requests.get(front + "/api/posts/", headers={"Origin": EVIL}, timeout=10)
    assert resp.status_code == 200 and "Access-Control-Allow-Origin" not in resp.headers
    preflight = requests.options(front + "/api/comments/", timeout=10, headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403
    assert preflight.json()["error"]["code"] == "cors_not_allowed"
    assert "Access-Control-Allow-Origin" not in preflight.headers


# --- No stack trace in a 500 (falcon.testing, no stack needed) -------------------------------

class Surprise(Exception):
    """An error the gateway's table does not know (not a contracts.errors class)."""


@pytest.fixture
def client():
    rpc = FakeRpc()
    secret = ("connection to postgresql://app:hunter2@db:5432 failed at "
              "/work/main/services/posts/dependencies.py line 93")
    rpc.answers[("posts", "list_posts")] = Surprise(secret)
    # A service answering a shape the gateway does not expect: a bug of the gateway's.
    rpc.answers[("posts", "get_post")] = {"image_url": 42}
    return falcon.testing.TestClient(create_app(dict(CONFIG, MEDIA_ROOT="/tmp"), rpc=rpc))


@pytest.mark.parametrize("path", ["/api/posts/", "/api/posts/1/"])
def test_a_500_is_json_without_traceback_or_detail(client, path, caplog):
    resp = client.simulate_get(path)
    assert resp.status_code == 500
    assert resp.json == {"error": {"code": "internal_error", "message": "Internal server error"}}
    for leak in ("Traceback", "hunter2", "postgresql://", ".py", "Surprise", "AttributeError",
                 "line 93"):
        assert leak not in resp.text, leak
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers.get("X-Request-ID")
    # The traceback goes to the log, where the operator looks.
    assert any(record.exc_info for record in caplog.records), caplog.records


def test_preflight_and_origin_without_a_stack(client):
    preflight = client.simulate_options("/api/posts/", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "DELETE"})
    assert preflight.status_code == 403
    assert preflight.json["error"]["code"] == "cors_not_allowed"
    health = client.simulate_get("/health", headers={"Origin": EVIL})
    assert health.status_code == 200
    assert "access-control-allow-origin" not in {h.lower() for h in health.headers}
    assert health.headers["X-Content-Type-Options"] == "nosniff"
