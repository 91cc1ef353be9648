"""DELETE /api/users/me/ at the gateway (fake RPC) and the users service's store without a
database: the password is checked, the deletion goes through erasure.py only."""
from types import SimpleNamespace

import pytest

from contracts.errors import BadRequest
from services.users import dependencies, erasure
from services.users.exceptions import InvalidPassword
from services.users.passwords import hash_password
from tests.unit.test_gateway_unit import auth


def test_delete_me_is_a_write_for_the_caller_and_answers_204(client, rpc):
    rpc.answers = {("users", "delete_me"): None}
    resp = client.simulate_delete("/api/users/me/", json={"password": "secret12"}, headers=auth(7))
    assert resp.status_code == 204
    assert rpc.calls == [("users", "delete_me", (7, {"password": "secret12"}))]
    assert ("users", "delete_me") in rpc.writes


def test_delete_me_needs_a_token(client, rpc):
    resp = client.simulate_delete("/api/users/me/", json={"password": "secret12"})
    assert resp.status_code == 401
    assert rpc.calls == []


@pytest.mark.parametrize("error,status,code", [
    (InvalidPassword(fields={"password": "is not correct"}), 422, "invalid_password"),
    (BadRequest("Required fields are missing", code="missing_fields",
                fields={"password": "required"}), 400, "missing_fields"),
])
def test_delete_me_errors(client, rpc, error, status, code):
    rpc.answers = {("users", "delete_me"): error}
    resp = client.simulate_delete("/api/users/me/", json={}, headers=auth(7))
    assert resp.status_code == status
    assert resp.json["error"]["code"] == code
    assert list(resp.json["error"]["fields"]) == ["password"]


@pytest.fixture
def store(monkeypatch):
    user = SimpleNamespace(id=7, username="alice", password_hash=hash_password("secret12"))
    erased = []
    monkeypatch.setattr(dependencies.UsersStore, "get", lambda self, user_id: user)
    monkeypatch.setattr(erasure, "erase_user", lambda db, u, actor_id: erased.append(
        (u.id, actor_id)) or [])
    s = dependencies.UsersStore(db=None, config={})
    s.erased = erased
    return s


def test_a_wrong_password_erases_nothing(store):
    with pytest.raises(InvalidPassword) as raised:
        store.delete_me(7, {"password": "wrong-one"})
    assert raised.value.fields == {"password": "is not correct"} and store.erased == []


def test_a_missing_password_is_missing_fields(store):
    with pytest.raises(BadRequest) as raised:
        store.delete_me(7, {})
    assert raised.value.code == "missing_fields" and store.erased == []


def test_the_right_password_erases_the_caller(store):
    store.delete_me(7, {"password": "secret12"})
    assert store.erased == [(7, 7)]


def test_files_of_a_user_are_the_avatar_once_the_column_exists():
    assert erasure.files_of(SimpleNamespace(id=1)) == []
    assert erasure.files_of(SimpleNamespace(id=1, avatar=None)) == []
    assert erasure.files_of(SimpleNamespace(id=1, avatar="ab_avatar.png")) == ["ab_avatar.png"]
