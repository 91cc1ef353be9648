"""The running system for HTTP-level tests (tests/e2e, tests/security): one session-wide
stack, registered in tests/conftest.py so every test directory shares the same instance."""
import pytest
import requests

from gateway.ratelimit import key_prefix
from imageboard.config import database_url
from imageboard.db import drop_database
from imageboard.settings import settings_of
from imageboard_ops import infra, system


def drop_rate_limit_counters(config):
    """User ids start again at 1 in the fresh databases: counters of an earlier run's users
    (windows of up to an hour) must not count against this run's."""
    import redis
    settings = settings_of(config)
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match=key_prefix(settings) + "*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session")
def stack(config):
    """The whole system, started by the same code as `imageboard up`, on the suite's own
    databases (dropped first, so every run starts empty), vhost and port."""
    infra.ensure(config)
    system.stop(config, keep_infra=True)  # leftovers of an interrupted run
    for service in config["SERVICES"]:
        drop_database(database_url(config, service))
    if "analytics" in config["SERVICES"]:
        from analytics_store.schema import drop_database as drop_clickhouse_database
        drop_clickhouse_database(config)
    drop_rate_limit_counters(config)
    started = system.start(config, with_infra=False)
    yield started["gateway"]
    system.stop(config, keep_infra=True)


@pytest.fixture
def api(stack):
    session = requests.Session()

    def call(method, path, **kwargs):
        kwargs.setdefault("timeout", 15)
        return session.request(method, stack + path, **kwargs)
    return call


@pytest.fixture
def register(api, unique):
    """Registers a fresh user; returns its registration body (id, username, token...)."""
    counter = iter(range(1000))

    def make(prefix="user", **extra):
        name = f"{prefix}_{unique}_{next(counter)}"[:32]
        payload = {"username": name, "email": f"{name}@example.com", "password": "password1"}
        payload.update(extra)
        resp = api("POST", "/api/users/register/", json=payload)
        assert resp.status_code == 201, resp.text
        return resp.json()
    return make


def bearer(user):
    return {"Authorization": f"Bearer {user['token']}"}
