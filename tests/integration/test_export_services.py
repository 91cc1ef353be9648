"""The export's read RPCs (contract v2 section 6.4) in real nameko containers over real
RabbitMQ and PostgreSQL: only the user's rows, all of them, oldest first, in the shapes of
the API."""
import json
import uuid

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from contracts.schemas import Comment, ExportLike, ExportPost, Notification
from services.comments.service import CommentsService
from services.notifications.service import NotificationsService
from services.posts.service import PostsService
from services.users.service import UsersService
from tests.integration.test_posts_comments_services import sql

pytestmark = pytest.mark.integration


@pytest.fixture
def rpc(service_config, container_factory, migrated):
    config = dict(service_config, max_workers=4)
    for cls in (PostsService, CommentsService, NotificationsService, UsersService):
        migrated(cls.name)
        container_factory(cls, config).start()
    with ClusterRpcProxy(service_config, timeout=15) as proxy:
        yield proxy


def test_posts_likes_and_comments_of_one_user_oldest_first(rpc, unique):
    base = int(unique[:5], 16) * 100 + 1000
    alice = {"id": base + 1, "username": f"a{base}"}
    bob = {"id": base + 2, "username": f"b{base}"}
    first = rpc.posts.create_post({"title": "one", "content": "x"}, alice)
    bobs = rpc.posts.create_post({"title": "bob's", "content": "x"}, bob)
    second = rpc.posts.create_post({"title": "two", "content": "x"}, alice)
    rpc.posts.toggle_like(first["id"], bob)
    rpc.posts.toggle_like(bobs["id"], alice)
    rpc.posts.toggle_like(first["id"], alice)
    rpc.comments.create_comment({"post_id": bobs["id"], "content": "alice's"}, alice)
    rpc.comments.create_comment({"post_id": first["id"], "content": "bob's"}, bob)

    posts = rpc.posts.posts_of_author(alice["id"])
    assert [p["id"] for p in posts] == [first["id"], second["id"]]
    assert [like["user_id"] for like in posts[0]["likes"]] == [bob["id"], alice["id"]]
    assert posts[0]["likes_count"] == 2 and posts[1]["likes"] == []
    for post in posts:
        ExportPost.model_validate_json(json.dumps(post))  # as the gateway sends it
        assert (post["removed"], post["removed_reason"]) == (False, None)

    likes = rpc.posts.likes_of_user(alice["id"])
    assert [like["post_id"] for like in likes] == [bobs["id"], first["id"]]
    for like in likes:
        ExportLike.model_validate_json(json.dumps(like))  # as the gateway sends it

    comments = rpc.comments.comments_of_author(alice["id"])
    assert [(c["content"], c["post_id"]) for c in comments] == [("alice's", bobs["id"])]
    Comment.model_validate_json(json.dumps(comments[0]))  # as the gateway sends it

    for method in (rpc.posts.posts_of_author, rpc.posts.likes_of_user,
                   rpc.comments.comments_of_author, rpc.notifications.notifications_of_user):
        assert method(base + 3) == []          # a user with nothing
        assert method("1; DROP TABLE x") == []  # not an id: nothing, not an error


def test_a_users_likes_are_found_by_index(rpc, service_config):
    rows = sql(service_config, "posts", "SELECT indexdef FROM pg_indexes WHERE indexname = 'likes_user'")
    assert rows and "(user_id, created_at)" in rows[0][0]


def test_notifications_of_one_user_oldest_first(rpc, service_config, unique):
    user, other = int(unique[:5], 16) * 100 + 1000 + 1, int(unique[:5], 16) * 100 + 1000 + 2
    for who, message in ((user, "first"), (other, "not hers"), (user, "second")):
        sql(service_config, "notifications",
            "INSERT INTO notifications (user_id, type, message, data, read, source_event_id) "
            "VALUES (%s, 'SYSTEM', %s, '{\"actor_id\": null}', false, %s)",
            (who, message, str(uuid.uuid4())))
    found = rpc.notifications.notifications_of_user(user)
    assert [n["message"] for n in found] == ["first", "second"]
    for notification in found:
        Notification.model_validate_json(json.dumps(notification))  # as the gateway sends it


def test_me_is_the_profile_with_email_and_the_stored_admin_flag(rpc, unique):
    name = f"me_{unique}"
    registered = rpc.users.register({"username": name, "email": f"{name}@example.com",
                                     "password": "password1"})
    me = rpc.users.get_me(registered["id"])
    assert me == {"id": registered["id"], "username": name, "first_name": "", "last_name": "",
                  "bio": "", "avatar_url": None, "created_at": registered["created_at"],
                  "email": f"{name}@example.com", "is_admin": False}
    rpc.users.set_admin(name)
    assert rpc.users.get_me(registered["id"])["is_admin"] is True
