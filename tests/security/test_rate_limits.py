"""Rate limits from the attacker's side, through the real nginx of nginx/ (issue 6 tests
the limits themselves in tests/e2e/test_nginx.py): once the login budget is spent, no
spelling of the URL, no spoofed client address and no second account gets past it."""
import os
import socket

import pytest

from imageboard_ops import nginx
from tests.ports import free_port

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not os.path.exists(nginx.NGINX_BIN), reason="nginx not installed")]

LOGIN_VARIANTS = ["/api/users/login/", "/api/users/login", "//api/users/login/",
                  "/api/users/./login/", "/api/users/login//", "/api/users/%6cogin/",
                  "/api/users/x/../login/", "/api/users/login/?next=/", "/API/users/login/",
                  "/api/users/login/."]


@pytest.fixture
def front(tmp_path, config, stack):
    port = free_port()
    conf = nginx.render(tmp_path / "nginx", f"127.0.0.1:{port}", stack.split("://", 1)[1],
                        config["MEDIA_ROOT"])
    ok, output = nginx.check(conf)
    assert ok, output
    nginx.start(conf)
    yield f"http://127.0.0.1:{port}"
    nginx.stop(conf)


def raw_post(base, path, body, headers=()):
    """POST with the path sent exactly as written (requests would normalise it)."""
    host, port = base.split("://", 1)[1].split(":")
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
            f"Content-Length: {len(body)}", "Connection: close", *headers]
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def test_login_budget_cannot_be_bypassed(front):
    body = b'{"username": "victim_account", "password": "guess-0001"}'
    spent = [raw_post(front, "/api/users/login/", body) for _ in range(6)]
    assert spent == [401] * 6, spent
    results = {}
    for path in LOGIN_VARIANTS:
        results[path] = raw_post(front, path, body)
    for header in ("X-Forwarded-For: 10.9.8.7", "X-Real-IP: 10.9.8.6", "Forwarded: for=10.9.8.5"):
        results[header] = raw_post(front, "/api/users/login/", body, headers=[header])
    print(f"\nrate limits: after the burst {results}")
    # 429, or a 4xx that never reached the login code (unknown route / bad request).
    assert all(status in (429, 400, 404) for status in results.values()), results
    assert results["/api/users/login/"] == 429


def test_many_accounts_from_one_address_share_the_registration_budget(front):
    statuses = []
    for i in range(6):
        body = (f'{{"username": "sybil_{i}_{os.getpid()}", "email": "s{i}_{os.getpid()}@example.com",'
                f' "password": "password1"}}').encode()
        statuses.append(raw_post(front, "/api/users/register/", body))
    assert 429 in statuses and statuses.count(201) <= 4, statuses
