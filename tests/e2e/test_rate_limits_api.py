"""Per-user rate limits on the running stack (contract v2 section 3.4): the headers on a
success and on a 4xx, 429 with Retry-After and nothing created, one window shared by two
gateway processes, a window that ends, a limit set to 0, Redis unreachable (fail open).

The stack's gateway has the default limits; tests that need small ones (a 2 s window) or
another Redis start a gateway of their own beside it, on the same services, with those
settings in its environment."""
import contextlib
import os
import subprocess
import time
from datetime import datetime

import pytest
import requests

from imageboard import PROJECT_ROOT
from imageboard.config import config_path
from imageboard_ops.processes import BIN
from imageboard_ops.util import wait_for
from tests.e2e.conftest import bearer
from tests.openapi_check import assert_conforms
from tests.ports import free_port

pytestmark = pytest.mark.e2e


def _answers(url):
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@contextlib.contextmanager
def gateway(tmp_path, workers=1, **settings):
    """A gateway (gunicorn) beside the stack's, with `settings` in its environment."""
    port = free_port()
    name = f"gateway-{port}"
    env = dict(os.environ, GATEWAY_BIND=f"127.0.0.1:{port}", GATEWAY_WORKERS=str(workers),
               GATEWAY_THREADS="4", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / f"metrics-{port}"),
               IMAGEBOARD_CONFIG=config_path(), **settings)
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([os.path.join(BIN, "gunicorn"), "-c",
                                 os.path.join(PROJECT_ROOT, "gateway", "gunicorn_conf.py"),
                                 "gateway.wsgi:app"],
                                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: proc.poll() is None and _answers(base + "/health"), 30,
                 what=f"the gateway on port {port} ({log_path})")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def post_of(api, user, title="limited"):
    resp = api("POST", "/api/posts/", headers=bearer(user), files={
        "title": (None, title), "content": (None, "body")})
    assert resp.status_code == 201, resp.text
    return resp.json()


def reset_of(resp):
    reset = datetime.fromisoformat(resp.headers["X-RateLimit-Reset"])
    assert reset.utcoffset().total_seconds() == 0, resp.headers["X-RateLimit-Reset"]
    return reset.timestamp()


def like(base, user, post_id):
    return requests.post(f"{base}/api/posts/{post_id}/like/", headers=bearer(user), timeout=15)


def test_a_success_and_a_4xx_carry_limit_remaining_and_reset(api, stack, register):
    author, liker = register("rla"), register("rlb")
    post = post_of(api, author)
    before = time.time()
    ok = like(stack, liker, post["id"])
    missing = like(stack, liker, 2147483647)
    assert ok.status_code == 200 and missing.status_code == 404
    assert missing.json()["error"]["code"] == "post_not_found"
    assert (ok.headers["X-RateLimit-Limit"], ok.headers["X-RateLimit-Remaining"]) == ("120", "119")
    assert (missing.headers["X-RateLimit-Limit"], missing.headers["X-RateLimit-Remaining"]) == ("120", "118")
    # The end of the caller's 60 s window: a whole minute (windows are aligned), ahead.
    reset = reset_of(ok)
    assert reset % 60 == 0 and before < reset <= time.time() + 60
    assert reset_of(missing) in (reset, reset + 60)  # the same window, or the next if it ended
    assert_conforms(ok)
    assert_conforms(missing)
    # A 400 of a body counts too (check order: 429 before 400).
    bad = api("POST", "/api/posts/", headers=bearer(liker), files={"content": (None, "no title")})
    assert bad.status_code == 400 and bad.headers["X-RateLimit-Remaining"] == "9"
    # Reading is not limited.
    assert "X-RateLimit-Limit" not in api("GET", f"/api/posts/{post['id']}/").headers


def test_past_the_post_limit_429_with_retry_after_and_nothing_created(api, register):
    user = register("rlpost")
    made = [api("POST", "/api/posts/", headers=bearer(user),
                files={"title": (None, f"n{i}"), "content": (None, "x")}) for i in range(10)]
    assert [r.status_code for r in made] == [201] * 10
    assert [r.headers["X-RateLimit-Remaining"] for r in made] == [str(n) for n in range(9, -1, -1)]
    refused = api("POST", "/api/posts/", headers=bearer(user),
                  files={"title": (None, "the eleventh"), "content": (None, "x")})
    assert refused.status_code == 429
    body = assert_conforms(refused)
    assert body["error"]["code"] == "rate_limited"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 600
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert abs(reset_of(refused) - (time.time() + retry_after)) <= 2
    # Nothing done: the user still has ten posts and the feed has no eleventh.
    assert api("GET", f"/api/users/profile/{user['id']}/").json()["posts_count"] == 10
    feed = api("GET", "/api/posts/?limit=100").json()["results"]
    assert "the eleventh" not in {p["title"] for p in feed}


def test_one_window_holds_across_two_gateway_processes(api, register, tmp_path):
    author, liker = register("rl2a"), register("rl2b")
    post = post_of(api, author)
    with gateway(tmp_path, workers=2, RATE_LIMIT_LIKE="6/60") as one, \
            gateway(tmp_path, workers=2, RATE_LIMIT_LIKE="6/60") as two:
        answers = [like(base, liker, post["id"]) for base in [one, two] * 4]
    assert [r.status_code for r in answers] == [200] * 6 + [429] * 2
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["5", "4", "3", "2", "1", "0", "0", "0"]
    # Six toggles went through (an even number: not liked in the end), and only six.
    assert answers[5].json()["liked"] is False
    assert api("GET", f"/api/posts/{post['id']}/").json()["likes_count"] == 0


def test_a_window_ends_and_0_turns_a_limit_off(api, register, tmp_path):
    author, liker = register("rlwa"), register("rlwb")
    post = post_of(api, author)
    with gateway(tmp_path, RATE_LIMIT_LIKE="3/2", RATE_LIMIT_COMMENT_CREATE="0") as base:
        # Start at the beginning of a 2 s window so three requests fit in it.
        wait_for(lambda: time.time() % 2 < 0.5, 5, what="the start of a 2 s window")
        answers = [like(base, liker, post["id"]) for _ in range(4)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert 1 <= int(refused.headers["Retry-After"]) <= 2
        assert refused.headers["X-RateLimit-Limit"] == "3"
        # Poll (no sleep) until the window has ended: the first request of the next one
        # passes with a fresh count.
        deadline = time.monotonic() + 10
        while True:
            resp = like(base, liker, post["id"])
            if resp.status_code != 429 or time.monotonic() > deadline:
                break
            time.sleep(0.05)  # pacing of the poll, not a wait for something to happen
        assert resp.status_code == 200, resp.text
        assert resp.headers["X-RateLimit-Remaining"] == "2"
        assert reset_of(resp) >= reset_of(refused) + 2
        assert time.time() >= reset_of(refused)

        # RATE_LIMIT_COMMENT_CREATE=0: past the default's 30 per minute, never refused.
        comments = [requests.post(base + "/api/comments/", headers=bearer(liker), timeout=15,
                                  json={"post_id": post["id"], "content": f"c{i}"})
                    for i in range(32)]
        assert [r.status_code for r in comments] == [201] * 32
        assert all("X-RateLimit-Limit" not in r.headers for r in comments)


def test_redis_unreachable_requests_pass_unlimited_counted_in_metrics(api, register, tmp_path):
    author, liker = register("rlra"), register("rlrb")
    post = post_of(api, author)
    with gateway(tmp_path, REDIS_URL="redis://127.0.0.1:1/0", RATE_LIMIT_LIKE="2/60") as base:
        answers = [like(base, liker, post["id"]) for _ in range(4)]
        metrics = requests.get(base + "/metrics", timeout=10).text
    assert [r.status_code for r in answers] == [200] * 4  # past the limit of 2: fail open
    assert all("X-RateLimit-Limit" not in r.headers for r in answers)
    errors = [line for line in metrics.splitlines()
              if line.startswith("imageboard_rate_limit_store_errors_total ")]
    assert errors and float(errors[0].split()[-1]) == 4, errors


def test_the_limit_counts_no_anonymous_request(stack, register, tmp_path):
    user = register("rlanon")
    with gateway(tmp_path, RATE_LIMIT_LIKE="1/60") as base:
        anonymous = [requests.post(base + "/api/posts/1/like/", timeout=15) for _ in range(3)]
        assert [r.status_code for r in anonymous] == [401] * 3
        assert all("X-RateLimit-Limit" not in r.headers for r in anonymous)
        first = like(base, user, 2147483647)
    assert first.status_code == 404 and first.headers["X-RateLimit-Remaining"] == "0"


def test_window_keys_expire_in_redis(config, register, api):
    """The counter of a window lives in Redis no longer than the window (+1 s)."""
    import redis

    from gateway.ratelimit import key_prefix
    from imageboard.settings import settings_of
    user = register("rlttl")
    post = post_of(api, user)
    assert api("POST", f"/api/posts/{post['id']}/like/", headers=bearer(user)).status_code == 200
    settings = settings_of(config)
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match=f"{key_prefix(settings)}like:{user['id']}:*"))
    assert len(keys) == 1
    assert 0 < client.ttl(keys[0]) <= 61
    assert int(client.get(keys[0])) == 1
