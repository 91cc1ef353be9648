# Must come first: nameko containers hang under plain pytest unless eventlet has patched
# the standard library before anything else imports it.
import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402

import pytest  # noqa: E402

# The suite runs its own instance beside any `make up` one: its own databases, vhost,
# topics, ClickHouse database, port and var/ directory. Set before the config is loaded.
# IB_TEST_INSTANCE / IB_TEST_PORT let several suites share one machine's servers.
RUN_ID = uuid.uuid4().hex[:8]
INSTANCE = os.environ.get("IB_TEST_INSTANCE", "test")
VAR = os.path.join(tempfile.gettempdir(), f"imageboard-{INSTANCE}-var")
TEST_ENV = {
    "DB_PREFIX": f"imageboard_{INSTANCE}",
    "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/imageboard_{INSTANCE}",
    "GATEWAY_BIND": f"127.0.0.1:{os.environ.get('IB_TEST_PORT', '18080')}",
    # The stream process beside it (nginx's default: the gateway's port + 1).
    "STREAM_BIND": f"127.0.0.1:{int(os.environ.get('IB_TEST_PORT', '18080')) + 1}",
    "KAFKA_TOPIC_PREFIX": f"{INSTANCE}-{RUN_ID}-",
    "CLICKHOUSE_URL": f"clickhouse://default:@127.0.0.1:9000/imageboard_{INSTANCE}",
    "IMAGEBOARD_VAR": VAR,
    "MEDIA_ROOT": os.path.join(VAR, "media"),
    "LOG_LEVEL": "INFO",
    # 20 metrics ports per instance, clear of the gateway ports (18xxx) of other instances.
    "METRICS_PORT_BASE": str(20000 + (int(os.environ.get("IB_TEST_PORT", "18080")) - 18000) * 20),
}
for key, value in TEST_ENV.items():
    os.environ.setdefault(key, value)

from imageboard.config import load_config  # noqa: E402
from tests.stack import api, register, stack  # noqa: E402,F401  (HTTP-level fixtures)


@pytest.fixture(scope="session")
def config():
    return load_config()


@pytest.fixture
def unique():
    """A short unique suffix for names that must not collide across tests and runs."""
    return uuid.uuid4().hex[:10]
