import pytest

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
