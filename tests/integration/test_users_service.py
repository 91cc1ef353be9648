"""The users service in a real nameko container, over real RabbitMQ and PostgreSQL."""
import eventlet
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from contracts.errors import BadRequest, ServiceUnavailable, ValidationFailed
from imageboard.tokens import verify_token
from services.users.exceptions import InvalidCredentials, UserAlreadyExists, UserNotFound
from services.users.service import UsersService

pytestmark = pytest.mark.integration


@pytest.fixture
def users(service_config, serve, migrated):
    migrated("users")
    return serve(UsersService, service_config)


def signup(users, name, **extra):
    payload = {"username": name, "email": f"{name}@example.com", "password": "password1"}
    payload.update(extra)
    return users.register(payload)


def test_register_login_profile(users, config, unique):
    name = f"u_{unique}"
    created = signup(users, name, first_name="Ann")
    assert created["username"] == name and created["id"] > 0
    claims = verify_token(config["JWT_SECRET"], created["token"])
    assert claims["user_id"] == created["id"] and claims["is_admin"] is False

    login = users.login({"username": name.upper(), "password": "password1"})
    assert login["user_id"] == created["id"] and login["username"] == name

    profile = users.get_profile(created["id"])
    assert profile["first_name"] == "Ann" and profile["email"] == f"{name}@example.com"
    assert profile["created_at"].endswith("+00:00")


def test_duplicates_regardless_of_case_are_rejected(users, unique):
    name = f"d_{unique}"
    signup(users, name)
    with pytest.raises(UserAlreadyExists) as err:
        signup(users, name.upper(), email=f"other_{unique}@example.com")
    assert "username" in err.value.fields
    with pytest.raises(UserAlreadyExists) as err:
        signup(users, f"e_{unique}", email=f"{name.upper()}@EXAMPLE.com")
    assert "email" in err.value.fields


def test_concurrent_duplicate_registrations_create_one_user(users, service_config, unique):
    name = f"c_{unique}"

    def attempt(_):
        with ServiceRpcProxy("users", service_config, timeout=10) as proxy:
            try:
                return signup(proxy, name)["id"]
            except UserAlreadyExists:
                return None

    results = list(eventlet.GreenPool(5).imap(attempt, range(5)))
    assert len([r for r in results if r]) == 1


def test_wrong_password_and_unknown_user_are_the_same_401(users, unique):
    signup(users, f"p_{unique}")
    with pytest.raises(InvalidCredentials):
        users.login({"username": f"p_{unique}", "password": "wrong-password"})
    with pytest.raises(InvalidCredentials):
        users.login({"username": f"nobody_{unique}", "password": "password1"})


def test_validation_errors_cross_rpc_as_their_classes(users):
    with pytest.raises(BadRequest):
        users.register({"username": "abc"})
    with pytest.raises(ValidationFailed) as err:
        users.register({"username": "ab", "email": "x", "password": "short"})
    assert set(err.value.fields) == {"username", "email", "password"}


def test_admin_flag(users, config, unique):
    signup(users, f"a_{unique}")
    assert users.set_admin(f"A_{unique}")["is_admin"] is True
    token = users.login({"username": f"a_{unique}", "password": "password1"})["token"]
    assert verify_token(config["JWT_SECRET"], token)["is_admin"] is True
    assert users.set_admin(f"a_{unique}", False)["is_admin"] is False
    with pytest.raises(UserNotFound):
        users.set_admin(f"ghost_{unique}")
    with pytest.raises(UserNotFound):
        users.get_profile(10**12)


def test_unreachable_database_is_service_unavailable(service_config, container_factory, migrated):
    broken = dict(service_config, POSTGRES_URL="postgresql://imageboard:imageboard@127.0.0.1:1")
    container = container_factory(UsersService, broken)
    container.start()
    with ServiceRpcProxy("users", broken, timeout=10) as proxy:
        with pytest.raises(ServiceUnavailable):
            proxy.get_profile(1)
