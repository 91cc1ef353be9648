"""The gateway unit tests' app: create_app with a FakeRpc. A module overrides
`gateway_config` (its settings) or `rpc` (canned answers) where the defaults do not fit."""
import falcon.testing
import pytest

from gateway.app import create_app
from tests.unit.gateway_fakes import CONFIG, FakeRpc, access_state


@pytest.fixture
def gateway_config():
    return CONFIG


@pytest.fixture
def rpc():
    return FakeRpc()


@pytest.fixture
def access():
    """The app's AccessState: grant admin rights with grant_admin(access, user_id)."""
    return access_state()


@pytest.fixture
def client(gateway_config, rpc, access):
    return falcon.testing.TestClient(create_app(gateway_config, rpc=rpc, access=access))
