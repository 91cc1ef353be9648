"""The gateway unit tests' app: create_app with a FakeRpc. A module overrides
`gateway_config` (its settings) or `rpc` (canned answers) where the defaults do not fit."""
import falcon.testing
import pytest

from gateway.app import create_app
from gateway.ratelimit import Limiter
from tests.unit.gateway_fakes import CONFIG, FakeClock, FakeRpc, MemoryCounter, access_state


@pytest.fixture
def gateway_config():
    return CONFIG


@pytest.fixture
def rpc():
    return FakeRpc()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def limiter(clock):
    """Per-user limits counted in memory, fresh for each test (no Redis in unit tests)."""
    return Limiter(MemoryCounter(clock), "unit:ratelimit:", clock=clock)


@pytest.fixture
def access():
    """The app's AccessState: grant admin rights with grant_admin(access, user_id)."""
    return access_state()


@pytest.fixture
def client(gateway_config, rpc, limiter, access):
    return falcon.testing.TestClient(create_app(gateway_config, rpc=rpc, limiter=limiter,
                                                access=access))
