from nameko.exceptions import deserialize, serialize
from nameko.testing.services import worker_factory

from contracts.errors import BadRequest, NotFound
from services.users.exceptions import UserAlreadyExists, UserNotFound
from services.users.service import UsersService


def test_entrypoints_delegate_to_the_store():
    service = worker_factory(UsersService)
    service.users.login.return_value = {"token": "t", "user_id": 1, "username": "a"}
    assert service.login({"username": "a", "password": "p"})["user_id"] == 1
    service.users.login.assert_called_once_with({"username": "a", "password": "p"})


def test_ping():
    assert worker_factory(UsersService).ping() == "pong"


def test_domain_errors_survive_the_rpc_round_trip():
    """What the gateway receives must be the class the service raised, code and fields
    included; otherwise the gateway could not pick the status code."""
    original = UserAlreadyExists(fields={"username": "taken"})
    received = deserialize(serialize(original))
    assert type(received) is UserAlreadyExists and isinstance(received, BadRequest)
    assert received.code == "user_exists" and received.fields == {"username": "taken"}
    plain = deserialize(serialize(UserNotFound()))
    assert isinstance(plain, NotFound) and plain.fields is None
