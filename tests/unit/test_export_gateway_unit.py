"""GET /api/users/me/export/ at the gateway (contract v2 section 6.4), with a fake RPC
client: one rpc.many over every source, the document's shape, the download headers."""
import falcon.testing
import pytest

from contracts.schemas import Export
from gateway.app import create_app
from imageboard.tokens import issue_token
from tests.unit.gateway_fakes import CONFIG, FakeRpc

ME = {"id": 7, "username": "alice", "first_name": "A", "last_name": "", "bio": "",
      "avatar_url": None, "email": "a@example.com", "created_at": "2026-11-01T09:00:00+00:00",
      "is_admin": False}
POST = {"id": 3, "title": "t", "content": "c", "image_url": "/media/x.png",
        "author": {"id": 7, "username": "alice", "avatar_url": None}, "created_at": "2026-11-02T09:00:00+00:00",
        "updated_at": "2026-11-02T09:00:00+00:00", "edited": False,
        "likes": [{"user_id": 8, "username": "bob"}],
        "likes_count": 1, "comments_count": 0, "removed": False, "removed_reason": None}
COMMENT = {"id": 5, "post_id": 3, "author": {"id": 7, "username": "alice", "avatar_url": None}, "content": "hi",
           "created_at": "2026-11-02T10:00:00+00:00", "updated_at": "2026-11-02T10:00:00+00:00",
           "parent": None, "edited": False, "is_deleted": False, "removed": False}
NOTIFICATION = {"id": 9, "type": "LIKE", "message": "bob liked", "data": {"post_id": 3, "actor_id": 8},
                "read": False, "created_at": "2026-11-02T11:00:00+00:00"}


class BatchRpc(FakeRpc):
    def __init__(self):
        super().__init__()
        self.batches = []

    def many(self, calls):
        self.batches.append([(c.service, c.method, c.args, c.write) for c in calls])
        return super().many(calls)


@pytest.fixture
def gateway_config():
    return dict(CONFIG, SERVICES=["users", "posts", "comments", "notifications"])


@pytest.fixture
def rpc():
    rpc = BatchRpc()
    rpc.answers = {("users", "get_me"): ME, ("posts", "count_by_author"): 1,
                   ("comments", "count_by_author"): 1,
                   ("posts", "posts_of_author"): lambda uid: [dict(POST)],
                   ("posts", "likes_of_user"): [{"post_id": 3, "created_at": "2026-11-02T12:00:00+00:00"}],
                   ("comments", "comments_of_author"): [COMMENT],
                   ("notifications", "notifications_of_user"): [NOTIFICATION]}
    return rpc


def auth(user_id=7):
    return {"Authorization": "Bearer " + issue_token(CONFIG, user_id, "alice", False)}


def test_the_export_asks_every_source_at_once_and_answers_a_download(client, rpc):
    resp = client.simulate_get("/api/users/me/export/", headers=auth())
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Content-Disposition"] == 'attachment; filename="imageboard-export-7.json"'
    assert rpc.batches == [[
        ("users", "get_me", (7,), False), ("posts", "count_by_author", (7,), False),
        ("comments", "count_by_author", (7,), False), ("posts", "posts_of_author", (7,), False),
        ("comments", "comments_of_author", (7,), False), ("posts", "likes_of_user", (7,), False),
        ("notifications", "notifications_of_user", (7,), False)]]
    body = resp.json
    Export.model_validate_json(resp.text)  # the OpenAPI schema's model, closed
    assert body["profile"] == dict(ME, posts_count=1, comments_count=1, ban=None)
    assert body["posts"][0]["image_url"] == "http://falconframework.org/media/x.png"
    assert (body["comments"], body["notifications"], body["reports"]) == ([COMMENT], [NOTIFICATION], [])
    assert body["likes"] == [{"post_id": 3, "created_at": "2026-11-02T12:00:00+00:00"}]
    assert resp.headers["X-RateLimit-Limit"] == "5" and resp.headers["X-RateLimit-Remaining"] == "4"


def test_a_service_not_deployed_gives_an_empty_list(rpc, limiter):
    app = create_app(dict(CONFIG, SERVICES=["users", "posts", "comments"]), rpc=rpc, limiter=limiter)
    body = falcon.testing.TestClient(app).simulate_get("/api/users/me/export/", headers=auth()).json
    assert body["notifications"] == [] and body["comments"] == [COMMENT]
    assert ("notifications", "notifications_of_user", (7,)) not in rpc.calls


def test_the_export_needs_a_user_and_is_limited_to_5_per_hour(client, rpc):
    assert client.simulate_get("/api/users/me/export/").status_code == 401
    statuses = [client.simulate_get("/api/users/me/export/", headers=auth()).status_code
                for _ in range(6)]
    assert statuses == [200] * 5 + [429]
