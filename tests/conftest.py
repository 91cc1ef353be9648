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
RUN_ID = uuid.uuid4().hex[:8]
TEST_ENV = {
    "DB_PREFIX": "imageboard_test",
    "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:5672/imageboard_test",
    "GATEWAY_BIND": "127.0.0.1:18080",
    "KAFKA_TOPIC_PREFIX": f"test-{RUN_ID}-",
    "CLICKHOUSE_URL": "clickhouse://default:@127.0.0.1:9000/imageboard_test",
    "IMAGEBOARD_VAR": os.path.join(tempfile.gettempdir(), "imageboard-test-var"),
    "MEDIA_ROOT": os.path.join(tempfile.gettempdir(), "imageboard-test-var", "media"),
    "LOG_LEVEL": "INFO",
}
for key, value in TEST_ENV.items():
    os.environ.setdefault(key, value)

from imageboard.config import load_config  # noqa: E402


@pytest.fixture(scope="session")
def config():
    return load_config()


@pytest.fixture
def unique():
    """A short unique suffix for names that must not collide across tests and runs."""
    return uuid.uuid4().hex[:10]
