"""Every Nameko service serves Prometheus metrics on its own port (imageboard/metrics.py):
RPC calls, errors and latency by method, worker and database pool usage."""
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from imageboard.migrations import migrate
from imageboard.nameko_metrics import PROCESS_SERVER
from imageboard_ops.util import wait_for
from tests.ports import free_port
from services.users.exceptions import UserNotFound
from services.users.service import UsersService

pytestmark = pytest.mark.integration


def scrape(port):
    resp = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert resp.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


_MIGRATED = set()


@pytest.fixture
def obs_config(service_config):
    """Its own users database: the outbox relay of the e2e stack's users process would
    otherwise compete for the same outbox (and win the leader lock). Its own metrics port:
    the stack's users process serves on METRICS_PORT_BASE + 1."""
    config = dict(service_config, DB_PREFIX=f"{service_config['DB_PREFIX']}_obs",
                  METRICS_PORT=str(free_port()))
    if config["DB_PREFIX"] not in _MIGRATED:
        migrate(config, "users")
        _MIGRATED.add(config["DB_PREFIX"])
    return config


@pytest.fixture
def users(obs_config, serve):
    return serve(UsersService, obs_config)


def served_port():
    """The port this process's metrics server listens on (one per process, however many
    containers run in it)."""
    assert PROCESS_SERVER.port is not None
    return PROCESS_SERVER.port


def test_rpc_calls_errors_latency_and_pools_are_exported(users, obs_config, unique):
    port = served_port()
    before = scrape(port)

    for _ in range(3):
        assert users.ping() == "pong"
    with pytest.raises(UserNotFound):
        users.find_user(f"nobody_{unique}")

    after = scrape(port)
    ping = dict(service="users", method="ping")
    find = dict(service="users", method="find_user")
    assert value(after, "imageboard_rpc_requests_total", **ping) - \
        value(before, "imageboard_rpc_requests_total", **ping) == 3
    assert value(after, "imageboard_rpc_duration_seconds_count", **ping) - \
        value(before, "imageboard_rpc_duration_seconds_count", **ping) == 3
    errors = dict(find, error="UserNotFound", expected="true")
    assert value(after, "imageboard_rpc_errors_total", **errors) - \
        value(before, "imageboard_rpc_errors_total", **errors) == 1
    # Pools and workers are read live: sized from max_workers, nothing busy between calls.
    max_workers = int(obs_config["max_workers"])
    assert value(after, "imageboard_db_pool_max_connections", service="users") == max_workers + 4
    assert value(after, "imageboard_db_pool_connections", service="users", state="in_use") == 0
    assert value(after, "imageboard_db_pool_connections", service="users", state="idle") >= 1
    assert value(after, "imageboard_service_workers_max", service="users") == max_workers
    assert value(after, "imageboard_service_workers_busy", service="users") == 0


def test_outbox_relay_reports_published_and_pending_events(users, unique):
    port = served_port()
    published = dict(service="users", topic="user-events")
    before = value(scrape(port), "imageboard_outbox_published_total", **published)
    users.register({"username": f"m_{unique}", "email": f"m_{unique}@example.com",
                    "password": "password1"})

    def relayed():
        samples = scrape(port)
        return (value(samples, "imageboard_outbox_published_total", **published) > before
                and ("imageboard_outbox_pending_events", (("service", "users"),)) in samples
                and value(samples, "imageboard_outbox_pending_events", service="users") == 0)
    wait_for(relayed, 20, what="the user.registered event to be published and counted")


def test_operator_republishes_a_sent_event_and_the_relay_sends_it_again(users, obs_config, unique):
    from imageboard_ops import outbox

    port = served_port()
    published = dict(service="users", topic="user-events")
    users.register({"username": f"r_{unique}", "email": f"r_{unique}@example.com",
                    "password": "password1"})
    wait_for(lambda: outbox.status(obs_config, "users")["pending"] == 0, 20,
             what="the registration event to be sent")
    sent = value(scrape(port), "imageboard_outbox_published_total", **published)

    with pytest.raises(ValueError):
        outbox.republish(obs_config, "users")  # neither since nor event_ids
    last = outbox.status(obs_config, "users")["last_published_at"]
    assert outbox.republish(obs_config, "users", since=last) >= 1

    wait_for(lambda: value(scrape(port), "imageboard_outbox_published_total", **published) > sent
             and outbox.status(obs_config, "users")["pending"] == 0, 20,
             what="the relay to send the re-published event")
    assert outbox.pending(obs_config, "users") == []
