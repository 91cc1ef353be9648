"""The users service's own-account RPCs (services/users/profiles.py) in a real nameko
container over RabbitMQ and PostgreSQL: the change and its user.updated event in one
transaction, no event for no change, concurrent email changes, avatar files."""
import json
import os

import eventlet
import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from contracts.errors import BadRequest, InvalidImage
from imageboard.media import media_root, new_upload_name, upload_dir
from services.users.exceptions import UserAlreadyExists, UserNotFound
from services.users.service import UsersService
from tests.imagefiles import jpeg_bytes, png_bytes
from tests.integration.test_posts_comments_services import sql

pytestmark = pytest.mark.integration


@pytest.fixture
def users(service_config, serve, migrated):
    migrated("users")
    return serve(UsersService, service_config)


def signup(users, name):
    return users.register({"username": name, "email": f"{name}@example.com",
                           "password": "password1"})


def updates(config, user_id):
    """The user.updated payloads in the users outbox for this user, oldest first."""
    bodies = sql(config, "users", "SELECT body FROM outbox WHERE event_key = %s AND"
                                  " event_type = 'user.updated' ORDER BY id", (str(user_id),))
    return [json.loads(body)["payload"] for (body,) in bodies]


def put_upload(config, data):
    folder = upload_dir(config)
    os.makedirs(folder, exist_ok=True)
    name = new_upload_name()
    with open(os.path.join(folder, name), "wb") as fh:
        fh.write(data)
    return name, os.path.join(folder, name)


def test_update_commits_the_change_with_its_event_and_a_no_op_sends_none(users, config, unique):
    user = signup(users, f"pu_{unique}")
    me = users.update_me(user["id"], {"bio": " hi ", "first_name": "", "username": "evil"})
    assert (me["bio"], me["username"], me["email"], me["is_admin"]) == (
        "hi", user["username"], user["email"], False)
    users.update_me(user["id"], {"bio": "hi"})
    users.update_me(user["id"], {"email": f"new_{unique}@example.com", "last_name": "L"})
    assert updates(config, user["id"]) == [
        {"user_id": user["id"], "username": user["username"], "fields": ["bio"], "avatar": None},
        {"user_id": user["id"], "username": user["username"], "fields": ["last_name", "email"],
         "avatar": None}]
    assert users.get_me(user["id"])["email"] == f"new_{unique}@example.com"
    assert users.get_profile(user["id"])["bio"] == "hi"


def test_update_errors(users, unique):
    user = signup(users, f"pe_{unique}")
    with pytest.raises(BadRequest) as err:
        users.update_me(user["id"], {"bio": None})
    assert err.value.code == "missing_fields"
    with pytest.raises(UserNotFound):
        users.update_me(10**12, {"bio": "x"})
    with pytest.raises(UserNotFound):
        users.get_me("1")


def test_two_users_racing_for_one_email_get_one_success(users, service_config, unique):
    racers = [signup(users, f"pr{i}_{unique}") for i in range(4)]
    wanted = f"wanted_{unique}@example.com"

    def attempt(user):
        with ServiceRpcProxy("users", service_config, timeout=10) as proxy:
            try:
                return proxy.update_me(user["id"], {"email": wanted})["email"]
            except UserAlreadyExists as exc:
                return exc.fields

    outcomes = list(eventlet.GreenPool(4).imap(attempt, racers))
    assert sorted(map(str, outcomes)) == sorted(
        [wanted] + [str({"email": "A user with this email already exists."})] * 3)


def test_avatar_replaced_and_removed_leaves_only_the_current_file(users, config, unique):
    user = signup(users, f"pa_{unique}")
    upload, path = put_upload(config, jpeg_bytes((600, 300), gps=True))
    first = users.set_avatar(user["id"], upload)["avatar_url"].rsplit("/", 1)[1]
    assert not os.path.exists(path) and first.endswith("_avatar.jpg")
    second = users.set_avatar(user["id"], put_upload(config, png_bytes())[0])["avatar_url"]
    second = second.rsplit("/", 1)[1]
    root = media_root(config)
    assert os.path.exists(os.path.join(root, second))
    assert not os.path.exists(os.path.join(root, first))
    users.remove_avatar(user["id"])
    users.remove_avatar(user["id"])
    assert not os.path.exists(os.path.join(root, second))
    assert [(p["fields"], p["avatar"]) for p in updates(config, user["id"])] == [
        (["avatar"], first), (["avatar"], second), (["avatar"], None)]


def test_an_avatar_that_cannot_be_saved_leaves_no_file(users, config):
    before = set(os.listdir(media_root(config))) if os.path.isdir(media_root(config)) else set()
    upload, path = put_upload(config, png_bytes())
    with pytest.raises(UserNotFound):
        users.set_avatar(10**12, upload)  # processed, then no such user: the file goes again
    assert not os.path.exists(path)
    after = set(os.listdir(media_root(config))) if os.path.isdir(media_root(config)) else set()
    assert {n for n in after - before if "_avatar." in n} == set()
    with pytest.raises(InvalidImage) as err:
        users.set_avatar(1, "../../etc/passwd")
    assert err.value.code == "invalid_upload"
