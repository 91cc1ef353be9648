import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from analytics_store.client import database_name, make_client
from analytics_store.schema import migrate as migrate_clickhouse
from imageboard.migrations import migrate


def migrate_once(config):
    """ensure(*services): create and migrate each service's database in `config` once."""
    done = set()

    def ensure(*services):
        for service in services:
            if service not in done:
                migrate(config, service)
                done.add(service)
    return ensure


@pytest.fixture(scope="session")
def migrated(config):
    """Each service's test database, created and migrated once per session."""
    return migrate_once(config)


@pytest.fixture
def service_config(config, rabbit_config):
    """The project config pointed at nameko's throwaway vhost for this test. Containers
    here serve no /metrics (METRICS_PORT_BASE=0): the ports belong to the e2e stack's
    processes; tests of metrics set METRICS_PORT themselves."""
    return dict(config, AMQP_URI=rabbit_config["AMQP_URI"], METRICS_PORT_BASE=0)


@pytest.fixture
def ch_config(config, unique):
    """Own ClickHouse database and topic prefix per test: nothing shared, nothing left."""
    base = config["CLICKHOUSE_URL"].rsplit("/", 1)[0]
    cfg = dict(config, CLICKHOUSE_URL=f"{base}/{database_name(config)}_{unique}",
               KAFKA_TOPIC_PREFIX=f"{config['KAFKA_TOPIC_PREFIX']}{unique}-")
    assert migrate_clickhouse(cfg) == ["0001_event_tables", "0002_user_actions",
                                       "0003_analyst_views", "0004_events_body",
                                       "0005_post_likes", "0006_unique_posts",
                                       "0007_dead_letters", "0008_erased_users",
                                       "0009_moderation"]
    assert migrate_clickhouse(cfg) == []
    yield cfg
    make_client(cfg, database="default").execute(f"DROP DATABASE IF EXISTS `{database_name(cfg)}`")


@pytest.fixture
def ch(ch_config):
    return make_client(ch_config)


@pytest.fixture
def serve(container_factory):
    """serve(ServiceClass, config) starts a container of the service and returns an RPC
    proxy to it (stopped with the test, like the container)."""
    proxies = []

    def start(service_cls, config, timeout=10):
        container_factory(service_cls, config).start()
        proxies.append(ServiceRpcProxy(service_cls.name, config, timeout=timeout))
        return proxies[-1].start()
    yield start
    for proxy in proxies:
        proxy.stop()
