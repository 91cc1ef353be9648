"""Unrestricted resource consumption (OWASP API4:2023): what one client can make the
system read, hold or return is bounded, and the bound answers with the contract's code.

- page size: `limit` is capped at 100 (decision 3) and `page` at 2^31-1 on every list ->
  400 `invalid_pagination` past either; the cap itself is served;
- request line: over 4094 bytes -> 414 `uri_too_long` (gunicorn, in the contract's body),
  over 8 KB through nginx -> nginx's JSON 414;
- body size: JSON bodies at most 64 KiB at the gateway (gateway/media.py) -> 413
  `payload_too_large` one byte past it, an image past 5 MB -> 413 `image_too_large`
  (gateway/uploads.py), decided from Content-Length before the body is read; anything past
  nginx's client_max_body_size (5632k) -> nginx's JSON 413, declared or chunked;
- uploads per minute: nginx limits creating posts and comments per client IP
  (NGINX_POSTING_RATE, 30/min with a burst of 10) -> JSON 429 `rate_limited` with
  Retry-After, and two accounts from one address share the budget; and the gateway limits
  each user wherever the requests come from (behind one NAT, or straight at the gateway):
  RATE_LIMIT_POST_CREATE, 10 posts per 600 s (contract v2 section 3.4, gateway/ratelimit.py).

Elsewhere: nesting depth (tests/security/test_injection_and_bodies.py), image pixels and
decompression bombs (tests/security/test_uploads.py), login/registration rates
(tests/security/test_rate_limits.py).
"""
import json
import os
import socket

import pytest
import requests

from contracts.schemas.types import MAX_LIMIT
from gateway.media import MAX_JSON_BODY
from gateway.uploads import FORM_OVERHEAD
from imageboard.pagination import MAX_PAGE
from imageboard_ops import nginx
from tests.e2e.conftest import bearer
from tests.imagefiles import png_bytes
from tests.security.conftest import multipart

pytestmark = pytest.mark.e2e
needs_nginx = pytest.mark.skipif(not os.path.exists(nginx.NGINX_BIN), reason="nginx not installed")
NGINX_BODY_LIMIT = 5632 * 1024  # client_max_body_size in nginx/templates/default.conf.template



def error_of(resp):
    assert resp.headers["Content-Type"].startswith("application/json"), resp.text[:200]
    return resp.status_code, resp.json()["error"]["code"]


def lists(api, user, post):
    """Every paginated list, as (name, path, headers)."""
    return [("feed", "/api/posts/", {}),
            ("comments", f"/api/comments/?post_id={post['id']}", {}),
            ("notifications", "/api/notifications/", bearer(user))]


def test_a_limit_above_the_cap_is_400_invalid_pagination(api, register, new_post):
    user = register("lim")
    post = new_post(user)
    for name, path, headers in lists(api, user, post):
        sep = "&" if "?" in path else "?"
        over = api("GET", f"{path}{sep}limit={MAX_LIMIT + 1}", headers=headers)
        assert error_of(over) == (400, "invalid_pagination"), (name, over.text)
        assert over.json()["error"]["fields"] == {"limit": f"must be an integer from 1 to {MAX_LIMIT}"}
        huge = api("GET", f"{path}{sep}limit=100000000", headers=headers)
        assert error_of(huge) == (400, "invalid_pagination"), name
        at_cap = api("GET", f"{path}{sep}limit={MAX_LIMIT}", headers=headers)
        assert at_cap.status_code == 200, (name, at_cap.text)
        page = api("GET", f"{path}{sep}page={MAX_PAGE + 1}", headers=headers)
        assert error_of(page) == (400, "invalid_pagination"), name
        far = api("GET", f"{path}{sep}page={MAX_PAGE}&limit={MAX_LIMIT}", headers=headers)
        assert far.status_code == 200, (name, far.text)  # an empty page past the end, quickly


def test_a_json_body_one_byte_past_the_gateway_limit_is_413(api, register, new_post):
    user = register("body")
    post = new_post(user)

    def body_of(size):
        head = f'{{"post_id": {post["id"]}, "content": "fits", "pad": "'.encode()
        return head + b"a" * (size - len(head) - 2) + b'"}'

    at_limit = api("POST", "/api/comments/", headers={**bearer(user), "Content-Type": "application/json"},
                   data=body_of(MAX_JSON_BODY))
    assert at_limit.status_code == 201, at_limit.text  # the unknown field is dropped
    over = api("POST", "/api/comments/", headers={**bearer(user), "Content-Type": "application/json"},
               data=body_of(MAX_JSON_BODY + 1))
    assert error_of(over) == (413, "payload_too_large")
    for path in ("/api/users/register/", "/api/users/login/"):
        resp = api("POST", path, data=b"{" + b" " * MAX_JSON_BODY + b"}",
                   headers={"Content-Type": "application/json"})
        assert error_of(resp) == (413, "payload_too_large"), path


def test_an_image_past_5mb_is_413_and_a_huge_declared_body_is_refused_unread(api, register, stack):
    user = register("upl")
    image = ("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024 + 1), "image/png")
    created = api("POST", "/api/posts/", headers=bearer(user),
                  files=multipart(title="big", content="x", image=image))
    assert error_of(created) == (413, "image_too_large")
    # 100 MB announced, nothing sent: the answer comes from Content-Length alone, at once.
    host, port = stack.split("://", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall((f"POST /api/posts/ HTTP/1.1\r\nHost: {host}\r\n"
                      f"Authorization: Bearer {user['token']}\r\n"
                      "Content-Type: multipart/form-data; boundary=b\r\n"
                      f"Content-Length: {100 * 1024 * 1024}\r\n\r\n").encode())
        answer = b""
        while b"}}" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"image_too_large"' in answer


@needs_nginx
def test_bodies_past_nginx_limit_get_its_json_413_declared_or_chunked(front, register):
    declared = requests.post(front + "/api/users/login/", data=b"a" * (NGINX_BODY_LIMIT + 1),
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert error_of(declared) == (413, "payload_too_large")
    assert "5.5 MB" in declared.json()["error"]["message"]  # nginx's own words

    def chunks():
        for _ in range(NGINX_BODY_LIMIT // (256 * 1024) + 2):
            yield b"a" * (256 * 1024)
    chunked = requests.post(front + "/api/users/login/", data=chunks(),
                            headers={"Content-Type": "application/json"}, timeout=30)
    assert chunked.status_code == 413
    # Between the gateway's 5 MB and nginx's 5.5 MB: the gateway's own, more precise 413.
    user = requests.post(front + "/api/users/register/", timeout=15, json={
        "username": f"ngx_{os.urandom(4).hex()}", "email": f"n{os.urandom(4).hex()}@example.com",
        "password": "password1"}).json()
    image = ("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024 + 1), "image/png")
    resp = requests.post(front + "/api/posts/", headers=bearer(user), timeout=30,
                         files=multipart(title="big", content="x", image=image))
    assert error_of(resp) == (413, "image_too_large")
    assert FORM_OVERHEAD + 5 * 1024 * 1024 < NGINX_BODY_LIMIT


def get_raw(base, target):
    """GET `target` exactly as given; (status, Content-Type, JSON body)."""
    host, port = base.split("://", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ", 2)[1]), headers.get("content-type"), json.loads(body)


def test_a_request_line_past_4094_bytes_is_a_json_414(stack):
    """gunicorn's limit_request_line, answered in the contract's body (gateway/gunicorn_conf.py;
    schemathesis found its HTML page)."""
    status, content_type, body = get_raw(stack, "/api/posts/?ordering=" + "a" * 5000)
    assert (status, content_type) == (414, "application/json")
    assert body["error"]["code"] == "uri_too_long"
    status, _, _ = get_raw(stack, "/api/posts/?ordering=" + "a" * 3000)
    assert status == 400  # long but allowed: the app's own answer (an unknown ordering)


@needs_nginx
def test_request_lines_too_long_get_a_json_414_through_nginx(front):
    for length, message in ((5000, "Request Line is too large"),  # gunicorn's, passed through
                            (9000, "Request line longer than 8 KB")):  # nginx's own
        status, content_type, body = get_raw(front, "/api/posts/?ordering=" + "a" * length)
        assert (status, content_type) == (414, "application/json"), length
        assert body["error"]["code"] == "uri_too_long"
        assert body["error"]["message"].startswith(message), body


@needs_nginx
def test_uploads_per_minute_are_limited_per_address_through_nginx(front):
    def new_user(tag):
        name = f"rl{tag}_{os.urandom(4).hex()}"
        resp = requests.post(front + "/api/users/register/", timeout=15, json={
            "username": name, "email": f"{name}@example.com", "password": "password1"})
        assert resp.status_code == 201, resp.text
        return resp.json()

    alice, bob = new_user("a"), new_user("b")
    image = png_bytes((8, 8))

    def upload(user):
        return requests.post(front + "/api/posts/", headers=bearer(user), timeout=30,
                             files=multipart(title="rate", content="x",
                                             image=("x.png", image, "image/png")))
    # 30/min with a burst of 10: about 11 go through at once, then 429. Alice spends most
    # of the budget; Bob, another account from the same address, gets the rest, then 429.
    first = [upload(alice).status_code for _ in range(8)]
    then = [upload(bob) for _ in range(6)]
    statuses = first + [r.status_code for r in then]
    assert set(first) == {201}, statuses
    assert 429 in statuses and statuses.count(201) <= 12, statuses
    refused = next(r for r in then if r.status_code == 429)
    assert error_of(refused) == (429, "rate_limited")
    assert refused.headers["Retry-After"] == "2"
    # Reading is not limited by it.
    assert requests.get(front + "/api/posts/", timeout=10).status_code == 200


def test_one_user_is_limited_to_some_uploads_per_minute_wherever_it_comes_from(api, register):
    user, other = register("peruser"), register("peruser")
    image = png_bytes((8, 8))

    def upload(who):
        return api("POST", "/api/posts/", headers=bearer(who), files=multipart(
            title="u", content="x", image=("x.png", image, "image/png")))
    answers = [upload(user) for _ in range(31)]
    statuses = [r.status_code for r in answers]
    # RATE_LIMIT_POST_CREATE's default, 10 per 600 s: the eleventh and every later one 429.
    assert statuses == [201] * 10 + [429] * 21, statuses
    assert error_of(answers[-1]) == (429, "rate_limited")
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 600
    # Per user, not per address: another account from the same client is not refused.
    assert upload(other).status_code == 201
