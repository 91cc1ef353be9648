"""Fault tests break servers and processes of PRIVATE instances (never the shared
RabbitMQ/PostgreSQL/Kafka/ClickHouse). They run in every `make test` (so in CI, through
.ci/run); `make test-faults` runs only them (about 5 minutes)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "faults: breaks a private server or process (slow)")
