"""A real nginx (Debian's /usr/sbin/nginx) rendered from nginx/ in front of the running test
stack: proxy headers, request ids, rate limits, body limits, /media/, gzip and upstream
failures, all answered with the API's JSON error body."""
import gzip
import http.server
import json
import os
import re
import shutil
import socket
import threading
import time

import pytest
import requests

from imageboard_ops import nginx
from imageboard_ops.util import log_path
from tests.ports import free_port

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not os.path.exists(nginx.NGINX_BIN), reason="nginx not installed")]

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a3b3a1fb0000000049454e44ae426082")


@pytest.fixture
def front(tmp_path, config):
    """Starts nginx towards any upstream; stopped after the test. Each test gets a fresh
    nginx, so rate-limit counters never leak from one test into another."""
    started = []

    def start(upstream, proxy_timeout="30s", **render_args):
        port = free_port()
        run_dir = tmp_path / f"nginx-{len(started)}"
        conf = nginx.render(run_dir, f"127.0.0.1:{port}", upstream, config["MEDIA_ROOT"],
                            proxy_timeout=proxy_timeout, **render_args)
        ok, output = nginx.check(conf)
        assert ok, output
        nginx.start(conf)
        started.append(conf)
        return f"http://127.0.0.1:{port}"
    yield start
    for conf in started:
        nginx.stop(conf)


@pytest.fixture
def gateway_front(front, stack):
    return front(stack.split("://", 1)[1])


def assert_json_error(resp, status, code):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json()["error"]["code"] == code, resp.text
    assert resp.headers.get("X-Request-ID")


def test_nginx_t_accepts_the_rendered_configuration(tmp_path, config):
    conf = nginx.render(tmp_path, "127.0.0.1:1", "127.0.0.1:2", config["MEDIA_ROOT"])
    ok, output = nginx.check(conf)
    print(output)
    assert ok and "test is successful" in output


def test_request_id_is_passed_through_or_generated_and_reaches_the_gateway(gateway_front):
    mine = requests.get(gateway_front + "/health", headers={"X-Request-ID": "ops-check-42"},
                        timeout=10)
    assert mine.status_code == 200 and mine.headers["X-Request-ID"] == "ops-check-42"

    generated = requests.get(gateway_front + "/health", timeout=10)
    request_id = generated.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id

    unsafe = requests.get(gateway_front + "/health", headers={"X-Request-ID": "bad id\x7f"},
                          timeout=10)
    assert re.fullmatch(r"[0-9a-f]{32}", unsafe.headers["X-Request-ID"])

    # The gateway logged the id nginx generated: one id from nginx to the service logs.
    with open(log_path("gateway")) as fh:
        assert any(f'"request_id": "{request_id}"' in line for line in fh)


def test_login_and_register_are_rate_limited_per_ip_with_json_429(gateway_front):
    statuses = []
    for _ in range(8):
        resp = requests.post(gateway_front + "/api/users/login/",
                             json={"username": "nobody_at_all", "password": "wrongpass1"}, timeout=15)
        statuses.append(resp.status_code)
    # burst=5 with nodelay: the first six reach the gateway (401), then 429.
    assert statuses[:6] == [401] * 6 and statuses[6:] == [429, 429], statuses
    assert_json_error(resp, 429, "rate_limited")
    assert resp.headers["Retry-After"] == "6"

    statuses = [requests.post(gateway_front + "/api/users/register", data=b"{}", timeout=15).status_code
                for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429], statuses


def test_only_creating_posts_is_rate_limited(gateway_front):
    reads = [requests.get(gateway_front + "/api/users/profile/999999/", timeout=10).status_code
             for _ in range(15)]
    assert 429 not in reads
    writes = [requests.post(gateway_front + "/api/posts/", data=b"x", timeout=10)
              for _ in range(13)]
    statuses = [r.status_code for r in writes]
    assert 429 not in statuses[:11] and statuses[11:] == [429, 429], statuses
    assert_json_error(writes[-1], 429, "rate_limited")
    assert writes[-1].headers["Retry-After"] == "2"


def test_bodies_past_5mb_reach_the_gateway_and_past_the_limit_get_nginx_json_413(gateway_front):
    # Just above 5 MB: nginx lets it through and the gateway answers with its own 413.
    body = b'{"username": "' + b"a" * (5 * 1024 * 1024 + 100) + b'"}'
    resp = requests.post(gateway_front + "/api/users/login/", data=body, timeout=30,
                         headers={"Content-Type": "application/json"})
    assert_json_error(resp, 413, "payload_too_large")
    assert "JSON body larger than" in resp.json()["error"]["message"]  # the gateway's words

    too_big = b"a" * (6 * 1024 * 1024)
    resp = requests.post(gateway_front + "/api/users/login/", data=too_big, timeout=30,
                         headers={"Content-Type": "application/json"})
    assert_json_error(resp, 413, "payload_too_large")
    assert "5.5 MB" in resp.json()["error"]["message"]  # nginx's words


def test_media_is_served_by_nginx_with_nosniff_and_long_cache(gateway_front, config):
    media_dir = os.path.join(config["MEDIA_ROOT"], "nginx-test")
    os.makedirs(media_dir, exist_ok=True)
    with open(os.path.join(media_dir, "pixel.png"), "wb") as fh:
        fh.write(PNG)
    try:
        resp = requests.get(gateway_front + "/media/nginx-test/pixel.png", timeout=10)
        assert resp.status_code == 200 and resp.content == PNG
        assert resp.headers["Content-Type"] == "image/png"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "max-age=31536000" in resp.headers["Cache-Control"]
        assert "Content-Encoding" not in resp.headers

        missing = requests.get(gateway_front + "/media/nginx-test/none.png", timeout=10)
        assert_json_error(missing, 404, "not_found")
        assert "max-age" not in missing.headers.get("Cache-Control", "")
        listing = requests.get(gateway_front + "/media/nginx-test/", timeout=10)
        assert listing.status_code == 404  # no directory listings
    finally:
        shutil.rmtree(media_dir)


def test_json_responses_are_gzipped(gateway_front):
    resp = requests.get(gateway_front + "/api/openapi.json", headers={"Accept-Encoding": "gzip"},
                        timeout=10, stream=True)
    assert resp.status_code == 200
    assert resp.headers["Content-Encoding"] == "gzip"
    raw = resp.raw.read()
    assert json.loads(gzip.decompress(raw))["openapi"].startswith("3.1")


def test_metrics_are_not_exposed_through_nginx(gateway_front, stack):
    assert requests.get(stack + "/metrics", timeout=10).status_code == 200
    assert_json_error(requests.get(gateway_front + "/metrics", timeout=10), 404, "not_found")


def test_gateway_down_gives_json_502(front):
    base = front(f"127.0.0.1:{free_port()}")  # nothing listens there
    resp = requests.get(base + "/api/users/profile/1/", timeout=10)
    assert_json_error(resp, 502, "bad_gateway")
    assert resp.headers["Retry-After"] == "5"


def test_gateway_that_does_not_answer_gives_json_504(front):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        base = front(f"127.0.0.1:{silent.getsockname()[1]}", proxy_timeout="1s")
        resp = requests.get(base + "/api/users/profile/1/", timeout=10)
    assert_json_error(resp, 504, "gateway_timeout")


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"headers": dict(self.headers), "pad": "x" * 2000}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_upstream_sees_forwarded_headers_and_request_id(front):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = front(f"127.0.0.1:{server.server_address[1]}")
        seen = requests.get(base + "/api/echo", headers={"X-Forwarded-For": "203.0.113.9"},
                            timeout=10).json()["headers"]
        assert seen["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
        assert seen["X-Real-IP"] == "127.0.0.1"
        assert seen["X-Forwarded-Proto"] == "http"
        assert seen["Host"] == base.split("://", 1)[1]
        assert re.fullmatch(r"[0-9a-f]{32}", seen["X-Request-ID"])
        passed = requests.get(base + "/api/echo", headers={"X-Request-ID": "abc-1"},
                              timeout=10).json()["headers"]
        assert passed["X-Request-ID"] == "abc-1"
    finally:
        server.shutdown()
        server.server_close()


def test_an_uploaded_image_is_served_by_nginx_at_its_image_url(gateway_front):
    from tests.imagefiles import png_bytes, png_of_exact_size

    name = f"ngx_{os.urandom(4).hex()}"
    user = requests.post(gateway_front + "/api/users/register/", timeout=15, json={
        "username": name, "email": f"{name}@example.com", "password": "password1"}).json()
    auth = {"Authorization": f"Bearer {user['token']}"}
    image = png_bytes((20, 10))
    created = requests.post(gateway_front + "/api/posts/", headers=auth, timeout=30,
                            data={"title": "through nginx", "content": "an image"},
                            files={"image": ("x.png", image, "image/png")})
    assert created.status_code == 201, created.text
    url = created.json()["image_url"]
    # Built from the Host nginx passed on: the client can follow it through nginx.
    assert url.startswith(gateway_front + "/media/"), url

    served = requests.get(url, timeout=10)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in served.headers["Cache-Control"]

    # Just over 5 MB passes nginx and gets the gateway's own 413.
    too_big = png_of_exact_size(5 * 1024 * 1024 + 1)
    refused = requests.post(gateway_front + "/api/posts/", headers=auth, timeout=30,
                            data={"title": "too big", "content": "x"},
                            files={"image": ("big.png", too_big, "image/png")})
    # The gateway's own code for an image over MAX_IMAGE_BYTES (gateway/uploads.py); nginx's
    # 413 would say payload_too_large and "5.5 MB".
    assert_json_error(refused, 413, "image_too_large")
    assert "5.5 MB" not in refused.json()["error"]["message"]


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with a fresh serial number; status from ?status=."""
    protocol_version = "HTTP/1.1"
    served = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.served.append((self.command, self.path))
        status = int(self.path.split("status=", 1)[1][:3]) if "status=" in self.path else 200
        body = json.dumps({"serial": len(self.served)}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-ID", self.headers.get("X-Request-ID", ""))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def counting_upstream():
    _CountingHandler.served = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_anonymous_feed_and_comment_pages_are_reused_for_the_micro_cache_period(
        front, counting_upstream):
    base = front(counting_upstream, microcache="2s")

    def get(path, **headers):
        resp = requests.get(base + path, headers=headers, timeout=10)
        return resp.status_code, resp.json()["serial"], resp.headers["X-Cache"], resp.headers

    for path in ("/api/posts/?page=1", "/api/comments/?post_id=7"):
        status, first, cache, _ = get(path)
        assert (status, cache) == (200, "MISS")
        status, again, cache, headers = get(path, **{"X-Request-ID": "reader-2"})
        assert (status, again, cache) == (200, first, "HIT")
        # The stored answer came with the first request's id; each caller gets its own.
        assert headers["X-Request-ID"] == "reader-2"
    # Another page is another entry.
    assert get("/api/posts/?page=2")[2] == "MISS"
    served = len(_CountingHandler.served)
    assert served == 3

    # Signed-in callers always reach the gateway, and their answers are not stored.
    status, fresh, cache, _ = get("/api/posts/?page=1", Authorization="Bearer x")
    assert cache == "BYPASS" and fresh == served + 1
    assert get("/api/posts/?page=1")[1] == 1  # still the anonymous copy

    # Post detail (its views are counted), errors and writes are never reused.
    for path in ("/api/posts/7/", "/api/posts/?page=0&status=400", "/api/users/profile/1/"):
        assert get(path)[1] != get(path)[1], path
    assert requests.post(base + "/api/posts/", data=b"x", timeout=10).json()["serial"] != \
        requests.post(base + "/api/posts/", data=b"x", timeout=10).json()["serial"]

    # After the period the next reader gets the page refreshed (one refresh in the background
    # while that reader still gets the old copy: stale by at most one refresh).
    time.sleep(2.2)
    deadline = time.monotonic() + 5
    while get("/api/posts/?page=1")[1] == 1:
        assert time.monotonic() < deadline, "the cached page was never refreshed"
        time.sleep(0.1)


def test_micro_cache_off_sends_every_read_to_the_gateway(front, counting_upstream):
    base = front(counting_upstream, microcache="0s")
    serials = [requests.get(base + "/api/posts/?page=1", timeout=10).json()["serial"]
               for _ in range(3)]
    assert serials == [1, 2, 3]


def test_a_like_reaches_signed_in_readers_at_once_and_anonymous_readers_within_the_period(
        gateway_front, register):
    author = register("mc")
    auth = {"Authorization": f"Bearer {author['token']}"}
    created = requests.post(gateway_front + "/api/posts/", headers=auth, timeout=30,
                            json={"title": "cached feed", "content": "count my likes"})
    assert created.status_code == 201, created.text
    post_id = created.json()["id"]

    def likes_in_feed(headers):
        resp = requests.get(gateway_front + "/api/posts/?ordering=-created_at&limit=50",
                            headers=headers, timeout=10)
        assert resp.status_code == 200, resp.text
        return next(p["likes_count"] for p in resp.json()["results"] if p["id"] == post_id)

    assert likes_in_feed({}) == 0  # now cached for anonymous readers
    liked = requests.post(f"{gateway_front}/api/posts/{post_id}/like/", headers=auth, timeout=10)
    assert liked.status_code == 200 and liked.json()["likes_count"] == 1
    assert likes_in_feed(auth) == 1
    # The 1 s period plus one background refresh, which on a loaded machine may itself take
    # seconds: the deadline bounds a hang, not the period (the period's own bound is checked
    # against the counting upstream above, where nothing else is slow).
    deadline = time.monotonic() + 15
    while likes_in_feed({}) != 1:
        assert time.monotonic() < deadline, "anonymous feed still stale after 15 s"
        time.sleep(0.1)


def test_other_methods_than_get_on_the_web_client_get_a_json_405(gateway_front):
    resp = requests.post(gateway_front + "/board/", data=b"{}", timeout=10)
    assert_json_error(resp, 405, "method_not_allowed")
    assert resp.headers["Allow"] == "GET, HEAD"
    assert requests.get(gateway_front + "/board/", timeout=10).status_code == 200  # the app
