"""Fault tests break servers and processes of PRIVATE instances (never the shared
RabbitMQ/PostgreSQL/Kafka/ClickHouse). They are slow (a minute or two each), so they run
with `make test-faults` (or IB_FAULTS=1), not in the default `make test`."""
import os

import pytest

FAULTS_DIR = os.path.dirname(__file__)


def pytest_configure(config):
    config.addinivalue_line("markers", "faults: breaks a private server or process (slow)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("IB_FAULTS") == "1":
        return
    skip = pytest.mark.skip(reason="fault tests are slow: run `make test-faults` (IB_FAULTS=1)")
    for item in items:
        if str(item.fspath).startswith(FAULTS_DIR):
            item.add_marker(skip)
