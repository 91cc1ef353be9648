"""Rate limits from the attacker's side, through the real nginx of nginx/ (issue 6 tests
the limits themselves in tests/e2e/test_nginx.py): once the login budget is spent, no
spelling of the URL, no spoofed client address and no second account gets past it."""
import os
import socket

import pytest

from imageboard_ops import nginx

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not os.path.exists(nginx.NGINX_BIN), reason="nginx not installed")]

# Every spelling nginx normalises to the login URI (merged slashes, dot segments, percent
# decoding, a query string) is limited like it: 429. Only a different URI gets past the
# limit, and then it is no login: routes are case-sensitive, so /API/ is the web client's
# (static files: a POST there is nginx's JSON 405, never the gateway's login).
LOGIN_VARIANTS = {"/api/users/login/": 429, "/api/users/login": 429, "//api/users/login/": 429,
                  "/api/users/./login/": 429, "/api/users/login//": 429,
                  "/api/users/%6cogin/": 429, "/api/users/x/../login/": 429,
                  "/api/users/login/?next=/": 429, "/api/users/login/.": 429,
                  "/API/users/login/": 405}



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
    results, expected = {}, dict(LOGIN_VARIANTS)
    for path in LOGIN_VARIANTS:
        results[path] = raw_post(front, path, body)
    # The limit is keyed on the peer address nginx sees, never on a header the client sends.
    for header in ("X-Forwarded-For: 10.9.8.7", "X-Real-IP: 10.9.8.6", "Forwarded: for=10.9.8.5"):
        results[header] = raw_post(front, "/api/users/login/", body, headers=[header])
        expected[header] = 429
    print(f"\nrate limits: after the burst {results}")
    assert results == expected


def test_many_accounts_from_one_address_share_the_registration_budget(front, unique):
    """burst=3 at 5 r/m: four accounts, then 429 for every further one, whatever its name."""
    statuses = []
    for i in range(6):
        body = (f'{{"username": "sybil_{i}_{unique}", "email": "s{i}_{unique}@example.com",'
                f' "password": "password1"}}').encode()
        statuses.append(raw_post(front, "/api/users/register/", body))
    assert statuses == [201, 201, 201, 201, 429, 429], statuses
