"""The access feed end to end on real RabbitMQ and PostgreSQL: the users service in a
nameko container records and publishes, an AccessFeedSubscriber (the gateway's thread)
keeps an AccessState current; a lost message is repaired from the heartbeat, a reconnect
brings a snapshot."""
import socket
import time

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from contracts.errors import TokenRevoked
from gateway.rpc import RpcClient
from imageboard.access.feed import AccessFeed, AccessFeedSubscriber
from imageboard.access.state import AccessState
from imageboard.tokens import verify_token
from services.users.service import UsersService

pytestmark = pytest.mark.integration


@pytest.fixture
def container(service_config, container_factory, migrated):
    migrated("users")
    container = container_factory(UsersService, service_config)
    container.start()
    return container


@pytest.fixture
def users(container, service_config):
    with ServiceRpcProxy("users", service_config, timeout=10) as proxy:
        yield proxy


@pytest.fixture
def state():
    return AccessState(["users"], stale_after=1.0)


@pytest.fixture
def subscriber(users, service_config, state):
    rpc = RpcClient(service_config)
    subscriber = AccessFeedSubscriber(service_config, state, rpc).start()
    wait_until(lambda: state.is_fresh("users"), 10, "the first snapshot")
    yield subscriber
    subscriber.stop()
    rpc.close()


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.01)
    raise AssertionError(f"not within {timeout} s: {what}")


def signup(users, unique, n=0):
    name = f"af_{unique}_{n}"
    body = users.register({"username": name, "email": f"{name}@example.com", "password": "password1"})
    return name, body, verify_token_claims(body["token"])


def verify_token_claims(token, secret=None):
    from imageboard.config import load_config
    return verify_token(secret or load_config()["JWT_SECRET"], token)


def refused(state, claims):
    try:
        state.check(claims)
        return False
    except TokenRevoked:
        return True


def feed_of(container):
    return next(d for d in container.extensions if isinstance(d, AccessFeed))


def test_each_change_reaches_the_state_within_a_second(users, subscriber, state, unique):
    name, body, claims = signup(users, unique)
    assert state.check(claims).is_admin is False

    users.set_admin(name)
    acked = time.monotonic()
    assert wait_until(lambda: state.check(claims).is_admin, 1.0, "admin granted") - acked < 1.0
    users.set_admin(name, False)
    wait_until(lambda: not state.check(claims).is_admin, 1.0, "admin revoked")

    users.logout(body["id"], claims["jti"], claims["exp"])
    wait_until(lambda: refused(state, claims), 1.0, "logout")

    second = verify_token_claims(users.login({"username": name, "password": "password1"})["token"])
    users.change_password(body["id"], second["jti"],
                          {"current_password": "password1", "new_password": "password2"})
    third = verify_token_claims(users.login({"username": name, "password": "password2"})["token"])
    assert third["ver"] == 1
    # The token that changed the password stays; one issued before it from elsewhere goes.
    other = dict(second, jti="f" * 32)
    wait_until(lambda: refused(state, other), 1.0, "password change")
    assert state.check(second).id == body["id"] and state.check(third).id == body["id"]

    users.revoke_sessions(name)
    wait_until(lambda: refused(state, third) and refused(state, second), 1.0, "revoke_sessions")


def test_a_lost_message_is_fetched_after_the_next_heartbeat(users, subscriber, state, container, unique):
    name, body, claims = signup(users, unique)
    publisher = feed_of(container).publisher
    real = publisher.publish
    lost = []

    def lose_changes(message):
        if message.get("kind") != "heartbeat" and not lost:
            lost.append(message)  # as if RabbitMQ dropped it
            return True
        return real(message)
    publisher.publish = lose_changes
    before = state.seq("users")
    users.set_admin(name)
    assert lost and lost[0]["kind"] == "admin"
    wait_until(lambda: state.check(claims).is_admin, 1.0, "gap repaired from the heartbeat")
    assert state.seq("users") == lost[0]["seq"] > before

    # A gap seen on the next change (seq jump) is repaired too, in order.
    lost.clear()
    users.set_admin(name, False)     # lost
    users.logout(body["id"], claims["jti"], claims["exp"])  # arrives, seq + 2
    wait_until(lambda: refused(state, claims), 1.0, "logout after the gap")
    assert state.seq("users") == lost[0]["seq"] + 1


def test_a_reconnect_brings_a_snapshot(users, subscriber, state, unique):
    name, body, claims = signup(users, unique)
    snapshots = []
    reset = state.reset
    state.reset = lambda source, changes, seq: (snapshots.append(changes), reset(source, changes, seq))
    deaf = subscriber._on_message
    subscriber._on_message = lambda message: None  # hears nothing: only a snapshot can tell
    users.set_admin(name)
    users.logout_all(body["id"])
    subscriber._on_message = deaf
    # The broker connection breaks (shut down under the subscriber's own read).
    subscriber._connection.connection.transport.sock.shutdown(socket.SHUT_RDWR)
    wait_until(lambda: snapshots and refused(state, claims), 5.0, "the reconnect's snapshot")
    latest = snapshots[-1]
    assert {"kind": "admin", "user_id": body["id"], "is_admin": True} in latest
    assert {"kind": "min_version", "user_id": body["id"], "min_version": 1, "except_jti": None} in latest


def test_a_silent_source_goes_stale_and_comes_back(users, subscriber, state, container, unique):
    name, body, claims = signup(users, unique)
    users.set_admin(name)
    wait_until(lambda: state.check(claims).is_admin, 1.0, "admin granted")
    publisher = feed_of(container).publisher
    real = publisher.publish
    publisher.publish = lambda message: True  # the source is silent
    wait_until(lambda: not state.is_fresh("users"), 3.0, "stale")
    assert state.check(claims).is_admin is False  # fails closed
    publisher.publish = real
    wait_until(lambda: state.check(claims).is_admin, 2.0, "fresh again")


def test_changes_after_a_seq_and_snapshots(users, unique):
    name, body, claims = signup(users, unique)
    head = users.access_changes(0)
    assert head["snapshot"] is True and head["source"] == "users"
    users.set_admin(name)
    users.logout(body["id"], claims["jti"], claims["exp"])
    after = users.access_changes(head["seq"])
    assert after["snapshot"] is False and after["seq"] == head["seq"] + 2
    assert [c["kind"] for c in after["changes"]] == ["admin", "revoke_jti"]
    assert users.access_changes(after["seq"] + 100)["snapshot"] is True  # ahead: a reset log


def test_an_erasure_recorded_in_the_deleting_transaction_reaches_the_state(
        users, subscriber, state, config, unique):
    """What DELETE /api/users/me/ records (services/users/erasure.py erase_user), here outside
    any feed worker: nothing is published for it, the next heartbeat shows the gateway is
    behind."""
    from imageboard.access.log import record_access_change
    from services.users.models import AccessChange, database

    name, body, claims = signup(users, unique)
    with database.atomic():
        record_access_change(AccessChange, {"kind": "erased", "user_id": body["id"]})
    database.close()
    wait_until(lambda: refused(state, claims), 1.0, "erasure")
    fresh = verify_token_claims(users.login({"username": name, "password": "password1"})["token"])
    assert refused(state, fresh)  # every token of the user, later ones too


def test_a_wrong_current_password_changes_nothing(users, unique):
    from contracts.errors import InvalidPassword, ValidationFailed

    name, body, claims = signup(users, unique)
    with pytest.raises(InvalidPassword) as info:
        users.change_password(body["id"], claims["jti"],
                              {"current_password": "wrong-one", "new_password": "password2"})
    assert info.value.code == "invalid_password" and "current_password" in info.value.fields
    with pytest.raises(ValidationFailed) as info:
        users.change_password(body["id"], claims["jti"],
                              {"current_password": "password1", "new_password": "x" * 129})
    assert "new_password" in info.value.fields
    assert users.login({"username": name, "password": "password1"})["user_id"] == body["id"]
    assert users.access_changes(0)["changes"] == [
        c for c in users.access_changes(0)["changes"] if c.get("user_id") != body["id"]]


def test_rows_older_than_the_token_lifetime_are_pruned_and_a_reader_behind_them_gets_a_snapshot(
        users, config, unique):
    from imageboard.access import log as access_log
    from services.users.models import AccessChange, database

    name, body, claims = signup(users, unique)
    users.set_admin(name)
    users.logout(body["id"], claims["jti"], claims["exp"])
    head = users.access_changes(0)["seq"]
    lifetime = config["JWT_LIFETIME_SECONDS"]
    try:
        with database.atomic():
            # Every row but the newest as old as a token can be.
            database.execute_sql("UPDATE access_changes SET created_at = now() - %s * interval '1 second'"
                                 " WHERE seq < %s", (lifetime + 60, head))
        assert access_log.prune(AccessChange, lifetime) >= 1
        assert access_log.head(AccessChange) == head
        assert access_log.changes_after(AccessChange, head - 2) is None  # its next row is gone
        assert [c["seq"] for c in access_log.changes_after(AccessChange, head - 1)] == [head]
    finally:
        database.close()
    snapshot = users.access_changes(head - 2)
    assert snapshot["snapshot"] is True
    assert {"kind": "admin", "user_id": body["id"], "is_admin": True} in snapshot["changes"]
