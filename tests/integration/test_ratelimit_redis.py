"""The per-user limit on a real Redis (gateway/ratelimit.py): two processes counting the
same window get exactly the limit between them (one atomic INCR each), a window's key
expires, and `imageboard infra up` starts a Redis where none listens."""
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import redis

from gateway.ratelimit import Limiter, RedisCounter
from imageboard import PROJECT_ROOT
from imageboard.settings import RateLimit, settings_of
from imageboard_ops import infra
from imageboard_ops.util import wait_for
from tests.ports import free_port

# A window of 10^9 s (epoch-aligned: 2001-09-09 to 2033-05-18) never ends during the test.
LONG = RateLimit(50, 10**9)

HITTER = """
import json, sys, time
from gateway.ratelimit import Limiter, RedisCounter
from imageboard.settings import RateLimit
url, prefix, start_at, count, seconds, hits = sys.argv[1:]
limiter = Limiter(RedisCounter(url), prefix)
while time.time() < float(start_at):   # both processes begin together
    pass
answers = [limiter.hit("like", RateLimit(int(count), int(seconds)), 7) for _ in range(int(hits))]
print(json.dumps([[a.allowed, a.remaining] for a in answers]))
"""


@pytest.fixture
def prefix(config):
    name = f"it-{uuid.uuid4().hex[:8]}:ratelimit:"
    yield name
    client = redis.Redis.from_url(settings_of(config).REDIS_URL)
    keys = list(client.scan_iter(match=name + "*"))
    if keys:
        client.delete(*keys)


def test_two_processes_share_one_window_and_never_overcount(config, prefix):
    url = settings_of(config).REDIS_URL
    start_at = time.time() + 2  # after both interpreters have imported everything
    procs = [subprocess.Popen([sys.executable, "-c", HITTER, url, prefix, str(start_at),
                               str(LONG.count), str(LONG.seconds), "40"],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), outputs
    answers = [a for out, _ in outputs for a in json.loads(out)]
    allowed = [remaining for ok, remaining in answers if ok]
    # 80 requests, limit 50: exactly 50 pass, each with its own count (49 left ... 0 left).
    assert sorted(allowed) == list(range(50)), sorted(allowed)
    assert [remaining for ok, remaining in answers if not ok] == [0] * 30
    # Both processes got some of the window (they really ran side by side).
    assert all(any(ok for ok, _ in json.loads(out)) for out, _ in outputs)


def test_a_window_key_expires_after_its_window(config, prefix):
    settings = settings_of(config)
    limiter = Limiter(RedisCounter(settings.REDIS_URL), prefix)
    assert limiter.hit("like", RateLimit(1, 1), 9).allowed
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    assert len(keys) == 1 and 0 < client.ttl(keys[0]) <= 2
    wait_for(lambda: not client.exists(keys[0]), 10, interval=0.1, what="the key to expire")


def test_infra_up_starts_redis_when_none_listens_and_stops_what_it_started(
        config, prefix, tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGEBOARD_VAR", str(tmp_path))  # its own pid files and infra.json
    port = free_port()
    private = dict(config, REDIS_URL=f"redis://127.0.0.1:{port}/0")
    try:
        assert infra.ensure(private, only=["redis"]) == {"redis": "started"}
        limiter = Limiter(RedisCounter(private["REDIS_URL"]), prefix)
        assert [limiter.hit("like", RateLimit(1, 60), 7).allowed for _ in range(2)] == [True, False]
        assert infra.status(private)["redis"] == {
            "address": f"127.0.0.1:{port}", "up": True, "owner": "imageboard infra"}
        assert infra.ensure(private, only=["redis"]) == {"redis": "reused"}
    finally:
        assert infra.stop_started(private) == []
    assert not infra.Redis(private).running()
    assert not os.path.exists(tmp_path / "dump.rdb") and not os.path.exists(tmp_path / "run" / "dump.rdb")
